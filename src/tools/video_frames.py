"""Video-to-JPEG work shared by the I3D (`generate_rgb_jpgs`) and ECO-lite (`extract_frames`) tools."""
from pathlib import Path

from src.data.frames import FrameFolderError
from src.data.video_io import VIDEO_EXTENSIONS, read_video, resample_frames, resize_short_side, write_jpeg
from src.tools.jobs import Job


class InputError(Exception):
    """Bad command-line input (empty folder, clashing names); the message names the path."""


def find_videos(root, extensions=VIDEO_EXTENSIONS):
    """[(class_name, video_path)] for `<root>/<class>/<video>` files with a known extension."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: video folder not found")
    extensions = tuple(ext.lower() for ext in extensions)
    videos = [(class_dir.name, video)
              for class_dir in sorted(p for p in root.iterdir() if p.is_dir())
              for video in sorted(class_dir.iterdir())
              if video.is_file() and video.suffix.lower() in extensions]
    if not videos:
        raise InputError(f"{root}: no videos ({', '.join(extensions)}) found in its class folders")
    return videos


def frame_jobs(videos, out_root, flat=False):
    """One job per video; the output folder is `<out>/<class>/<stem>` or, flat, `<out>/<stem>`."""
    jobs, owners = [], {}
    for class_name, video in videos:
        target = Path(out_root) / video.stem if flat else Path(out_root) / class_name / video.stem
        if target in owners:
            raise InputError(f"{video} and {owners[target]} would both write frames to {target}")
        owners[target] = video
        jobs.append(Job(name=f"{class_name}/{video.name}", source=video, target=target))
    return jobs


def extract_frames(job, partial, template, short_side=0, fps=-1.0, quality=95, allow_truncated=False):
    """Decode `job.source` and write its frames, 1-based, as `template` JPEGs into the folder `partial`."""
    frames, source_fps = read_video(job.source, allow_truncated=allow_truncated)
    partial.mkdir(parents=True)
    for index, frame in enumerate(resample_frames(frames, source_fps, fps), start=1):
        write_jpeg(partial / template.format(index), resize_short_side(frame, short_side), quality)


def incomplete_frames(job, count_frames):
    """Why the existing frame folder `job.target` is not complete (frames not numbered 1..n without a gap), or None.

    `count_frames` is the layout's counter (count_i3d_frames, or count_numbered_frames with the prefix). A folder
    a killed run or an older version left behind is then rebuilt rather than trusted.
    """
    try:
        count_frames(job.target)
    except (FrameFolderError, OSError) as error:
        return str(error)
    return None
