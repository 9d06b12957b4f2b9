"""MindSpore set-up shared by every entry point.

Import this module before anything imports mindspore: on x86 CPUs it caps oneDNN at AVX2, because
with the AVX-512 default MindSpore's CPU convolutions fall back to a reference kernel that is about
100x slower. A value the user exported is left alone. It also keeps large freed blocks in glibc's heap
(keep_large_blocks).
"""
import ctypes
import os
import platform
import random
import sys
import warnings

from src.cli import CONTEXT_MODES, DEVICE_TARGETS, detect_device_target, fail

# Variables that MindSpore's launchers set for every process they start: msrun (GPU, CPU) and the HCCL rank table
# (Ascend); without one of them, joining a process group can only fail.
LAUNCHER_VARIABLES = ("MS_ROLE", "MS_SCHED_HOST", "RANK_TABLE_FILE", "MINDSPORE_HCCL_CONFIG_PATH")
DEVICE_FILES = {"GPU": "NVIDIA GPU (/dev/nvidia*)", "Ascend": "Ascend device (/dev/davinci*)"}

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")

if _X86 and "ONEDNN_MAX_CPU_ISA" not in os.environ:
    if "mindspore" in sys.modules:
        warnings.warn("src.runtime was imported after mindspore: ONEDNN_MAX_CPU_ISA=AVX2 comes too late "
                      "and CPU convolutions may run ~100x slower. Import src.runtime first.")
    os.environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_LARGE_BLOCK_LIMIT = 1 << 30


def keep_large_blocks():
    """Let glibc reuse freed blocks of up to 1 GiB instead of unmapping them.

    By default blocks over 32 MiB are mapped fresh and unmapped on free, so every I3D clip (64x224x224x3 float32
    is 38.5 MiB) page-faults its memory anew, which made the loader up to 2x slower (docs/benchmarks.md). Peak
    memory is unchanged. Does nothing where glibc's mallopt is missing (e.g. musl, macOS); MALLOC_MMAP_THRESHOLD_
    in the environment wins.
    """
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, _LARGE_BLOCK_LIMIT)) and \
        bool(libc.mallopt(_M_TRIM_THRESHOLD, _LARGE_BLOCK_LIMIT))


keep_large_blocks()



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
    if device_target != "CPU" and detect_device_target((device_target,)) != device_target:
        fail(f"--device_target {device_target}: this machine has no {DEVICE_FILES[device_target]}; run on CPU "
             f"(--device_target CPU, or leave it out to use what the machine has)")
    if distributed and not any(name in os.environ for name in LAUNCHER_VARIABLES):
        fail("distributed training needs its processes started by a launcher: bash scripts/run_distribute_train.sh "
             "(I3D) or bash scripts/eco_lite/run_distribute_train.sh (ECO-lite), which run msrun on GPU/CPU and one "
             "process per device with the HCCL rank table on Ascend")
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
