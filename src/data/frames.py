"""Frame-folder conventions: file names, counting frames, the per-video `n_frames` file."""
import re
from pathlib import Path

I3D_RGB_TEMPLATE = "image_{:05d}.jpg"
I3D_FLOW_TEMPLATES = ("image_{:05d}x.jpg", "image_{:05d}y.jpg")
ECO_RGB_TEMPLATE = "img_{:06d}.jpg"
N_FRAMES_FILE = "n_frames"

_I3D_FRAME = re.compile(r"^image_(\d+)([xy]?)\.jpg$")


class FrameFolderError(Exception):
    """A frame folder that is incomplete or inconsistent; the message names it."""


def count_i3d_frames(video_dir):
    """Number of frames in an I3D rgb or flow folder, checking that 1..n are all present.

    Flow folders must hold an x and a y image for every index. The original took the largest index and
    ignored gaps; a gap here is an error, since a loader would otherwise read a short clip.
    """
    video_dir = Path(video_dir)
    indices = {"": set(), "x": set(), "y": set()}
    for entry in video_dir.iterdir():
        match = _I3D_FRAME.match(entry.name)
        if match:
            indices[match.group(2)].add(int(match.group(1)))
    rgb, flow_x, flow_y = indices[""], indices["x"], indices["y"]
    if rgb and (flow_x or flow_y):
        raise FrameFolderError(f"{video_dir}: mixes rgb (image_NNNNN.jpg) and flow (image_NNNNNx.jpg) frames")
    if flow_x or flow_y:
        if flow_x != flow_y:
            unpaired = sorted(flow_x ^ flow_y)[:5]
            raise FrameFolderError(f"{video_dir}: flow x/y images are not paired (e.g. index {unpaired})")
        present = flow_x
    else:
        present = rgb
    return _contiguous_count(video_dir, present, "image_NNNNN.jpg")


def _contiguous_count(video_dir, present, names):
    """max(present) when the frame indices `present` are exactly 1..max, else FrameFolderError naming the folder."""
    if not present:
        raise FrameFolderError(f"{video_dir}: no {names} frames")
    count = max(present)
    missing = sorted(set(range(1, count + 1)) - present)
    if missing:
        raise FrameFolderError(f"{video_dir}: frames missing, e.g. index {missing[:5]} of 1..{count}")
    return count


def count_numbered_frames(video_dir, prefix):
    """Number of `<prefix><number>.<ext>` frames (ECO-lite's img_000001.jpg ...), checking that 1..n are all present.

    ECO lists give only the count and the loader reads frames 1..n by name, so a gap would crash training whenever
    the missing frame is drawn; it is an error here instead.
    """
    video_dir = Path(video_dir)
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)\.[A-Za-z]+$")
    present = {int(match.group(1)) for match in map(pattern.match, (entry.name for entry in video_dir.iterdir()))
               if match}
    return _contiguous_count(video_dir, present, f"{prefix}<number>")


def read_n_frames(video_dir):
    path = Path(video_dir) / N_FRAMES_FILE
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        raise FrameFolderError(f"{path}: missing; run generate_n_frames on this frame root") from None
    try:
        return int(float(text))
    except ValueError:
        raise FrameFolderError(f"{path}: not a frame count: {text!r}") from None
