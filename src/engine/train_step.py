"""One train-step builder for every model: softmax cross-entropy, mixed precision (AMP) and gradient clipping."""
import mindspore as ms
from mindspore import nn, ops

from src.engine.parallel import data_parallel


_square_sum = ops.MultitypeFuncGraph("square_sum")
_scale = ops.MultitypeFuncGraph("scale")
_hyper_map = ops.HyperMap()


# MindSpore's CPU sum over a flat tensor of this many elements or more splits it over threads and adds their partial
# sums in the order they finish, so the same gradients can give another norm in another step or process.
_SERIAL_SUM_LIMIT = 200_000
_ROW = 4096


@_square_sum.register("Tensor")
def _tensor_square_sum(grad):
    """Sum of squares in an order fixed by the shape alone: one serial sum up to _SERIAL_SUM_LIMIT elements (as
    ops.clip_by_global_norm's), otherwise the serial sum of zero-padded rows' serial sums, one thread per row."""
    flat = ops.square(grad.reshape(-1))
    size = flat.shape[0]
    if size < _SERIAL_SUM_LIMIT:
        return ops.reduce_sum(flat).astype(ms.float32)
    if size % _ROW:
        flat = ops.pad(flat, (0, _ROW - size % _ROW))
    return ops.reduce_sum(ops.reduce_sum(flat.reshape(-1, _ROW), 1)).astype(ms.float32)


@_scale.register("Tensor", "Tensor")
def _tensor_scale(scale, grad):
    return grad * scale.astype(grad.dtype)


def clip_factor(grads, clip_norm):
    """clip_norm / the global L2 norm of `grads` where that norm reaches clip_norm, else 1 (a float32 scalar)."""
    norm = ops.sqrt(ops.addn(_hyper_map(_square_sum, grads)))
    clip = ms.Tensor(clip_norm, ms.float32)
    return clip / ops.select(norm >= clip, norm, clip)


def clip_by_global_norm(grads, clip_norm):
    """ops.clip_by_global_norm's clipping without its CPU costs, deterministic across steps and processes.

    Each gradient is scaled by clip_norm / norm where the global L2 norm reaches clip_norm, and kept as it is where it
    does not. MindSpore's CPU sum over every axis of an N-D tensor is ~5x slower than over flat rows and its kernels
    held ~0.6 GB for ECO-lite's gradients; its per-tensor `x * clip_norm / norm` makes two passes (one a slow Div)
    where one multiplication by the ratio does. The norm is ops.clip_by_global_norm's up to the order of additions in
    gradients of 200,000 or more elements, and the ratio differs from clip_norm / norm by at most one rounding.
    """
    return scale_gradients(grads, clip_factor(grads, clip_norm))


def scale_gradients(grads, factor):
    return _hyper_map(ops.partial(_scale, factor), grads)


class TrainStep(nn.Cell):
    """One optimizer step: loss and gradients, the gradient mean over ranks (data parallel), clipping to a global norm
    (ECO-pytorch's clip_gradient), then the update. Returns the loss of this rank's batch.

    Averaging comes before clipping, so every rank clips the same gradient and the ranks stay identical. With a
    `loss_scaler` (mindspore.amp.DynamicLossScaler, for fp16 on GPU/Ascend) the loss is scaled before the backward
    pass, the gradients unscaled before clipping, and a step whose gradients overflow is skipped.
    """

    def __init__(self, network_with_loss, optimizer, clip_norm, loss_scaler=None):
        super().__init__(auto_prefix=False)
        self.network = network_with_loss
        self.network.set_grad()
        self.optimizer = optimizer
        self.weights = optimizer.parameters
        self.scaled = loss_scaler is not None
        self.loss_scaler = loss_scaler
        forward = self._scaled_forward if self.scaled else self.network
        self.grad_fn = ops.value_and_grad(forward, None, self.weights, has_aux=self.scaled)
        self.clip = clip_norm > 0
        self.clip_norm = float(clip_norm)
        # An optimizer that applies the clipping factor in its own pass (MomentumSGD) spares a scaled copy of every
        # gradient.
        self.folds_factor = self.clip and getattr(optimizer, "takes_clip_factor", False)
        self.reduce = data_parallel()
        if self.reduce:
            from mindspore.communication import get_group_size

            self.reducer = nn.DistributedGradReducer(self.weights, mean=True, degree=get_group_size())

    def _scaled_forward(self, data, label):
        loss = self.network(data, label)
        return self.loss_scaler.scale(loss), loss

    def construct(self, data, label):
        if not self.scaled:
            loss, grads = self.grad_fn(data, label)
        else:
            (_, loss), grads = self.grad_fn(data, label)
            grads = self.loss_scaler.unscale(grads)
        if self.reduce:
            grads = self.reducer(grads)
        factor = clip_factor(grads, self.clip_norm) if self.clip else None
        if self.clip and not self.folds_factor:
            grads = scale_gradients(grads, factor)
        if not self.scaled:
            self._update(grads, factor)
        else:
            finite = ms.amp.all_finite(grads)
            self.loss_scaler.adjust(finite)
            if finite:
                self._update(grads, factor)
        return loss

    def _update(self, grads, factor):
        if self.folds_factor:
            return self.optimizer(grads, factor)
        return self.optimizer(grads)


def uses_loss_scaling(amp_level, device_target):
    """fp16 really runs only on GPU/Ascend; on CPU MindSpore computes it in fp32 and refuses dynamic loss scaling."""
    return amp_level != "O0" and device_target != "CPU"


def build_train_step(network, optimizer, amp_level="O0", clip_norm=0.0, device_target="CPU"):
    """Network + softmax cross-entropy (batch mean) + optimizer in one cell returning the loss.

    Without clipping this is MindSpore's own AMP train network (ms.amp.build_train_network, dynamic loss scaling where
    fp16 runs); with clipping (clip_norm > 0) it is TrainStep on the AMP-cast network. Gradients are averaged over
    ranks when the data-parallel context is set.
    """
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    scaled = uses_loss_scaling(amp_level, device_target)
    if clip_norm <= 0:
        scale = ms.amp.DynamicLossScaleManager() if scaled else None
        return ms.amp.build_train_network(network, optimizer, loss, level=amp_level, loss_scale_manager=scale)
    if amp_level != "O0":
        network = ms.amp.auto_mixed_precision(network, amp_level)
    scaler = ms.amp.DynamicLossScaler(scale_value=2.0 ** 16, scale_factor=2, scale_window=1000) if scaled else None
    return TrainStep(nn.WithLossCell(network, loss), optimizer, clip_norm, scaler)
