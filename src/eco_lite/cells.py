"""MindSpore cells of ECO-lite training: the train step, and rank 0's metrics for every rank."""
import numpy as np
import mindspore as ms
from mindspore import nn, ops
from mindspore.context import ParallelMode

DATA_PARALLEL_MODES = (ParallelMode.DATA_PARALLEL, ParallelMode.HYBRID_PARALLEL)


def _data_parallel():
    return ms.get_auto_parallel_context("parallel_mode") in DATA_PARALLEL_MODES


class TrainStep(nn.Cell):
    """One optimizer step: loss and gradients, the gradient mean over ranks (data parallel), clipping to a global norm
    (ECO-pytorch's clip_gradient; 0 disables it), then the update. Returns the loss of this rank's batch.

    Averaging comes before clipping, so every rank clips the same gradient and the ranks stay identical.
    """

    def __init__(self, network_with_loss, optimizer, clip_norm=0.0):
        super().__init__(auto_prefix=False)
        self.network = network_with_loss
        self.network.set_grad()
        self.optimizer = optimizer
        self.weights = optimizer.parameters
        self.grad_fn = ops.value_and_grad(self.network, None, self.weights)
        self.clip = clip_norm > 0
        self.clip_norm = float(clip_norm)
        self.reduce = _data_parallel()
        if self.reduce:
            from mindspore.communication import get_group_size

            self.reducer = nn.DistributedGradReducer(self.weights, mean=True, degree=get_group_size())

    def construct(self, data, label):
        loss, grads = self.grad_fn(data, label)
        if self.reduce:
            grads = self.reducer(grads)
        if self.clip:
            grads = ops.clip_by_global_norm(grads, self.clip_norm)
        self.optimizer(grads)
        return loss


class _AllReduceSum(nn.Cell):
    def __init__(self):
        super().__init__()
        self.all_reduce = ops.AllReduce()

    def construct(self, values):
        return self.all_reduce(values)


class RankZeroValues:
    """{name: float} -> rank 0's values on every rank, bit for bit.

    A sum over ranks to which only rank 0 contributes, of the float64 values' bits cut into 16-bit pieces held as
    float32 (exact): AllReduce on CPU takes only float16/float32, and float32 values would round the metrics.
    """

    def __init__(self):
        from mindspore.communication import get_rank

        self.rank = get_rank()
        self.sum = _AllReduceSum()

    def __call__(self, values):
        names = list(values)
        mine = np.array([values[name] if self.rank == 0 else 0.0 for name in names], np.float64)
        pieces = self.sum(ms.Tensor(mine.view(np.uint16).astype(np.float32))).asnumpy()
        shared = np.rint(pieces).astype(np.uint16).view(np.float64)
        return {name: float(value) for name, value in zip(names, shared)}
