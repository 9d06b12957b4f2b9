"""Scoring raw videos and unannotated frame folders: what demo.py and src.tools.extract_features share.

A raw video becomes exactly what the data tools would have written and the loaders would read back: frames scaled to
the tools' short side (generate_rgb_jpgs / extract_frames --size) and passed through the same JPEG encoding (quality
95), flow computed by the same TV-L1 on the grayscale decoding of those JPEGs, quantised and JPEG-coded as
convert_rgb_to_flow writes it. Clips are cut by src.data.temporal, transformed by the evaluation transforms and scored
through src.evaluation, so a video scores here as it does in eval.py once prepared with the tools. No MindSpore here.
"""
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from src.data.atomic import atomic_output
from src.data.flow import quantize_flow, tvl1_estimator, video_flow
from src.data.pipeline import FrameClipSource
from src.data.temporal import temporal_center_crop, temporal_window
from src.data.video_io import VideoReadError, read_video, resize_short_side
from src.evaluation import softmax

JPEG_QUALITY = 95  # the data tools' --jpeg_quality
KINETICS400_LABEL_MAP = Path(__file__).resolve().parent / "data" / "kinetics400_label_map.txt"
CLIP_CHOICES = ("all", "center")
OUT_VIDEO_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "XVID"}
OUT_VIDEO_SUFFIXES = (".gif",) + tuple(OUT_VIDEO_CODECS)


class LabelMapError(Exception):
    """A label map that cannot be read or does not fit the model; the message names the file."""


# ----------------------------------------------------------------------------------------------- frames and flow

def _jpeg(image):
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise VideoReadError(f"cannot JPEG-encode a {image.shape} frame")
    return encoded


def prepare_frame(frame, short_side, gray=True):
    """(colour, grayscale or None) of one decoded frame as the tools' frame JPEG reads back.

    The colour frame is what the rgb loaders read (cv2 IMREAD_COLOR), the grayscale one what convert_rgb_to_flow
    reads (IMREAD_GRAYSCALE decodes the JPEG's luma, which is not cvtColor of the colour decoding).
    """
    encoded = _jpeg(resize_short_side(frame, short_side))
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE) if gray else None


def decode_video(path, short_side, allow_truncated=False):
    """(frames (N, H, W, 3) uint8 BGR, grayscale frames [N x (H, W)], fps): every frame through prepare_frame."""
    frames, fps = read_video(path, allow_truncated=allow_truncated)
    colour, gray = zip(*(prepare_frame(frame, short_side) for frame in frames))
    return np.stack(colour), list(gray), fps


def flow_image(field):
    """One TV-L1 field as the flow loaders read it: quantised, each channel JPEG-coded as convert_rgb_to_flow writes
    it and decoded again; (H, W, 2) uint8 (x, y)."""
    encoded = quantize_flow(field)
    return np.stack([cv2.imdecode(_jpeg(encoded[..., channel]), cv2.IMREAD_GRAYSCALE) for channel in (0, 1)], axis=-1)


def flow_images(gray, first, last, progress=False):
    """Flow images first..last (1-based; image k is frame k -> k+1) as (M, H, W, 2) uint8 (x, y), computed,
    quantised and JPEG-coded as convert_rgb_to_flow writes them, i.e. as the flow loaders read them."""
    if len(gray) < 2:
        raise VideoReadError(f"flow needs at least 2 frames, the video has {len(gray)}")
    if not 1 <= first <= last <= len(gray) - 1:
        raise ValueError(f"flow images {first}..{last} are outside 1..{len(gray) - 1}")
    images = np.empty((last - first + 1,) + gray[0].shape + (2,), np.uint8)
    fields = video_flow(gray[first - 1:last + 1], tvl1_estimator())
    for slot, field in enumerate(tqdm(fields, total=len(images), desc="TV-L1 flow", unit="frame",
                                      disable=not progress, leave=False)):
        images[slot] = flow_image(field)
    return images


# ------------------------------------------------------------------------------------------------------- clips

def clip_windows(n_frames, length, clips="all", stride=None):
    """The 1-based frame indices of each clip of `length` frames.

    'center': the evaluation's centre window (eval.py --num_clips 1). 'all': windows every `stride` frames (default
    `length`: back to back) from frame 1, plus one ending on the last frame where they stop short of it, so the whole
    video is covered. A video shorter than `length` gives one looped window, as in evaluation.
    """
    if clips == "center":
        return [temporal_center_crop(n_frames, length)]
    if clips != "all":
        raise ValueError(f"clips must be one of {CLIP_CHOICES}, got {clips!r}")
    stride = stride or length
    last = max(1, n_frames - length + 1)
    starts = list(range(1, last + 1, stride))
    if starts[-1] != last:
        starts.append(last)
    return [temporal_window(n_frames, start, length) for start in starts]


