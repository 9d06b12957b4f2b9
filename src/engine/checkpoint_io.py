"""MindSpore checkpoint files: reading them with errors that name the file, writing them atomically."""
from pathlib import Path

import mindspore as ms

from src.data.atomic import atomic_output

# Scalars that MindSpore training (optimizers, loss scaling, ModelCheckpoint) stores beside the network parameters.
MINDSPORE_TRAINING_SCALARS = frozenset({
    "global_step", "learning_rate", "beta1_power", "beta2_power", "momentum", "weight_decay", "scale_sense",
    "loss_scale", "current_iterator_step", "last_overflow_iterator_step", "epoch_num", "step_num",
})


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the network; the message names the file and the key."""


def require_file(path):
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes)")
    return path


def read_mindspore_checkpoint(path):
    """Entries of a MindSpore checkpoint; numeric values as numpy arrays."""
    path = require_file(path)
    try:
        entries = ms.load_checkpoint(str(path))
    except (ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path} is not a readable MindSpore checkpoint (truncated, corrupted or another "
                              f"format): {exc}") from exc
    return {key: value.asnumpy() if hasattr(value, "asnumpy") else value for key, value in entries.items()}


def save_checkpoint(cell, path):
    """Write `cell`'s parameters to `path` atomically: a reader never sees a partial file, and an existing file is
    replaced only once the new one is complete (mindspore.save_checkpoint deletes it before writing)."""
    path = Path(path)
    with atomic_output(path) as temporary:
        scratch = temporary.with_suffix(".tmp")  # MindSpore writes here first and leaves it behind when it fails
        try:
            ms.save_checkpoint(cell, str(temporary))
        except OSError as error:
            raise OSError(error.errno, error.strerror, str(path)) from None
        finally:
            scratch.unlink(missing_ok=True)
