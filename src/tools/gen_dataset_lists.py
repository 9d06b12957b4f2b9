"""ECO-lite list files from split files and extracted frames.

    python ./src/gen_dataset_lists.py ucf101 /abs/path/to/ucf101_images          (from the repo root)

Reads the split files from --splits_path (default `data/<dataset>_splits`: classInd.txt, trainlist0k.txt,
testlist0k.txt for ucf101; `<class>_test_split<k>.txt` for hmdb51) and writes
`<out_list_path>/<dataset>_rgb_{train,val}_split_<k>.txt`, one line per video:
`<frame_path>/<video> <number of frames> <label>` (label 0-based). Lines are shuffled with --seed.
A listed video whose frame folder is missing, empty or has a gap in its frame numbers is an error naming it (exit
status 1, that split's lists are not written), or with --skip_missing left out with a warning.
"""
import random
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from src.cli import Parser  # noqa: E402
from src.data.annotations import AnnotationError, format_list_line, hmdb51_split, ucf101_split, video_key  # noqa: E402
from src.data.atomic import atomic_write_text, describe_os_error  # noqa: E402
from src.data.frames import FrameFolderError, count_numbered_frames  # noqa: E402
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
                        help="leave out (with a warning) listed videos without complete frames")
    return parser.parse_args(argv)


def list_lines(frame_path, labels, entries, prefix):
    """{subset: [line]} plus [(video, problem)] for listed videos whose frames are missing, or not numbered 1..n
    without a gap (the loader reads frames 1..n by name, so training would crash on the missing one)."""
    index = {name: position for position, name in enumerate(labels)}
    lines, problems = {"training": [], "validation": []}, []
    for class_name, file_name, subset in entries:
        folder = Path(frame_path) / video_key(file_name)
        if not folder.is_dir():
            problems.append((f"{class_name}/{file_name}", f"frame folder {folder} is missing"))
            continue
        try:
            count = count_numbered_frames(folder, prefix)
        except FrameFolderError as error:
            problems.append((f"{class_name}/{file_name}", f"frame folder {error}"))
            continue
        lines[subset].append(format_list_line(folder, count, index[class_name]))
    return lines, problems


def write_lists(args, splits_path):
    """Every split's list files; returns the exit code (1 when a split has unusable videos)."""
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
            try:
                atomic_write_text(destination, "".join(line + "\n" for line in subset_lines))
            except OSError as error:  # name the list file, not its temporary (or nothing: a failed close())
                raise OSError(error.errno, error.strerror, str(destination)) from None
            print(f"[gen_dataset_lists] split {split}: {len(subset_lines)} {subset} videos -> {destination}",
                  file=sys.stderr)
    return exit_code


def main(argv=None):
    args = parse_args(argv)
    splits_path = Path(args.splits_path or f"data/{args.dataset}_splits")
    if not Path(args.frame_path).is_dir():
        sys.exit(f"error: {args.frame_path}: frame folder not found")
    try:
        return write_lists(args, splits_path)
    except OSError as error:  # a full or read-only --out_list_path
        sys.exit(f"error: {describe_os_error(error)}")


if __name__ == "__main__":
    sys.exit(main())
