"""Print (and save) one table of the scores that eval.py / eval_onnx.py saved with --scores_path.

    python -m src.tools.results_table MindSpore=out/ms_scores.npz ONNX=out/onnx_scores.npz \
        [--same_predictions MindSpore,ONNX] [--run "I3D rgb=out/i3d/ucf101_rgb" ...] [--out results.md]

Each argument is LABEL=PATH, PATH being the --scores_path given to the evaluation: in joint mode the files
<stem>_rgb/_flow/_joint<suffix> beside it are read, otherwise the file itself. --same_predictions compares the
per-video predicted classes of two labels stream by stream and exits 1 if any video differs (with the scores'
largest difference), so the check is a command, not a look at the table. Each --run LABEL=RUN_DIR adds a row to a
second table, of training runs: epochs, training minutes (the epochs' time, evaluation excluded) and the best
validation top-1, from the run's train_log.jsonl.
"""
import sys
from pathlib import Path

import numpy as np

from src.cli import Parser
from src.data.atomic import atomic_write_text
from src.evaluation import EvaluationError, load_scores, scores_paths

STREAMS = ("rgb", "flow", "joint")


def find_results(label, path):
    """{stream: EvalResult} for one LABEL=PATH argument."""
    path = Path(path)
    if path.is_file():
        result, _ = load_scores(path)
        stream = next((s for s in STREAMS if path.stem == s or path.stem.endswith(f"_{s}")), "scores")
        return {stream: result}
    found = {stream: load_scores(file)[0] for stream, file in scores_paths(path, STREAMS).items() if file.is_file()}
    if not found:
        raise EvaluationError(f"{label}: neither {path} nor its joint-mode files "
                              f"{', '.join(str(p) for p in scores_paths(path, STREAMS).values())} exist")
    return found


def accuracy_table(results):
    """Markdown rows: one per (label, stream)."""
    rows = ["| model | stream | videos | top-1 | top-5 | mean class |", "|---|---|---|---|---|---|"]
    for label, streams in results.items():
        for stream, result in streams.items():
            rows.append(f"| {label} | {stream} | {len(result.keys)} | {result.top1:.4f} | {result.top5:.4f} | "
                        f"{result.mean_class_accuracy:.4f} |")
    return rows


def runs_table(runs):
    """Markdown rows: one per training run (LABEL -> run folder holding train_log.jsonl)."""
    from src.plots import read_train_log

    rows = ["| training run | epochs | minutes | best val top-1 |", "|---|---|---|---|"]
    for label, run_dir in runs.items():
        try:
            records = read_train_log(Path(run_dir) / "train_log.jsonl")
        except ValueError as error:
            raise EvaluationError(f"{label}: {error}") from None
        minutes = sum(record.get("epoch_time_s", 0.0) for record in records) / 60
        best = [record["val_top1"] for record in records if "val_top1" in record]
        rows.append(f"| {label} | {records[-1]['epoch']} | {minutes:.1f} | "
                    f"{f'{max(best):.4f}' if best else 'n/a'} |")
    return rows


def compare_predictions(first, second):
    """(lines, all_equal) comparing the predicted class of every video of the streams both labels have."""
    lines, all_equal = [], True
    for stream in [s for s in first if s in second]:
        a, b = first[stream], second[stream]
        if sorted(a.keys) != sorted(b.keys):
            raise EvaluationError(f"{stream}: the two score files hold different videos")
        order = [b.keys.index(key) for key in a.keys]
        b_scores = np.asarray(b.scores)[order]
        same = a.predictions == b_scores.argmax(axis=1)
        gap = float(np.max(np.abs(np.asarray(a.scores) - b_scores)))
        all_equal &= bool(same.all())
        lines.append(f"{stream}: {int(same.sum())}/{len(same)} videos predicted the same class; "
                     f"largest score difference {gap:.2e}")
    return lines, all_equal


def parse_args(argv=None):
    parser = Parser(description=__doc__)
    parser.add_argument("scores", nargs="+", metavar="LABEL=PATH")
    parser.add_argument("--same_predictions", metavar="LABEL,LABEL", help="two labels whose predictions must agree")
    parser.add_argument("--run", action="append", default=[], metavar="LABEL=RUN_DIR",
                        help="a training run folder (train.py's <save_dir>/<dataset>_<mode>) for the runs table")
    parser.add_argument("--out", help="also write the table (markdown) here")
    args = parser.parse_args(argv)
    for name, items in (("scores", args.scores), ("--run", args.run)):
        pairs = [item.split("=", 1) for item in items]
        if any(len(pair) != 2 or not all(pair) for pair in pairs):
            parser.error(f"each {name} argument must be LABEL=PATH")
        setattr(args, "runs" if name == "--run" else "scores", dict(pairs))
    if args.same_predictions:
        args.same_predictions = args.same_predictions.split(",")
        unknown = [label for label in args.same_predictions if label not in args.scores]
        if len(args.same_predictions) != 2 or unknown:
            parser.error(f"--same_predictions needs two of the labels {', '.join(args.scores)}")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        results = {label: find_results(label, path) for label, path in args.scores.items()}
        lines = accuracy_table(results)
        equal = True
        if args.same_predictions:
            first, second = args.same_predictions
            comparison, equal = compare_predictions(results[first], results[second])
            lines += ["", f"{first} vs {second}:"] + [f"- {line}" for line in comparison]
        if args.runs:
            lines += [""] + runs_table(args.runs)
    except EvaluationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    text = "\n".join(lines) + "\n"
    print(text, end="", flush=True)
    if args.out:
        atomic_write_text(Path(args.out), text)
    if not equal:
        print(f"error: {first} and {second} predict different classes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
