"""Write the built-in sample dataset: real .avi videos whose class shows in both motion and appearance.

    python -m src.tools.make_sample_dataset OUT [--num_classes 6 --groups 6 --clips 2 --num_frames 24]

Each video shows a randomly textured object on a random textured background with sensor noise. As in
real actions, the class shows in two ways: its motion (what the flow stream learns) and the object's
outline and colour, one shape and tint per class (what an rgb stream learns first). Texture, size, speed, start position,
starting angle, background and noise are random. Motions are chosen to survive a horizontal flip (the
training augmentation): left and right are one class ("move_sideways"), as are the two senses of rotation.

Output, in the official formats so the real preparation tools run on it unchanged:
    OUT/ucf101/videos/<Class>/v_<Class>_gXX_cYY.avi    OUT/ucf101/splits/{classInd,trainlist0k,testlist0k}.txt
    OUT/hmdb51/videos/<class>/<class>_gXX_cYY.avi      OUT/hmdb51/splits/<class>_test_split<k>.txt
    OUT/<dataset>/label_map.txt                          class names in label order
Group g is a test group of split k when (g - 1) % 3 == k - 1 (UCF101 likewise keeps whole groups apart).
The same seed gives the same videos.
"""
import functools
import os
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from src.cli import Parser  # noqa: E402
from src.data.atomic import atomic_write_text  # noqa: E402
from src.tools.jobs import Job, parse_job_arguments, run_and_report  # noqa: E402

MOTIONS = ("move_up", "move_down", "move_sideways", "rotate", "zoom_in", "zoom_out",
           "move_diagonal_up", "move_diagonal_down")
TINTS = ((40, 40, 220), (40, 200, 40), (220, 60, 40), (30, 210, 230), (210, 40, 210), (230, 210, 40),
         (255, 255, 255), (20, 20, 20))  # BGR
SHAPES = ("disc", "square", "triangle", "ring", "cross", "crescent", "bar", "half_disc")
DIRECTIONS = {"move_up": (0, -1), "move_down": (0, 1), "move_sideways": (1, 0),
              "move_diagonal_up": (0.7071, -0.7071), "move_diagonal_down": (0.7071, 0.7071)}


def ucf_name(motion):
    return "".join(part.capitalize() for part in motion.split("_"))


