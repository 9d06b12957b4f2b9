"""ECO-lite evaluation, as the seed's eval.py (spec B.7); eval.py (and train.py --evaluate True) dispatch here.

    python eval.py --dataset ucf101 --val_list data/ucf101_rgb_val_split_1.txt --evaluate True \
        --resume ucf101bestacc.ckpt

Every validation video is scored once (the seed dropped the last partial batch) through src.evaluation, the code I3D
uses. Prints the seed's line `{'Loss': ..., 'Top1-Acc': ..., 'Top5-Acc': ...}` (Loss: the mean cross-entropy over the
videos; the seed averaged per-batch means) and the mean class accuracy. A missing checkpoint is an error (the seed went
on with random weights, spec E-13), and so is a checkpoint whose head has another class count. --report_dir writes the
confusion matrix and per-class accuracy as I3D's evaluation does (src.evaluation.write_report).
"""
import sys

import src.runtime  # noqa: F401  (first: oneDNN AVX2 cap before MindSpore loads)
from src.eco_lite.config import fail, parse_args
from src.evaluation import EVAL_ERRORS, cross_entropy, evaluate_stream, save_scores, write_report
from src.runtime import init_context


def score(network, source, args):
    """(EvalResult, metrics) of `network` in inference mode on every item of `source`."""
    import mindspore as ms

    network.set_train(False)
    result = evaluate_stream(lambda clips: network(ms.Tensor(clips)).asnumpy(), source, args.batch_size,
                             num_workers=args.num_workers, progress=args.progress and sys.stderr.isatty())
    metrics = {"top1": result.top1, "top5": result.top5, "mean_class": result.mean_class_accuracy,
               "loss": cross_entropy(result.scores, result.labels)}
    return result, metrics


def seed_line(metrics):
    """The seed's printed dict, key names and order included."""
    return str({"Loss": metrics["loss"], "Top1-Acc": metrics["top1"], "Top5-Acc": metrics["top5"]})


def run_evaluation(args):
    """Score --resume's checkpoint on --val_list; returns the exit status."""
    from src.eco_lite import CheckpointError, ECOLite, load_eco_checkpoint
    from src.eco_lite.train import segment_source

    init_context(args.device_target, args.context, args.device_id, args.seed)
    source = segment_source(args, args.val_list, train=False)
    print(f"Found {len(source)} validation examples", flush=True)
    print(f"checkpoint: {args.resume}", flush=True)
    net = ECOLite(args.num_classes, args.num_segments, dropout_keep_prob=args.dropout)
    try:
        load_eco_checkpoint(net, args.resume, allow_new_head=False)
        result, metrics = score(net, source, args)
    except (CheckpointError,) + EVAL_ERRORS as error:
        fail(str(error))
    print(seed_line(metrics), flush=True)
    print(f"Mean class accuracy: {metrics['mean_class']:.4f}", flush=True)
    class_names = [str(label) for label in range(args.num_classes)]  # list files carry label numbers only
    if args.scores_path:
        save_scores(args.scores_path, result, class_names)
        print(f"scores saved to {args.scores_path}", flush=True)
    if args.report_dir:
        figure, table = write_report(args.report_dir, "eco_lite", result, class_names)
        print(f"report: {figure}, {table}", flush=True)
    return 0


def main(argv=None):
    return run_evaluation(parse_args(argv, training=False))


if __name__ == "__main__":
    sys.exit(main())
