"""Write `<video>/n_frames` (the frame count) for every frame folder of an I3D rgb or flow root.

    python generate_n_frames.py jpg_video_directory          (from src/tools, as the original)

Run it on both the rgb and the flow root. The count is the number of frames 1..n; a folder with a gap
in its numbering, unpaired flow x/y images or no frames at all fails with its path. An existing n_frames that
does not match its folder is rewritten; a second run on the same root is refused while one runs.
"""
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from src.cli import Parser  # noqa: E402
from src.data.frames import N_FRAMES_FILE, FrameFolderError, count_i3d_frames, read_n_frames  # noqa: E402
from src.tools.convert_rgb_to_flow import find_frame_folders  # noqa: E402
from src.tools.jobs import Job, parse_job_arguments, run_and_report  # noqa: E402


def write_n_frames(job, partial):
    partial.write_text(f"{count_i3d_frames(job.source)}\n")


def wrong_n_frames(job):
    """Why the existing n_frames file does not hold the folder's frame count, or None (it is then rewritten)."""
    try:
        written, counted = read_n_frames(job.source), count_i3d_frames(job.source)
    except (FrameFolderError, OSError) as error:
        return str(error)
    return None if written == counted else f"{job.target} says {written}, the folder holds {counted} frames"


def parse_args(argv=None):
    parser = Parser(description=__doc__)
    parser.add_argument("dir_path", help="root of <class>/<video>/ frame folders (rgb or flow)")
    args = parse_job_arguments(parser, argv)
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        folders = find_frame_folders(args.dir_path)
    except FileNotFoundError as error:
        sys.exit(f"error: {error}")
    jobs = [Job(name=f"{class_name}/{video_dir.name}", source=video_dir, target=video_dir / N_FRAMES_FILE)
            for class_name, video_dir in folders]
    return run_and_report("generate_n_frames", jobs, write_n_frames, args, output_root=args.dir_path,
                          verify=wrong_n_frames)


if __name__ == "__main__":
    sys.exit(main())
