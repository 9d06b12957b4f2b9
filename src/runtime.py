"""MindSpore set-up shared by every entry point.

Import this module before anything imports mindspore: on x86 CPUs it caps oneDNN at AVX2, because
with the AVX-512 default MindSpore's CPU convolutions fall back to a reference kernel that is about
100x slower. A value the user exported is left alone.
"""
import os
import platform
import random
import sys
import warnings

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")

if _X86 and "ONEDNN_MAX_CPU_ISA" not in os.environ:
    if "mindspore" in sys.modules:
        warnings.warn("src.runtime was imported after mindspore: ONEDNN_MAX_CPU_ISA=AVX2 comes too late "
                      "and CPU convolutions may run ~100x slower. Import src.runtime first.")
    os.environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"

DEVICE_TARGETS = ("CPU", "GPU", "Ascend")
CONTEXT_MODES = {"gr": "GRAPH_MODE", "py": "PYNATIVE_MODE"}


def set_seed(seed):
    """Seed Python, NumPy, MindSpore and mindspore.dataset together."""
    import numpy as np
    import mindspore as ms
    import mindspore.dataset as ds

    random.seed(seed)
    np.random.seed(seed)
    ms.set_seed(seed)
    ds.config.set_seed(seed)


def init_context(device_target="CPU", context="gr", device_id=None, seed=None, distributed=False):
    """Select device and execution mode; join the process group when distributed.

    Returns (rank_id, group_size); (0, 1) for a single process.
    """
    import mindspore as ms

    if device_target not in DEVICE_TARGETS:
        raise ValueError(f"device_target must be one of {DEVICE_TARGETS}, got {device_target!r}")
    if context not in CONTEXT_MODES:
        raise ValueError(f"context must be 'gr' (graph) or 'py' (pynative), got {context!r}")
    if device_id is None:
        device_id = int(os.environ.get("DEVICE_ID", 0))
    if device_target == "CPU":
        ms.set_device("CPU")
    else:
        ms.set_device(device_target, device_id)
    ms.set_context(mode=getattr(ms, CONTEXT_MODES[context]))
    if seed is not None:
        set_seed(seed)
    if not distributed:
        return 0, 1
    from mindspore.communication import get_group_size, get_rank, init
    from mindspore.context import ParallelMode

    init()
    group_size = get_group_size()
    ms.set_auto_parallel_context(parallel_mode=ParallelMode.DATA_PARALLEL, gradients_mean=True,
                                 device_num=group_size)
    return get_rank(), group_size