def memory_clip_loader(frames, transforms, layout, first_index=1, stack_channels=False):
    """load(indices, rng) -> the float32 clip of 1-based frames `indices` of the uint8 array `frames` (T, H, W, C),
    whose first entry is frame `first_index`: what FrameClipSource.load_clip gives for the same frames on disk.

    transforms: (frame transform, value transform) of the evaluation; layout: axes order (I3D (3, 0, 1, 2) = CTHW;
    ECO (0, 3, 1, 2) = TCHW, with stack_channels folding T into channels as ECOSegmentDataset does).
    """
    frame_transform, value_transform = transforms

    def load(indices, rng):
        clip = frame_transform(frames[np.asarray(indices) - first_index], rng)
        values = np.ascontiguousarray(value_transform(clip, rng).transpose(layout))
        return values.reshape((-1,) + values.shape[2:]) if stack_channels else values
    return load


class WindowSource(FrameClipSource):
    """The clips of ONE video as items (clip, 0, index), the source type src.evaluation scores and averages."""

    def __init__(self, load, windows, key="video"):
        super().__init__(seed=0)
        self.load, self.windows = load, list(windows)
        self.labels = [0] * len(self.windows)
        self.video_keys = [key] * len(self.windows)
        self.video_index = [0] * len(self.windows)

    def make_clip(self, index, rng):
        return self.load(self.windows[index], rng)


# ------------------------------------------------------------------------------------------------------ labels

def read_label_map(path, num_classes):
    """Class names, one per line, checked against the model's class count."""
    path = Path(path)
    try:
        names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        raise LabelMapError(f"{path}: cannot read the label map ({error})") from None
    if len(names) != num_classes:
        raise LabelMapError(f"{path}: the label map has {len(names)} class names but the model has {num_classes} "
                            "classes; pass the label map of the dataset the checkpoint was trained on")
    return names


def class_names(num_classes, label_map=None):
    """(names, note): from `label_map`; without one, the Kinetics-400 names for a 400-class model, else 'class i'."""
    if label_map:
        return read_label_map(label_map, num_classes), None
    if num_classes == 400:
        return read_label_map(KINETICS400_LABEL_MAP, 400), f"class names: Kinetics-400 ({KINETICS400_LABEL_MAP})"
    return [f"class {index}" for index in range(num_classes)], \
        f"no --label_map for {num_classes} classes: showing class indices"


def top_k(scores, names, k=5):
    """[(rank, class index, name, softmax probability)] of the k highest of one video's logits."""
    probabilities = softmax(scores)
    order = np.argsort(-probabilities, kind="stable")[:k]
    return [(rank, int(index), names[index], float(probabilities[index])) for rank, index in enumerate(order, 1)]


# ------------------------------------------------------------------------------------------------ output video

def draw_label(frame, text):
    """`text` in white with a dark outline at the top left, scaled to the frame width."""
    frame = frame.copy()
    scale = max(0.3, frame.shape[1] / 640)
    thickness = max(1, round(scale * 1.5))
    origin = (max(2, round(6 * scale)), max(12, round(24 * scale)))
    cv2.putText(frame, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.putText(frame, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return frame


def write_labelled_video(path, frames, text, fps):
    """Write the BGR `frames` with `text` drawn on each: .gif through Pillow, .mp4/.m4v/.mov/.avi through OpenCV.

    Built under a temporary name in the same folder and renamed when complete.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in OUT_VIDEO_SUFFIXES:
        raise ValueError(f"{path}: output video must end in one of {', '.join(OUT_VIDEO_SUFFIXES)}")
    fps = fps if fps > 0 else 25.0
    labelled = [draw_label(frame, text) for frame in frames]
    with atomic_output(path) as temporary:
        if suffix == ".gif":
            from PIL import Image

            images = [Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)) for frame in labelled]
            images[0].save(temporary, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
        else:
            height, width = labelled[0].shape[:2]
            writer = cv2.VideoWriter(str(temporary), cv2.VideoWriter_fourcc(*OUT_VIDEO_CODECS[suffix]), fps,
                                     (width, height))
            if not writer.isOpened():
                raise OSError(f"{path}: OpenCV cannot write {OUT_VIDEO_CODECS[suffix]} {suffix} files here")
            for frame in labelled:
                writer.write(frame)
            writer.release()
