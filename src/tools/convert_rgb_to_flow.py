"""RGB frame folders -> TV-L1 optical-flow JPEGs for the I3D flow stream.

    python convert_rgb_to_flow.py --rgb_path=RGB_ROOT --flow_path=FLOW_ROOT      (from src/tools, as the original)

For every `<rgb>/<class>/<video>/image_%05d.jpg` folder it writes `<flow>/<class>/<video>/image_%05dx.jpg`
(horizontal) and `image_%05dy.jpg` (vertical). Frames are converted to grayscale; flow is OpenCV's Dual
TV-L1 with default parameters, clipped to +-20 px and mapped linearly to 0..255 (0 px -> 128).
Pairing: flow image k is the motion from RGB frame k to frame k+1, so a video of N frames gets N-1 flow
images. --seed_pairing reproduces the original tool instead (image 1 = frame 1 -> 1, i.e. zero; image k
= frame k-1 -> k; N images).
Finished videos are skipped on a rerun (a folder whose x/y images are not numbered 1..n without a gap, or whose n
does not fit the rgb frames, is rebuilt); a second run on the same output root is refused while one runs.
"""
import functools
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from src.cli import Parser  # noqa: E402
from src.data.flow import FLOW_BOUND, quantize_flow, tvl1_estimator, video_flow  # noqa: E402
from src.data.frames import I3D_FLOW_TEMPLATES, I3D_RGB_TEMPLATE, FrameFolderError, count_i3d_frames  # noqa: E402
from src.data.video_io import read_image, write_jpeg  # noqa: E402
from src.tools.jobs import Job, parse_job_arguments, run_and_report  # noqa: E402


def find_frame_folders(rgb_root):
    """[(class, video_dir)] for every `<rgb_root>/<class>/<video>` folder."""
    rgb_root = Path(rgb_root)
    if not rgb_root.is_dir():
        raise FileNotFoundError(f"{rgb_root}: frame folder not found")
    folders = [(class_dir.name, video_dir)
               for class_dir in sorted(p for p in rgb_root.iterdir() if p.is_dir())
               for video_dir in sorted(p for p in class_dir.iterdir() if p.is_dir() and not p.name.startswith("."))]
    if not folders:
        raise FileNotFoundError(f"{rgb_root}: no <class>/<video> frame folders")
    return folders


def compute_flow(job, partial, bound=FLOW_BOUND, quality=95, seed_pairing=False):
    count = count_i3d_frames(job.source)
    if count < 2 and not seed_pairing:
        raise ValueError(f"{job.source}: flow needs at least 2 frames, found {count}")
    gray = [read_image(job.source / I3D_RGB_TEMPLATE.format(i), grayscale=True) for i in range(1, count + 1)]
    partial.mkdir(parents=True)
    x_template, y_template = I3D_FLOW_TEMPLATES
    for index, flow in enumerate(video_flow(gray, tvl1_estimator(), seed_pairing), start=1):
        encoded = quantize_flow(flow, bound)
        write_jpeg(partial / x_template.format(index), encoded[..., 0], quality)
        write_jpeg(partial / y_template.format(index), encoded[..., 1], quality)


def incomplete_flow(job, seed_pairing=False):
    """Why the existing flow folder `job.target` is not complete, or None: its x and y images must be numbered 1..n
    without a gap, n fitting the rgb folder's frame count (N - 1, or N with --seed_pairing)."""
    try:
        found = count_i3d_frames(job.target)
        expected = count_i3d_frames(job.source) - (0 if seed_pairing else 1)
    except (FrameFolderError, OSError) as error:
        return str(error)
    if found != expected:
        return f"{job.target}: {found} flow image pairs, expected {expected} for the frames of {job.source}"
    return None


def parse_args(argv=None):
    parser = Parser(description=__doc__)
    parser.add_argument("--rgb_path", required=True, help="root of <class>/<video>/image_%%05d.jpg folders")
    parser.add_argument("--flow_path", required=True, help="output root, mirrors the rgb tree")
    parser.add_argument("--bound", type=float, default=FLOW_BOUND, help="clip flow to +-bound pixels")
    parser.add_argument("--jpeg_quality", type=int, default=95)
    parser.add_argument("--seed_pairing", action="store_true",
                        help="the original tool's pairing: a zero first image, N images for N frames")
    args = parse_job_arguments(parser, argv)
    return args


def main(argv=None):
    args = parse_args(argv)
    tvl1_estimator()  # fail before any work if OpenCV lacks contrib
    try:
        folders = find_frame_folders(args.rgb_path)
    except FileNotFoundError as error:
        sys.exit(f"error: {error}")
    jobs = [Job(name=f"{class_name}/{video_dir.name}", source=video_dir,
                target=Path(args.flow_path) / class_name / video_dir.name) for class_name, video_dir in folders]
    work = functools.partial(compute_flow, bound=args.bound, quality=args.jpeg_quality,
                             seed_pairing=args.seed_pairing)
    verify = functools.partial(incomplete_flow, seed_pairing=args.seed_pairing)
    return run_and_report("convert_rgb_to_flow", jobs, work, args, output_root=args.flow_path, verify=verify)


if __name__ == "__main__":
    sys.exit(main())
