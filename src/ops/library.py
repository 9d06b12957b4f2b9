"""Where the compiled kernels of src/ops live and whether they can be used: the file work kept out of networks."""
import functools
import os
import warnings
from collections import namedtuple
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parent
BUILD_DIR = SOURCE_DIR.parents[1] / "build" / "ops"
ENV_VARIABLE = "MS_VIDEO_OPS_LIBRARY"  # a folder to use instead of build/ops, or "off" to use MindSpore's kernels

Library = namedtuple("Library", "file sources needs_blas without")
LIBRARIES = {
    "pool": Library("libms_video_ops.so", (SOURCE_DIR / "maxpool3d_grad.cc",), False,
                    "3-D max-pool gradients use MindSpore's CPU kernel, which makes an I3D training step about 1.5x "
                    "slower"),
    "conv": Library("libms_video_conv.so", (SOURCE_DIR / "conv3d.cc",), True,
                    "convolutions are trained with MindSpore's CPU kernels, which make training steps up to 1.6x "
                    "slower on AVX-512 CPUs"),
    "optimizer": Library("libms_video_optim.so", (SOURCE_DIR / "momentum_sgd.cc",), False,
                         "ECO-lite's SGD steps run as MindSpore's ApplyMomentum and ApplyGradientDescent, which make "
                         "its training steps up to 1.2x slower"),
}


def blas_record(path):
    """The file beside a library that names the OpenBLAS library it was built against."""
    return Path(f"{path}.blas")


def default_library_path(kind):
    return BUILD_DIR / LIBRARIES[kind].file


@functools.lru_cache(maxsize=None)
def library_path(kind):
    """The library of `kind` (a LIBRARIES key) as an absolute path string, or None (with one warning saying why)
    when it is missing, older than its sources, or switched off."""
    library = LIBRARIES[kind]
    chosen = os.environ.get(ENV_VARIABLE, "")
    if chosen.lower() == "off":
        return None
    path = Path(chosen) / library.file if chosen else default_library_path(kind)
    if not path.is_file():
        _note(f"{path} is missing", library)
        return None
    if not chosen and any(source.stat().st_mtime > path.stat().st_mtime for source in library.sources):
        _note(f"{path} is older than its sources", library)
        return None
    if library.needs_blas:
        record = blas_record(path)
        blas = record.read_text().strip() if record.is_file() else ""
        if not blas or not Path(blas).is_file():
            _note(f"{path} was built against an OpenBLAS library that is gone ({blas or 'no ' + record.name})",
                  library)
            return None
    return str(path.resolve())


def cpu_library(kind):
    """library_path(kind) where MindSpore runs on the CPU, else None: the kernels are CPU code. The device is read
    when the layer or optimizer is built, so set it first."""
    import mindspore as ms

    return library_path(kind) if ms.get_context("device_target") == "CPU" else None


def _note(reason, library):
    hint = " and scipy-openblas32" if library.needs_blas else ""
    warnings.warn(f"{reason}: {library.without}; build it with `python -m src.ops.build` (needs g++{hint})",
                  stacklevel=3)
