"""Videos -> RGB JPEG frames for I3D: `<dst>/<class>/<video>/image_00001.jpg ...`.

    python -m generate_rgb_jpgs avi_video_dir_path jpg_video_dir_path hmdb51     (from src/tools, as the original)
    python -m src.tools.generate_rgb_jpgs VIDEOS FRAMES ucf101 --size 256         (from the repo root)

Frames are decoded with OpenCV, the short side is scaled to --size (default 256; the original used 240) and
written as JPEG (--jpeg_quality). Finished videos are skipped on a rerun (a folder whose frames are not
numbered 1..n without a gap is rebuilt); a second run on the same output root is refused while one runs.
"""
import functools
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from src.cli import Parser  # noqa: E402
from src.data.frames import I3D_RGB_TEMPLATE, count_i3d_frames  # noqa: E402
from src.tools.jobs import parse_job_arguments, run_and_report  # noqa: E402
from src.tools.video_frames import (InputError, extract_frames, find_videos, frame_jobs,  # noqa: E402
                                    incomplete_frames)

DATASET_EXTENSIONS = {"kinetics": (".mp4",), "mit": (".mp4",), "activitynet": (".mp4",),
                      "ucf101": (".avi",), "hmdb51": (".avi",)}


def parse_args(argv=None):
    parser = Parser(description=__doc__)
    parser.add_argument("dir_path", help="folder of class folders holding the videos")
    parser.add_argument("dst_path", help="output root for the frame folders")
    parser.add_argument("dataset", choices=sorted(DATASET_EXTENSIONS), help="picks the video file extension")
    parser.add_argument("--size", type=int, default=256, help="short side of the written frames (0 = keep)")
    parser.add_argument("--fps", type=float, default=-1, help="resample to this frame rate (-1 = native)")
    parser.add_argument("--jpeg_quality", type=int, default=95)
    parser.add_argument("--allow_truncated", action="store_true",
                        help="keep the decodable part of a truncated video instead of failing it")
    args = parse_job_arguments(parser, argv, workers_aliases=("--n_jobs",))
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        jobs = frame_jobs(find_videos(args.dir_path, DATASET_EXTENSIONS[args.dataset]), args.dst_path)
    except InputError as error:
        sys.exit(f"error: {error}")
    work = functools.partial(extract_frames, template=I3D_RGB_TEMPLATE, short_side=args.size, fps=args.fps,
                             quality=args.jpeg_quality, allow_truncated=args.allow_truncated)
    verify = functools.partial(incomplete_frames, count_frames=count_i3d_frames)
    return run_and_report("generate_rgb_jpgs", jobs, work, args, output_root=args.dst_path, verify=verify)


if __name__ == "__main__":
    sys.exit(main())
