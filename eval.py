"""Evaluate I3D checkpoints (rgb, flow, or both fused: joint) or an ECO-lite checkpoint on the validation videos.
See docs/evaluation.md and docs/eco_lite.md.

    python eval.py --dataset=hmdb51 --test_mode=rgb --rgb_path=i3d-40_56.ckpt --video_path=... --annotation_path=...
    python eval.py --dataset ucf101 --val_list data/ucf101_rgb_val_split_1.txt --resume ucf101bestacc.ckpt

ECO-lite runs with --model eco_lite or any ECO-lite flag (src/cli.py, ECO_ONLY_FLAGS); with --run_online True it
runs ECO's online mode over the validation videos (src/eco_lite/online_eval.py).
"""
import sys

import src.runtime  # noqa: F401  (first: caps oneDNN at AVX2 before MindSpore loads)
from config import parse_eval_args
from src.cli import select_model
from src.eco_lite.config import parse_args as parse_eco_lite_args
from src.eco_lite.online_eval import run_online_evaluation
from src.eco_lite.recipe import ECOLiteRecipe
from src.engine.drivers import run_evaluation
from src.i3d.recipe import I3DRecipe


def main(argv=None):
    model, argv = select_model(sys.argv[1:] if argv is None else argv, "eval")
    if model == "i3d":
        return run_evaluation(I3DRecipe(parse_eval_args(argv)))
    recipe = ECOLiteRecipe(parse_eco_lite_args(argv, training=False))
    if recipe.args.run_online:
        return run_online_evaluation(recipe)
    return run_evaluation(recipe)


if __name__ == "__main__":
    sys.exit(main())
