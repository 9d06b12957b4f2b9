"""Layers the networks share: a dropout whose mask is a pure function of (seed, training step, rank, layer, element).

Why not mindspore.nn.Dropout: MindSpore 2.10's CPU Dropout kernel draws its mask from one std::default_random_engine
per kernel, seeded once when the kernel is built, and ParallelLaunchAutoSearch splits each launch over threads that
share that engine unsynchronised (single-threaded for the first 5 launches, then timed trials and a split chosen by
speed). From the 6th call on, a mask depends on thread timing, so two runs with the same --seed drift apart; and the
engine restarts from the seed in every new process, so a resumed run replays epoch 1's masks at epoch k.

SeededDropout hashes the element index with a key the training loop sets before each step (set_dropout_step), using
uint32 tensor ops only (multiply, xor, right shift: exact and deterministic on CPU in GRAPH and PYNATIVE mode).
"""
import mindspore as ms
import numpy as np
from mindspore import Parameter, Tensor, nn, ops

MASK32 = 0xFFFFFFFF
GOLDEN = 0x9E3779B9                 # 2^32 / golden ratio, odd: multiplying by it permutes the 32-bit words
MIX_MULTIPLIERS = (0x7FEB352D, 0x846CA68B)
KEEP_BITS = 24                      # the keep test uses a hash's top 24 bits, exact in float32 too


def mix32(value):
    """lowbias32 (C. Wellons' integer hash): a bijection of the 32-bit words with full avalanche."""
    value &= MASK32
    value ^= value >> 16
    value = value * MIX_MULTIPLIERS[0] & MASK32
    value ^= value >> 15
    value = value * MIX_MULTIPLIERS[1] & MASK32
    return value ^ value >> 16


def dropout_key(seed, step, rank=0):
    """The 32-bit key of one training step: (seed, step, rank), each taken modulo 2^64, absorbed word by word."""
    key = 0
    for value in (seed, step, rank):
        for word in (value & MASK32, value >> 32 & MASK32):
            key = mix32((key ^ word) + GOLDEN)
    return key


# The key of the current step, shared by every SeededDropout. It is a Parameter so that compiled graphs read its value
# at run time (a plain tensor would be frozen into the graph), but no cell registers it: checkpoints and parameter
# lists stay exactly those of the published networks.
DROPOUT_KEY = Parameter(Tensor(np.zeros(1, np.uint32)), name="seeded_dropout_key", requires_grad=False)


def set_dropout_step(step, rank=0, seed=None):
    """Key the masks of the next training step. `seed` defaults to MindSpore's global seed (mindspore.set_seed, which
    init_context sets from --seed; 0 when none was set); `rank` gives each data-parallel rank its own masks."""
    if seed is None:
        seed = ms.get_seed() or 0
    DROPOUT_KEY.set_data(Tensor(np.array([dropout_key(seed, step, rank)], np.uint32)))


class SeededDropout(nn.Cell):
    """Inverted dropout (kept values divided by 1 - p) whose training-mode mask depends only on DROPOUT_KEY and `layer`;
    the identity in inference mode, so evaluation and exported graphs are those of nn.Dropout.

    `layer` tells a network's dropout layers apart (give each a different one). Element i of the flattened input is
    kept when the top 24 bits of mix32(i * GOLDEN + mix32(key ^ layer salt)) are below (1 - p) * 2^24.
    """

    # A class attribute: Cell.__setattr__ would register an instance attribute as this cell's parameter (see
    # DROPOUT_KEY), and construct cannot read the module global, which AMP O1's rewrite of this class drops.
    key = DROPOUT_KEY

    def __init__(self, p=0.5, layer=0):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability p must be in [0, 1), got {p}")
        self.p = p
        self.scale = 1.0 / (1.0 - p)
        self.shift = 32 - KEEP_BITS
        # uint32 constants as tensors: GRAPH mode has no uint32 multiply by a Python int.
        words = {"salt": mix32(GOLDEN * (layer + 1)), "golden": GOLDEN, "mul0": MIX_MULTIPLIERS[0],
                 "mul1": MIX_MULTIPLIERS[1], "threshold": round((1.0 - p) * 2 ** KEEP_BITS)}
        for name, value in words.items():
            setattr(self, name, Tensor(np.array(value, np.uint32)))

    def mix(self, x):
        """mix32 on a uint32 tensor."""
        x = ops.bitwise_xor(x, ops.bitwise_right_shift(x, 16)) * self.mul0
        x = ops.bitwise_xor(x, ops.bitwise_right_shift(x, 15)) * self.mul1
        return ops.bitwise_xor(x, ops.bitwise_right_shift(x, 16))

    def construct(self, x):
        if not self.training or self.p == 0:
            return x
        layer_key = self.mix(ops.bitwise_xor(self.key, self.salt))
        index = ops.cast(ops.arange(0, x.size, dtype=ms.int32), ms.uint32)
        bits = self.mix(index * self.golden + layer_key)
        keep = ops.bitwise_right_shift(bits, self.shift) < self.threshold
        return x * ops.cast(keep.reshape(x.shape), x.dtype) * self.scale

    def extend_repr(self):
        return f"p={self.p}"
