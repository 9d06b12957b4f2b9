"""Train one I3D stream (rgb or flow, fine-tuned from pretrained weights or from scratch) or ECO-lite.

    python train.py --dataset ucf101 --mode rgb --video_path DATA/rgb/ucf101/jpg \
        --annotation_path DATA/rgb/ucf101/annotation/ucf101_01.json --checkpoint_path rgb_imagenet.ckpt
    python train.py --dataset ucf101 --train_list data/ucf101_rgb_train_split_1.txt \
        --val_list data/ucf101_rgb_val_split_1.txt --resume ms_model_kinetics_checkpoint0720.ckpt --epochs 60

ECO-lite runs with --model eco_lite or any ECO-lite flag (src/cli.py, ECO_ONLY_FLAGS); `--evaluate True` evaluates
--resume's checkpoint instead. I3D writes <save_dir>/<dataset>_<mode>/ (config.json, train_log.txt, train_log.jsonl,
checkpoints/i3d-<epoch>_<steps>.ckpt, i3d-best.ckpt) and --resume continues it; ECO-lite's outputs are in
docs/eco_lite.md.
"""
import sys

import src.runtime  # noqa: F401  (first: oneDNN AVX2 cap before MindSpore loads)
from config import parse_train_args
from src.cli import select_model
from src.eco_lite.config import parse_args as parse_eco_lite_args
from src.eco_lite.recipe import ECOLiteRecipe
from src.engine.drivers import run_evaluation, run_training
from src.i3d.recipe import I3DRecipe


def main(argv=None):
    model, argv = select_model(sys.argv[1:] if argv is None else argv, "train")
    if model == "i3d":
        return run_training(I3DRecipe(parse_train_args(argv)))
    recipe = ECOLiteRecipe(parse_eco_lite_args(argv, training=True))
    return run_evaluation(recipe) if recipe.args.evaluate else run_training(recipe)


if __name__ == "__main__":
    sys.exit(main())
