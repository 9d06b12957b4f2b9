"""Shared body of `hmdb51_json` and `ucf101_json`: split entries + frame folders -> annotation JSON."""
import sys
from pathlib import Path

from src.cli import Parser
from src.data.annotations import AnnotationError, build_annotation, video_key, write_annotation
from src.data.frames import FrameFolderError, count_i3d_frames
from src.tools.jobs import report_problems


def parse_args(description, dir_help, argv=None):
    parser = Parser(description=description)
    parser.add_argument("dir_path", help=dir_help)
    parser.add_argument("video_path", help="rgb frame root, <class>/<video>/image_%%05d.jpg")
    parser.add_argument("dst_path", help="folder for the JSON files")
    parser.add_argument("--splits", type=int, nargs="+", default=[1, 2, 3], choices=[1, 2, 3])
    parser.add_argument("--skip_missing", action="store_true",
                        help="leave out (with a warning) listed videos whose frame folder is missing or broken")
    return parser.parse_args(argv)


def frame_counts(video_root, entries):
    """{(class, key): n} for the listed videos, plus [(video, problem)] for those that cannot be used."""
    counts, problems = {}, []
    for class_name, file_name, _ in entries:
        key = video_key(file_name)
        folder = Path(video_root) / class_name / key
        if (class_name, key) in counts:
            continue
        if not folder.is_dir():
            problems.append((f"{class_name}/{file_name}", f"frame folder {folder} is missing"))
            continue
        try:
            counts[(class_name, key)] = count_i3d_frames(folder)
        except FrameFolderError as error:
            problems.append((f"{class_name}/{file_name}", str(error)))
    return counts, problems


def unknown_class_folders(video_root, labels):
    video_root = Path(video_root)
    if not video_root.is_dir():
        raise AnnotationError(f"{video_root}: frame folder not found")
    known = set(labels)
    return sorted(p.name for p in video_root.iterdir() if p.is_dir() and p.name not in known)


def run(tool, read_split, output_name, args):
    """Write one JSON per split; returns the exit code. Nothing is written for a split with problems."""
    exit_code = 0
    for split in args.splits:
        try:
            labels, entries = read_split(args.dir_path, split)
            for folder in unknown_class_folders(args.video_path, labels):
                print(f"[{tool}] warning: {Path(args.video_path) / folder} is not a class of the split files; "
                      "ignored", file=sys.stderr)
        except AnnotationError as error:
            print(f"[{tool}] error: {error}", file=sys.stderr)
            return 1
        counts, problems = frame_counts(args.video_path, entries)
        if report_problems(tool, f"split {split}", problems, args.skip_missing):
            exit_code = 1
            continue
        kept = [entry for entry in entries if (entry[0], video_key(entry[1])) in counts]
        destination = Path(args.dst_path) / output_name.format(split)
        write_annotation(destination, build_annotation(labels, kept, counts))
        subsets = [entry[2] for entry in kept]
        print(f"[{tool}] split {split}: {subsets.count('training')} training / {subsets.count('validation')} "
              f"validation videos, {len(labels)} classes -> {destination}"
              + (f" ({len(problems)} skipped)" if problems else ""), file=sys.stderr)
    return exit_code
