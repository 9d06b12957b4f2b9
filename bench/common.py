"""What the benchmark sections share: the two sizes, the machine description, timing and child processes.

Every measurement that builds a model runs in a child process (`run_child`), so each one starts from a fresh
MindSpore context (GRAPH or PYNATIVE), and its peak resident memory is its own.
"""
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# The seed's sizes (I3D: 64 frames of 224x224; ECO-lite: 4 and 16 segments of 224x224) and a tiny one for the smoke
# test. `frames` is I3D's clip length, `segments` ECO-lite's segment counts, `batches` the training batch sizes.
SIZES = {
    "tiny": {"frames": 8, "crop": 32, "segments": [4], "eco_crop": 64, "batches": [1], "steps": 2,
             "loader_videos": 4, "loader_frames": 12, "frame_short_side": 48},
    "seed": {"frames": 64, "crop": 224, "segments": [4, 16], "eco_crop": 224, "batches": [1, 2], "steps": 3,
             "loader_videos": 8, "loader_frames": 80, "frame_short_side": 256},
}


def package_version(name):
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib():
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30, 1)
    except (ValueError, OSError):
        return None


def openblas_core():
    """The kernels scipy-openblas32 (the compiled convolutions' matrix products) picks here: from the CPU, or from
    OPENBLAS_CORETYPE where that is set."""
    import ctypes

    try:
        import scipy_openblas32
        handle = ctypes.CDLL(str(Path(scipy_openblas32.get_lib_dir()) / scipy_openblas32.get_library(fullname=True)))
    except (ImportError, OSError):
        return None
    handle.scipy_openblas_get_corename.restype = ctypes.c_char_p
    return handle.scipy_openblas_get_corename().decode()


def machine():
    """The machine and the versions that the figures depend on."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: package_version(name) for name in
                     ("mindspore", "numpy", "opencv-contrib-python-headless", "pillow", "onnxruntime",
                                   "scipy-openblas32", "torch")},
        "ONEDNN_MAX_CPU_ISA": os.environ.get("ONEDNN_MAX_CPU_ISA", "AVX2 (set by src.runtime)"),
        "openblas_core": openblas_core(),
    }


def peak_rss_mib():
    """This process's peak resident memory (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def time_calls(function, warmup, repeats):
    """(seconds of the warm-up calls, [seconds of each timed call])."""
    start = time.perf_counter()
    for _ in range(warmup):
        function()
    warm = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return warm, times


def emit(result):
    """A child's answer: one JSON line on stdout, the last line it prints."""
    print(json.dumps(result), flush=True)


def run_child(script, args, timeout=1800):
    """Run bench/<script> with args in a fresh Python; its last stdout line (JSON) as a dict.

    A failure (non-zero exit, time-out, no JSON) is returned as {"error": ...} rather than raised, so one
    configuration that cannot run (e.g. out of memory at the seed's size) does not lose the others.
    """
    command = [sys.executable, str(REPO_ROOT / "bench" / script), *map(str, args)]
    try:
        # Not the repository: MindSpore drops rank_0/ debugging files into the working folder when a graph fails.
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=tempfile.gettempdir())
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        output = (done.stderr or done.stdout).strip().splitlines()
        errors = [line for line in output if "Error" in line.split(":", 1)[0]]  # e.g. "RuntimeError: ..."
        return {"error": f"exit {done.returncode}: " + (errors[-1] if errors else " / ".join(output[-3:]))}
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError:
        return {"error": f"no JSON result: {lines[-1][:200]}"}


def rate(count, seconds):
    return round(count / seconds, 3) if seconds > 0 else None
