"""ECO-lite's SGD step as one compiled in-place pass per parameter on CPU (src/ops/momentum_sgd.cc)."""
import mindspore as ms
from mindspore import ops

from src.ops.library import cpu_library


def compiled_momentum_update():
    """ops.Custom(parameter, accum, gradient, learning_rate, factor, config) -> one-element float32 output, or None
    where the compiled kernel cannot run (not on CPU, library not built).

    The kernel writes the parameter and its buffer through its inputs. Marked as writing memory, it joins MindSpore's
    order of side effects as ApplyMomentum does, after the reads written before it; the caller still makes it wait
    for every gradient, since MindSpore is not told which inputs it writes. The device is read when the optimizer is
    built, so set it first."""
    library = cpu_library("optimizer")
    if library is None:
        return None
    kernel = ops.Custom(f"{library}:MomentumSgdUpdate", out_shape=lambda p, a, g, lr, factor, config: [1],
                        out_dtype=lambda p, a, g, lr, factor, config: ms.float32, func_type="aot")
    kernel.add_prim_attr("side_effect_mem", True)
    return kernel
