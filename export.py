"""Export an I3D or ECO-lite checkpoint to MINDIR, ONNX or AIR with a fixed input shape. See docs/evaluation.md and
docs/eco_lite.md.

    python export.py --checkpoint_path=i3d-40_56.ckpt --mode=rgb --num_classes=51 --file_format=ONNX --file_name=i3d_rgb
    python export.py --dataset ucf101 --checkpoint_path ucf101bestacc.ckpt --file_format MINDIR --batch-size 16

ECO-lite runs with --model eco_lite or any ECO-lite flag (src/cli.py: ECO_ONLY_FLAGS, and --dataset, since I3D's
export takes --mode). The file is written under a temporary name and renamed when complete.
"""
import sys

import src.runtime  # noqa: F401  (first: caps oneDNN at AVX2 before MindSpore loads)
from config import parse_export_args
from src.cli import select_model
from src.eco_lite.config import parse_export_args as parse_eco_lite_export_args
from src.eco_lite.recipe import ECOLiteRecipe
from src.engine.drivers import run_export
from src.i3d.recipe import I3DRecipe


def main(argv=None):
    model, argv = select_model(sys.argv[1:] if argv is None else argv, "export")
    if model == "i3d":
        return run_export(I3DRecipe(parse_export_args(argv)))
    return run_export(ECOLiteRecipe(parse_eco_lite_export_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
