"""ECO-lite list files from split files and extracted frames.

    python ./src/gen_dataset_lists.py ucf101 /abs/path/to/ucf101_images          (from the repo root)

Reads the split files from --splits_path (default `data/<dataset>_splits`: classInd.txt, trainlist0k.txt,
testlist0k.txt for ucf101; `<class>_test_split<k>.txt` for hmdb51) and writes
`<out_list_path>/<dataset>_rgb_{train,val}_split_<k>.txt`, one line per video:
`<frame_path>/<video> <number of frames> <label>` (label 0-based). Lines are shuffled with --seed.
"""
import random
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from src.cli import Parser  # noqa: E402
from src.data.annotations import AnnotationError, format_list_line, hmdb51_split, ucf101_split, video_key  # noqa: E402
from src.data.atomic import atomic_write_text  # noqa: E402
from src.data.frames import count_prefixed_frames  # noqa: E402
from src.tools.jobs import report_problems  # noqa: E402

READERS = {"ucf101": ucf101_split, "hmdb51": hmdb51_split}
LIST_NAMES = {"training": "{}_rgb_train_split_{}.txt", "validation": "{}_rgb_val_split_{}.txt"}


def parse_args(argv=None):
    parser = Parser(description=__doc__)
    parser.add_argument("dataset", choices=sorted(READERS))
    parser.add_argument("frame_path", help="root of the per-video frame folders (from extract_frames)")
    parser.add_argument("--splits_path", help="split files folder (default: data/<dataset>_splits)")
    parser.add_argument("--out_list_path", default="data/", help="folder for the list files")
    parser.add_argument("--rgb_prefix", default="img_", help="frame file prefix counted as frames")
    parser.add_argument("--num_split", type=int, default=3, choices=[1, 2, 3], help="write splits 1..num_split")
    parser.add_argument("--seed", type=int, default=0, help="seed for shuffling the lines")
    parser.add_argument("--no_shuffle", dest="shuffle", action="store_false", help="keep the split-file order")
    parser.add_argument("--skip_missing", action="store_true",
                        help="leave out (with a warning) listed videos without frames")
    return parser.parse_args(argv)


def list_lines(frame_path, labels, entries, prefix):
    """{subset: [line]} plus [(video, problem)] for listed videos that have no frames."""
    index = {name: position for position, name in enumerate(labels)}
    lines, problems = {"training": [], "validation": []}, []
    for class_name, file_name, subset in entries:
        folder = Path(frame_path) / video_key(file_name)
        count = count_prefixed_frames(folder, prefix) if folder.is_dir() else 0
        if count == 0:
            state = "has no " + prefix + "* frames" if folder.is_dir() else "is missing"
            problems.append((f"{class_name}/{file_name}", f"frame folder {folder} {state}"))
            continue
        lines[subset].append(format_list_line(folder, count, index[class_name]))
    return lines, problems


def main(argv=None):
    args = parse_args(argv)
    splits_path = Path(args.splits_path or f"data/{args.dataset}_splits")
    if not Path(args.frame_path).is_dir():
        sys.exit(f"error: {args.frame_path}: frame folder not found")
    exit_code = 0
    for split in range(1, args.num_split + 1):
        try:
            labels, entries = READERS[args.dataset](splits_path, split)
        except AnnotationError as error:
            sys.exit(f"error: {error}")
        lines, problems = list_lines(args.frame_path, labels, entries, args.rgb_prefix)
        if report_problems("gen_dataset_lists", f"split {split}", problems, args.skip_missing):
            exit_code = 1
            continue
        for subset, subset_lines in lines.items():
            if args.shuffle:
                random.Random(f"{args.seed}-{split}-{subset}").shuffle(subset_lines)
            destination = Path(args.out_list_path) / LIST_NAMES[subset].format(args.dataset, split)
            atomic_write_text(destination, "".join(line + "\n" for line in subset_lines))
            print(f"[gen_dataset_lists] split {split}: {len(subset_lines)} {subset} videos -> {destination}",
                  file=sys.stderr)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
