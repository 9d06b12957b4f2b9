"""Max-pools whose CPU gradient is a compiled kernel (src/ops/maxpool3d_grad.cc): I3D's TF-SAME 3-D pools and
ECO-lite's VALID 2-D pools (as pools of depth 1).

The forward pass is always MindSpore's nn.MaxPool3d/nn.MaxPool2d, so inference and exported MINDIR/ONNX graphs hold
only standard operators; only the backward pass differs, and gives MindSpore's MaxPool3DGrad/MaxPoolGrad result
exactly (first maximum in (d, h, w) order wins). MindSpore 2.10's CPU MaxPool3DGrad takes about a third of an I3D
training step, its MaxPoolGrad an eighth of an ECO-lite one.
"""
import mindspore as ms
import numpy as np
from mindspore import nn, ops

from src.ops.library import cpu_library


class MaxPool3dSame(nn.MaxPool3d):
    """nn.MaxPool3d(kernel, stride, pad_mode="same") for 5-D input with the compiled gradient of the library at
    `library`; a subclass, so code that reads a pool's kernel_size/stride/pad_mode sees the same cell."""

    def __init__(self, kernel, stride, library):
        super().__init__(kernel_size=kernel, stride=stride, pad_mode="same")
        self.pool_config = _config(kernel, stride, valid=False)
        self.gradient_kernel = _gradient_kernel(library)

    def bprop(self, x, out, dout):
        if x.dtype == ms.float32:
            return (self.gradient_kernel(x, dout, self.pool_config),)
        # AMP (float16 activations): the kernel is float32 only.
        return (self.gradient_kernel(x.astype(ms.float32), dout.astype(ms.float32),
                                     self.pool_config).astype(x.dtype),)


class MaxPool2dValid(nn.MaxPool2d):
    """nn.MaxPool2d(kernel, stride, pad_mode="valid") with the compiled gradient of the library at `library`."""

    def __init__(self, kernel, stride, library):
        super().__init__(kernel_size=kernel, stride=stride, pad_mode="valid")
        self.pool_config = _config((1, kernel, kernel), (1, stride, stride), valid=True)
        self.gradient_kernel = _gradient_kernel(library)

    def bprop(self, x, out, dout):
        if x.dtype == ms.float32:
            return (self.gradient_kernel(x.expand_dims(2), dout.expand_dims(2), self.pool_config).squeeze(2),)
        return (self.gradient_kernel(x.astype(ms.float32).expand_dims(2), dout.astype(ms.float32).expand_dims(2),
                                     self.pool_config).squeeze(2).astype(x.dtype),)


def _config(kernel, stride, valid):
    return ms.Tensor(np.array(tuple(kernel) + tuple(stride) + (int(valid),), np.int64))


def _gradient_kernel(library):
    return ops.Custom(f"{library}:MaxPool3dSameGrad", out_shape=lambda x, dy, config: x,
                      out_dtype=lambda x, dy, config: ms.float32, func_type="aot")


def max_pool_2d_valid(kernel, stride):
    """A VALID 2-D max-pool (square kernel and stride): MaxPool2dValid on CPU when its library is built, else
    nn.MaxPool2d. The device is read when the network is built, so set it first."""
    library = cpu_library("pool")
    if library is None:
        return nn.MaxPool2d(kernel_size=kernel, stride=stride, pad_mode="valid")
    return MaxPool2dValid(kernel, stride, library)


def max_pool_3d_same(kernel, stride):
    """A TF-SAME 3-D max-pool: MaxPool3dSame on CPU when its library is built, else nn.MaxPool3d (GPU, Ascend and
    CPUs without the library). The device is read when the network is built, so set it first."""
    kernel, stride = tuple(kernel), tuple(stride)
    library = cpu_library("pool")
    if library is None:
        return nn.MaxPool3d(kernel_size=kernel, stride=stride, pad_mode="same")
    return MaxPool3dSame(kernel, stride, library)
