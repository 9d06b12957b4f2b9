"""Evaluate I3D checkpoints on the validation subset: rgb, flow, or both fused (joint). See docs/evaluation.md.
ECO-lite runs when the command line has an ECO-only flag (--evaluate, --val_list, ...) or --model eco_lite: see
src/eco_lite/evaluate.py and docs/eco_lite.md.

    python eval.py --dataset=hmdb51 --test_mode=rgb --rgb_path=i3d-40_56.ckpt --video_path=... --annotation_path=...
"""
import sys

import src.runtime  # noqa: F401  (first: caps oneDNN at AVX2 before MindSpore loads)
from config import parse_eval_args
from src.eco_lite.config import select_model
from src.evaluation import EVAL_ERRORS, run_evaluation
from src.runtime import init_context


def checkpoint_predictor(args):
    """make_predictor for run_evaluation: an InceptionI3D with the stream's checkpoint, in inference mode."""
    import mindspore as ms
    from src.i3d import InceptionI3D, load_i3d_checkpoint

    def make_predictor(stream, checkpoint_path, num_classes):
        net = InceptionI3D(num_classes, stream, dropout_keep_prob=args.dropout_keep_prob)
        load_i3d_checkpoint(net, checkpoint_path)
        net.set_train(False)
        return (lambda clips: net(ms.Tensor(clips)).asnumpy()), args.batch_size

    return make_predictor


def main(argv=None):
    model, argv = select_model(sys.argv[1:] if argv is None else argv, "eval")
    if model == "eco_lite":
        from src.eco_lite.evaluate import main as evaluate_eco_lite

        return evaluate_eco_lite(argv)
    return evaluate_i3d(argv)


def evaluate_i3d(argv):
    args = parse_eval_args(argv)
    init_context(args.device_target, args.context, args.device_id, args.seed)
    from src.i3d import CheckpointError

    try:
        run_evaluation(args, checkpoint_predictor(args))
    except (CheckpointError,) + EVAL_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
