"""TF-SAME 3-D max-pool whose CPU gradient is a compiled kernel (src/ops/maxpool3d_grad.cc).

The forward pass is always MindSpore's nn.MaxPool3d, so inference and exported MINDIR/ONNX graphs hold only standard
operators; only the backward pass differs, and gives MindSpore's MaxPool3DGrad result exactly (first maximum in
(d, h, w) order wins). MindSpore 2.10's CPU MaxPool3DGrad takes about a third of an I3D training step.
"""
import mindspore as ms
import numpy as np
from mindspore import nn, ops

from src.ops.library import library_path


class MaxPool3dSame(nn.MaxPool3d):
    """nn.MaxPool3d(kernel, stride, pad_mode="same") for 5-D input with the compiled gradient of the library at
    `library`; a subclass, so code that reads a pool's kernel_size/stride/pad_mode sees the same cell."""

    def __init__(self, kernel, stride, library):
        super().__init__(kernel_size=kernel, stride=stride, pad_mode="same")
        self.pool_config = ms.Tensor(np.array(tuple(kernel) + tuple(stride), np.int64))
        self.gradient_kernel = ops.Custom(f"{library}:MaxPool3dSameGrad", out_shape=lambda x, dy, config: x,
                                          out_dtype=lambda x, dy, config: ms.float32, func_type="aot")

    def bprop(self, x, out, dout):
        if x.dtype == ms.float32:
            return (self.gradient_kernel(x, dout, self.pool_config),)
        # AMP (float16 activations): the kernel is float32 only.
        return (self.gradient_kernel(x.astype(ms.float32), dout.astype(ms.float32),
                                     self.pool_config).astype(x.dtype),)


def max_pool_3d_same(kernel, stride):
    """A TF-SAME 3-D max-pool: MaxPool3dSame on CPU when its library is built, else nn.MaxPool3d (GPU, Ascend and
    CPUs without the library). The device is read when the network is built, so set it first."""
    kernel, stride = tuple(kernel), tuple(stride)
    library = library_path("pool") if ms.get_context("device_target") == "CPU" else None
    if library is None:
        return nn.MaxPool3d(kernel_size=kernel, stride=stride, pad_mode="same")
    return MaxPool3dSame(kernel, stride, library)
