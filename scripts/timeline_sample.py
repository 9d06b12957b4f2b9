"""A long video of known classes from the sample dataset, for timeline.py: the test videos of one split, class after
class, joined into one file, and the CSV of its true segments.

    python scripts/timeline_sample.py work_dirs/quickstart/data/raw/ucf101 work_dirs/quickstart/results/timeline
    python timeline.py work_dirs/quickstart/results/timeline/sample_long.avi --truth .../sample_long_truth.csv ...

Each class contributes its test videos of split --split (trainlist/testlist, so a model trained on that split has
never seen them) in a row, or --per_segment of them at a time with the classes taking turns; --order picks the class
order (default: a fixed shuffle, so neighbours differ from the label order) and --repeat repeats the whole sequence
(a longer video for memory checks). Frames are decoded and written
one at a time (XVID .avi at the first video's frame rate); output files are built under temporary names.
"""
import argparse
import csv
import io
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from src.data.atomic import atomic_output, atomic_write_text  # noqa: E402


def fail(message):
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def test_videos(root, split):
    """{class name: [video paths]} of the split's test list, in label-map order."""
    names = [line.strip() for line in (root / "label_map.txt").read_text().splitlines() if line.strip()]
    listed = [line.strip() for line in (root / "splits" / f"testlist0{split}.txt").read_text().splitlines()
              if line.strip()]
    return {name: [root / "videos" / path for path in listed if path.split("/")[0] == name] for name in names}


def write_joined(videos, target):
    """Append the frames of `videos` [(class, path)] to one XVID file; returns [(start, end, class)]."""
    truth, writer, frame = [], None, 0
    with atomic_output(target) as temporary:
        for name, path in videos:
            capture = cv2.VideoCapture(str(path))
            if not capture.isOpened():
                fail(f"{path}: cannot open video")
            start = frame + 1
            while True:
                ok, image = capture.read()
                if not ok:
                    break
                if writer is None:
                    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
                    writer = cv2.VideoWriter(str(temporary), cv2.VideoWriter_fourcc(*"XVID"), fps,
                                             (image.shape[1], image.shape[0]))
                writer.write(image)
                frame += 1
            capture.release()
            if truth and truth[-1][2] == name:
                truth[-1] = (truth[-1][0], frame, name)
            else:
                truth.append((start, frame, name))
        if writer is None:
            fail("no frames in the test videos")
        writer.release()
    return truth


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", help="the sample dataset's ucf101 folder (videos/, splits/, label_map.txt)")
    parser.add_argument("out_dir", help="where sample_long.avi and sample_long_truth.csv go")
    parser.add_argument("--split", type=int, choices=(1, 2, 3), default=1, help="whose test videos")
    parser.add_argument("--order", help="class names, comma-separated (default: a fixed shuffle of all)")
    parser.add_argument("--per_segment", type=int, help="test videos of a class in a row (default: all of them; 1: "
                                                         "the classes take turns, one video each)")
    parser.add_argument("--repeat", type=int, default=1, help="repeat the whole sequence this many times")
    parser.add_argument("--name", default="sample_long", help="file name stem")
    args = parser.parse_args(argv)
    root, out = Path(args.dataset), Path(args.out_dir)
    for needed in ("label_map.txt", f"splits/testlist0{args.split}.txt", "videos"):
        if not (root / needed).exists():
            fail(f"{root / needed}: not found (pass the sample dataset's ucf101 folder)")
    by_class = test_videos(root, args.split)
    order = args.order.split(",") if args.order else \
        [list(by_class)[index] for index in np.random.default_rng(0).permutation(len(by_class))]
    unknown = [name for name in order if name not in by_class]
    if unknown:
        fail(f"--order: {', '.join(unknown)} not in {root / 'label_map.txt'}")
    per_segment = args.per_segment or max(len(paths) for paths in by_class.values())
    rounds = -(-max(len(by_class[name]) for name in order) // per_segment)
    videos = [(name, path) for _ in range(args.repeat) for turn in range(rounds) for name in order
              for path in by_class[name][turn * per_segment:(turn + 1) * per_segment]]
    truth = write_joined(videos, out / f"{args.name}.avi")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["start_frame", "end_frame", "class"])
    writer.writerows(truth)
    atomic_write_text(out / f"{args.name}_truth.csv", text.getvalue())
    print(f"{out / (args.name + '.avi')}: {truth[-1][1]} frames, {len(truth)} segments of "
          f"{len(order)} classes; truth: {out / (args.name + '_truth.csv')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
