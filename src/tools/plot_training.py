"""Training curves of a run: loss, learning rate and validation accuracy against epoch, as a PNG.

    python -m src.tools.plot_training RUN_DIR/train_log.jsonl [--out curves.png]

Reads the train_log.jsonl that train.py (I3D and ECO-lite) writes, one JSON record per epoch; the default output is
training_curves.png beside it. A resumed run's repeated epochs count once (the later record).
"""
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from src.cli import Parser  # noqa: E402
from src.plots import plot_training_curves, read_train_log  # noqa: E402


def main(argv=None):
    parser = Parser(prog="python -m src.tools.plot_training", description=__doc__)
    parser.add_argument("log", help="a run's train_log.jsonl")
    parser.add_argument("--out", help="PNG to write (default: training_curves.png beside the log)")
    parser.add_argument("--title", help="figure title (default: the run folder's name)")
    args = parser.parse_args(argv)
    log = Path(args.log)
    try:
        records = read_train_log(log)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else log.with_name("training_curves.png")
    plot_training_curves(records, out, args.title if args.title is not None else log.resolve().parent.name)
    print(f"{len(records)} epochs -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
