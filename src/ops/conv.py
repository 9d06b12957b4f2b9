"""Convolutions whose CPU training pass runs the compiled kernels of src/ops/conv3d.cc (im2col + OpenBLAS sgemm).

In training mode with float32 input, forward and both gradients are the compiled kernels; in inference mode, under
mixed precision, and in every exported MINDIR/ONNX graph the layer is MindSpore's own nn.Conv3d/nn.Conv2d (the
subclass keeps its parameters, names and initialisation). Results agree with MindSpore's to float32 rounding.
"""
import mindspore as ms
import numpy as np
from mindspore import nn, ops

from src.ops.library import cpu_library

SAME = -1  # the config's padding slot that asks the kernel for TF "SAME" padding


def _output_size(size, kernel, stride, before, after):
    if before == SAME:
        return -(-size // stride)
    return (size + before + after - kernel) // stride + 1


def _compiled_conv(library, out_channels, kernel, stride, padding):
    """(config tensor, forward op) of one layer's geometry; the forward op's bprop runs the two gradient kernels."""
    config = ms.Tensor(np.array(tuple(kernel) + tuple(stride) + tuple(padding), np.int64))

    def output_shape(x, w, _config):
        sizes = [_output_size(x[2 + axis], kernel[axis], stride[axis], padding[2 * axis], padding[2 * axis + 1])
                 for axis in range(3)]
        return [x[0], out_channels, *sizes]

    grad_input = ops.Custom(f"{library}:Conv3dGradInput", out_shape=lambda dy, w, x, c: x,
                            out_dtype=lambda dy, w, x, c: x, func_type="aot")
    grad_filter = ops.Custom(f"{library}:Conv3dGradFilter", out_shape=lambda x, dy, w, c: w,
                             out_dtype=lambda x, dy, w, c: w, func_type="aot")

    def bprop(x, w, config, out, dout):
        return grad_input(dout, w, x, config), grad_filter(x, dout, w, config), ops.zeros_like(config)

    forward = ops.Custom(f"{library}:Conv3dForward", out_shape=output_shape, out_dtype=lambda x, w, c: x,
                         func_type="aot", bprop=bprop)
    return config, forward


class CompiledConv3d(nn.Conv3d):
    """nn.Conv3d (no dilation, one group, pad_mode 'same' or 'pad') trained with the compiled kernels."""

    def __init__(self, library, in_channels, out_channels, kernel_size, stride=1, pad_mode="same", padding=0,
                 **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, stride, pad_mode=pad_mode, padding=padding,
                         **kwargs)
        pads = (SAME,) * 6 if pad_mode == "same" else _per_side(padding, 6)
        self.kernel_config, self.compiled_forward = _compiled_conv(library, out_channels, self.kernel_size,
                                                                   self.stride, pads)

    def construct(self, x):
        if not self.training or x.dtype != ms.float32:
            return super().construct(x)
        y = self.compiled_forward(x, self.weight, self.kernel_config)
        return ops.bias_add(y, self.bias) if self.has_bias else y


class CompiledConv2d(nn.Conv2d):
    """nn.Conv2d (no dilation, one group, pad_mode 'same' or 'pad') trained with the compiled kernels as a
    convolution of depth 1."""

    def __init__(self, library, in_channels, out_channels, kernel_size, stride=1, pad_mode="same", padding=0,
                 **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, stride, pad_mode=pad_mode, padding=padding,
                         **kwargs)
        pads = (SAME,) * 6 if pad_mode == "same" else (0, 0) + _per_side(padding, 4)
        self.kernel_config, self.compiled_forward = _compiled_conv(library, out_channels, (1,) + self.kernel_size,
                                                                   (1,) + self.stride, pads)

    def construct(self, x):
        if not self.training or x.dtype != ms.float32:
            return super().construct(x)
        y = self.compiled_forward(x.expand_dims(2), self.weight.expand_dims(2), self.kernel_config).squeeze(2)
        return ops.bias_add(y, self.bias) if self.has_bias else y


def _per_side(padding, sides):
    """nn.Conv's padding (an int or a tuple of before/after per axis) as a tuple of `sides` values."""
    return (padding,) * sides if isinstance(padding, int) else tuple(padding)


def _compiled_library(kwargs):
    """The kernels' library when this layer can use it: CPU, no dilation or groups, and the library built."""
    if kwargs.get("group", 1) != 1 or kwargs.get("dilation", 1) != 1:
        return None
    return cpu_library("conv")


def conv3d(in_channels, out_channels, kernel_size, stride=1, **kwargs):
    """nn.Conv3d, trained with the compiled kernels on CPU where they are built. Set the device first."""
    library = _compiled_library(kwargs)
    if library is None:
        return nn.Conv3d(in_channels, out_channels, kernel_size, stride, **kwargs)
    return CompiledConv3d(library, in_channels, out_channels, kernel_size, stride, **kwargs)


def conv2d(in_channels, out_channels, kernel_size, stride=1, **kwargs):
    """nn.Conv2d, trained with the compiled kernels on CPU where they are built. Set the device first."""
    library = _compiled_library(kwargs)
    if library is None:
        return nn.Conv2d(in_channels, out_channels, kernel_size, stride, **kwargs)
    return CompiledConv2d(library, in_channels, out_channels, kernel_size, stride, **kwargs)
