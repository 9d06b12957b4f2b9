"""Fuse the per-video scores that eval.py --scores_path saved for rgb and flow, without the models:

    python -m src.evaluation RGB_SCORES.npz FLOW_SCORES.npz [--fusion sum|weighted|softmax_avg] [--fusion_weights 1,1]
"""
import sys

from src.cli import Parser, parse_fusion_weights
from src.evaluation.fusion import FUSIONS, fuse_saved_scores
from src.evaluation.scoring import EvaluationError


def main(argv=None):
    parser = Parser(prog="python -m src.evaluation", description="Fuse the per-video scores that eval.py "
                    "--scores_path saved for rgb and flow, without the models.")
    parser.add_argument("rgb_scores")
    parser.add_argument("flow_scores")
    parser.add_argument("--fusion", choices=FUSIONS, default="sum")
    parser.add_argument("--fusion_weights", type=parse_fusion_weights, default=(1.0, 1.0), metavar="RGB,FLOW")
    parser.add_argument("--skip_missing", action="store_true", help="fuse only the videos both files have")
    args = parser.parse_args(argv)
    try:
        fuse_saved_scores(args.rgb_scores, args.flow_scores, args.fusion, args.fusion_weights, args.skip_missing)
    except EvaluationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
