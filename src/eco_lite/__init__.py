"""ECO-lite (2-D BN-Inception trunk + 3-D ResNet) for video action recognition: network and checkpoint loading here;
options in `config`, the plateau learning-rate rule in `schedule`, and the model facts that the stage drivers
(src/engine/drivers.py) use for train.py, eval.py and export.py in `recipe`.

See docs/eco_lite.md for runnable examples.
"""
import src.runtime  # noqa: F401  (caps oneDNN at AVX2 before MindSpore loads)
from src.eco_lite.checkpoint import load_eco_checkpoint, load_eco_parameters
from src.engine.checkpoint_io import CheckpointError
from src.eco_lite.network import ECOLite, optim_groups

__all__ = ["CheckpointError", "ECOLite", "load_eco_checkpoint", "load_eco_parameters", "optim_groups"]
