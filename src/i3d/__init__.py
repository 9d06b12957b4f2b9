"""I3D (Inception-v1 inflated to 3-D) for video action recognition: network and checkpoint loading.

See docs/i3d.md for a runnable example.
"""
import src.runtime  # noqa: F401  (caps oneDNN at AVX2 before MindSpore loads)
from src.engine.checkpoint_io import CheckpointError
from src.i3d.checkpoint import load_i3d_checkpoint
from src.i3d.network import VALID_ENDPOINTS, InceptionI3D, select_finetune_parameters

__all__ = ["CheckpointError", "InceptionI3D", "VALID_ENDPOINTS", "load_i3d_checkpoint", "select_finetune_parameters"]
