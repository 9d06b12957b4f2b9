"""Where the compiled kernels of src/ops live and whether they can be used: the file work kept out of networks."""
import functools
import os
import warnings
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parent
SOURCES = (SOURCE_DIR / "maxpool3d_grad.cc",)
LIBRARY_NAME = "libms_video_ops.so"
ENV_VARIABLE = "MS_VIDEO_OPS_LIBRARY"  # a path to use instead of build/ops, or "off" to use MindSpore's kernels


def default_library_path():
    return SOURCE_DIR.parents[1] / "build" / "ops" / LIBRARY_NAME


@functools.lru_cache(maxsize=None)
def library_path():
    """The kernels' library as an absolute path string, or None (with one warning saying why) when it is missing,
    older than its sources, or switched off."""
    chosen = os.environ.get(ENV_VARIABLE, "")
    if chosen.lower() == "off":
        return None
    path = Path(chosen) if chosen else default_library_path()
    if not path.is_file():
        _note(f"{path} is missing")
        return None
    if not chosen and any(source.stat().st_mtime > path.stat().st_mtime for source in SOURCES):
        _note(f"{path} is older than its sources")
        return None
    return str(path.resolve())


def _note(reason):
    warnings.warn(f"{reason}: 3-D max-pool gradients use MindSpore's CPU kernel, which makes an I3D training step "
                  f"about 1.5x slower; build the fast one with `python -m src.ops.build` (needs g++)", stacklevel=3)
