"""Data-parallel helpers: whether the data-parallel context is set, and rank 0's values on every rank."""
import numpy as np
import mindspore as ms
from mindspore import nn, ops
from mindspore.context import ParallelMode

DATA_PARALLEL_MODES = (ParallelMode.DATA_PARALLEL, ParallelMode.HYBRID_PARALLEL)


def data_parallel():
    return ms.get_auto_parallel_context("parallel_mode") in DATA_PARALLEL_MODES


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
