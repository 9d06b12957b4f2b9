"""Videos -> frames for ECO-lite: `<image_save_path>/<video>/img_000001.jpg ...` (flat, no class level).

    python ./src/extract_frames.py --video_src_path /path/to/UCF-101 --image_save_path /path/to/ucf101_images

Frames keep their native resolution unless --size sets the short side. Finished videos are skipped
on a rerun (a folder whose frames are not numbered 1..n without a gap is rebuilt); a second run on the same
output root is refused while one runs.
"""
import functools
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from src.cli import Parser  # noqa: E402
from src.data.frames import ECO_RGB_TEMPLATE, count_numbered_frames  # noqa: E402
from src.tools.jobs import parse_job_arguments, run_and_report  # noqa: E402
from src.tools.video_frames import (InputError, extract_frames, find_videos, frame_jobs,  # noqa: E402
                                    incomplete_frames)


def parse_args(argv=None):
    parser = Parser(description=__doc__)
    parser.add_argument("--video_src_path", required=True, help="dataset root with one folder per class")
    parser.add_argument("--image_save_path", required=True, help="output root, one folder per video")
    parser.add_argument("--size", type=int, default=0, help="short side of the written frames (0 = native)")
    parser.add_argument("--jpeg_quality", type=int, default=95)
    parser.add_argument("--allow_truncated", action="store_true",
                        help="keep the decodable part of a truncated video instead of failing it")
    args = parse_job_arguments(parser, argv)
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        jobs = frame_jobs(find_videos(args.video_src_path), args.image_save_path, flat=True)
    except InputError as error:
        sys.exit(f"error: {error}")
    work = functools.partial(extract_frames, template=ECO_RGB_TEMPLATE, short_side=args.size,
                             quality=args.jpeg_quality, allow_truncated=args.allow_truncated)
    prefix = ECO_RGB_TEMPLATE.partition("{")[0]
    verify = functools.partial(incomplete_frames, count_frames=functools.partial(count_numbered_frames, prefix=prefix))
    return run_and_report("extract_frames", jobs, work, args, output_root=args.image_save_path, verify=verify)


if __name__ == "__main__":
    sys.exit(main())
