"""Decoding videos and writing JPEG frames with OpenCV (no ffmpeg binary needed)."""
from pathlib import Path

import cv2
import numpy as np

VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".webm", ".mov", ".mpg", ".mpeg", ".flv", ".m4v", ".3gp")


class VideoReadError(Exception):
    """A video or frame that cannot be decoded; the message names the file."""


def read_video(path, allow_truncated=False):
    """Decode every frame of a video as BGR uint8 arrays; returns (frames, fps).

    The container's frame count (from the AVI/MP4 header) is compared with what decodes, so a file
    cut short in transfer is reported instead of silently yielding a shorter clip.
    """
    path = str(path)
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise VideoReadError(f"{path}: cannot open video (missing, corrupt or not a video file)")
    try:
        declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        capture.release()
    if not frames:
        raise VideoReadError(f"{path}: video contains no decodable frames")
    if declared > len(frames) and not allow_truncated:
        raise VideoReadError(f"{path}: truncated or corrupt, decoded {len(frames)} of {declared} frames "
                             "(pass --allow_truncated to keep the decodable part)")
    return frames, fps


def resample_frames(frames, source_fps, target_fps):
    """Nearest-frame temporal resampling; target_fps <= 0 or an unknown source rate keeps every frame."""
    if target_fps <= 0 or source_fps <= 0 or abs(source_fps - target_fps) < 1e-6:
        return frames
    count = max(1, int(round(len(frames) * target_fps / source_fps)))
    picks = np.minimum((np.arange(count) * source_fps / target_fps).astype(int), len(frames) - 1)
    return [frames[i] for i in picks]


def resize_short_side(image, size):
    """Scale so the shorter side equals `size` (aspect kept); size <= 0 keeps the image as it is."""
    if size <= 0:
        return image
    height, width = image.shape[:2]
    if min(height, width) == size:
        return image
    if height <= width:
        new_height, new_width = size, max(1, int(round(width * size / height)))
    else:
        new_height, new_width = max(1, int(round(height * size / width))), size
    interpolation = cv2.INTER_AREA if size < min(height, width) else cv2.INTER_LINEAR
    return cv2.resize(image, (new_width, new_height), interpolation=interpolation)


def write_jpeg(path, image, quality=95):
    """Encode in memory and write the bytes with Python: cv2.imwrite only returns False, while this raises the real
    OSError (errno and path: a full or read-only disk) for src.data.atomic.describe_os_error to explain."""
    encoded, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not encoded:
        raise ValueError(f"{path}: OpenCV could not encode this image as JPEG (shape {image.shape})")
    try:
        with open(path, "wb") as handle:
            handle.write(data.tobytes())
    except OSError as error:  # a failed write() or close() names no file
        raise OSError(error.errno, error.strerror, str(path)) from None


def read_image(path, grayscale=False):
    """Read a frame image; a missing or undecodable file raises VideoReadError naming it."""
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE if grayscale else cv2.IMREAD_COLOR)
    if image is None:
        state = "missing" if not Path(path).exists() else "unreadable (corrupt image)"
        raise VideoReadError(f"{path}: frame is {state}")
    return image