def _texture(rng, height, width, blocks):
    """Blocky random colour texture: strong edges give the flow something to track."""
    small = rng.integers(0, 256, size=(max(2, height // blocks), max(2, width // blocks), 3), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)


def shape_mask(shape, size, grow=0.0):
    """Soft-edged float32 mask (size x size) of one of SHAPES, centred in the square, `grow` px fatter."""
    half = (size - 1) / 2
    yy, xx = np.mgrid[:size, :size].astype(np.float32) - half
    radius = np.hypot(yy, xx)
    inside = {  # signed distance-like values, positive inside
        "disc": size / 2 - radius,
        "square": size * 0.4 - np.maximum(abs(xx), abs(yy)),
        "triangle": np.minimum(yy + size * 0.25, np.minimum(0.866 * xx - 0.5 * yy, -0.866 * xx - 0.5 * yy) + size * 0.25),
        "ring": np.minimum(size / 2 - radius, radius - size * 0.25),
        "cross": np.minimum(np.maximum(size * 0.15 - abs(xx), size * 0.15 - abs(yy)), size / 2 - radius),
        "crescent": np.minimum(size / 2 - radius, np.hypot(yy, xx - size * 0.3) - size * 0.38),
        "bar": np.minimum(size * 0.48 - abs(xx), size * 0.16 - abs(yy)),
        "half_disc": np.minimum(size / 2 - radius, -yy + size * 0.1),
    }[shape]
    return np.clip(inside + grow + 0.5, 0, 1).astype(np.float32)


def render_video(motion, rng, num_frames, width, height, shape="disc", tint=(128, 128, 128)):
    """Frames (BGR uint8) of one video of the given motion class: the object cut to `shape`, its texture tinted."""
    unit = min(width, height) / 96.0
    background = cv2.GaussianBlur(_texture(rng, height, width, 12), (0, 0), 3).astype(np.float32)
    background = background * rng.uniform(0.4, 0.9) + rng.uniform(0, 80, size=3)
    size = int(min(width, height) * rng.uniform(0.3, 0.45))
    texture = _texture(rng, size, size, int(rng.integers(4, 9))).astype(np.float32)
    patch = (0.35 * texture + 0.65 * np.array(tint, np.float32)).astype(np.uint8)
    mask = shape_mask(shape, size)
    outline = shape_mask(shape, size, grow=2 * unit)  # a dark rim makes the outline visible on any background

    middle = (num_frames - 1) / 2
    center = np.array([width / 2, height / 2]) + rng.uniform(-0.15, 0.15, size=2) * [width, height]
    angle0, spin, growth = rng.uniform(0, 360), 0.0, 0.0
    velocity = np.zeros(2)
    if motion in DIRECTIONS:
        sign = rng.choice([-1, 1]) if DIRECTIONS[motion][0] else 1
        velocity = np.array(DIRECTIONS[motion]) * [sign, 1] * rng.uniform(1.2, 2.5) * unit
    elif motion == "rotate":
        spin = rng.choice([-1, 1]) * rng.uniform(5, 10)
    else:
        growth = rng.uniform(0.04, 0.065) * (1 if motion == "zoom_in" else -1)
    noise = rng.uniform(2, 6)

    frames = []
    for t in range(num_frames):
        position = center + velocity * (t - middle)
        scale = (1 + growth) ** (t - middle)
        matrix = cv2.getRotationMatrix2D(((size - 1) / 2, (size - 1) / 2), angle0 + spin * t, scale)
        matrix[:, 2] += position - (size - 1) / 2
        layer = cv2.warpAffine(patch, matrix, (width, height), flags=cv2.INTER_LINEAR).astype(np.float32)
        alpha = cv2.warpAffine(mask, matrix, (width, height), flags=cv2.INTER_LINEAR)[..., None]
        rim = cv2.warpAffine(outline, matrix, (width, height), flags=cv2.INTER_LINEAR)[..., None]
        frame = background * (1 - rim) + layer * alpha + rng.normal(0, noise, size=(height, width, 3))
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return frames


def write_avi(path, frames, fps):
    """Write XVID-in-AVI (as UCF101/HMDB51 ship); the file is built under a temporary .avi name."""
    height, width = frames[0].shape[:2]
    temporary = path.with_name(path.name + ".avi")
    writer = cv2.VideoWriter(str(temporary), cv2.VideoWriter_fourcc(*"XVID"), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"{temporary}: OpenCV cannot write XVID .avi files")
    for frame in frames:
        writer.write(frame)
    writer.release()
    os.replace(temporary, path)


def make_video(job, partial, seed, num_frames, width, height, fps):
    """`job.source` is (motion index, group, clip): each video draws from its own seeded generator."""
    motion_index, group, clip = job.source
    rng = np.random.default_rng([seed, motion_index, group, clip])
    write_avi(partial, render_video(MOTIONS[motion_index], rng, num_frames, width, height, SHAPES[motion_index],
                                       TINTS[motion_index]), fps)


def is_test_group(group, split):
    return (group - 1) % 3 == split - 1


def write_split_files(root, dataset, classes, videos):
    """Official split-file formats; `videos` is [(motion_index, group, relative_path)]."""
    splits = root / "splits"
    if dataset == "ucf101":
        crlf = "\r\n"
        atomic_write_text(splits / "classInd.txt",
                          "".join(f"{i} {ucf_name(m)}{crlf}" for i, m in enumerate(classes, start=1)))
        for split in (1, 2, 3):
            train = [f"{path} {m + 1}{crlf}" for m, g, path in videos if not is_test_group(g, split)]
            test = [f"{path}{crlf}" for m, g, path in videos if is_test_group(g, split)]
            atomic_write_text(splits / f"trainlist0{split}.txt", "".join(train))
            atomic_write_text(splits / f"testlist0{split}.txt", "".join(test))
    else:
        for split in (1, 2, 3):
            for m, motion in enumerate(classes):
                lines = [f"{Path(path).name} {2 if is_test_group(g, split) else 1} \n"
                         for vm, g, path in videos if vm == m]
                atomic_write_text(splits / f"{motion}_test_split{split}.txt", "".join(lines))
    names = [ucf_name(m) if dataset == "ucf101" else m for m in classes]
    atomic_write_text(root / "label_map.txt", "".join(name + "\n" for name in names))


def parse_args(argv=None):
    parser = Parser(description=__doc__)
    parser.add_argument("out", help="output folder")
    parser.add_argument("--num_classes", type=int, default=6, help=f"first N of {', '.join(MOTIONS)}")
    parser.add_argument("--groups", type=int, default=6, help="groups per class (UCF101 'gXX'); >= 3")
    parser.add_argument("--clips", type=int, default=2, help="clips per group (UCF101 'cYY')")
    parser.add_argument("--num_frames", type=int, default=24)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--height", type=int, default=96)
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", nargs="+", default=["ucf101", "hmdb51"], choices=["ucf101", "hmdb51"])
    args = parse_job_arguments(parser, argv)
    if not 1 <= args.num_classes <= len(MOTIONS):
        parser.error(f"--num_classes must be in 1..{len(MOTIONS)}, got {args.num_classes}")
    if args.groups < 3 or args.clips < 1 or args.num_frames < 2 or min(args.width, args.height) < 16:
        parser.error("need --groups >= 3, --clips >= 1, --num_frames >= 2 and a frame size of at least 16 px")
    return args


def main(argv=None):
    args = parse_args(argv)
    classes = MOTIONS[:args.num_classes]
    out = Path(args.out)
    exit_code = 0
    for dataset in args.datasets:
        root = out / dataset
        videos, jobs = [], []
        for m, motion in enumerate(classes):
            class_name = ucf_name(motion) if dataset == "ucf101" else motion
            for group in range(1, args.groups + 1):
                for clip in range(1, args.clips + 1):
                    stem = f"v_{class_name}_g{group:02d}_c{clip:02d}" if dataset == "ucf101" \
                        else f"{class_name}_g{group:02d}_c{clip:02d}"
                    relative = f"{class_name}/{stem}.avi"
                    videos.append((m, group, relative))
                    jobs.append(Job(name=f"{dataset}/{relative}", source=(m, group, clip),
                                    target=root / "videos" / relative))
        work = functools.partial(make_video, seed=args.seed, num_frames=args.num_frames, width=args.width,
                                 height=args.height, fps=args.fps)
        exit_code = max(exit_code, run_and_report(f"make_sample_dataset[{dataset}]", jobs, work, args))
        write_split_files(root, dataset, classes, videos)
    print(f"[make_sample_dataset] {len(classes)} classes x {args.groups * args.clips} videos x {args.num_frames} "
          f"frames of {args.width}x{args.height} -> {out}", file=sys.stderr)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
