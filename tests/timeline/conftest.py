"""Videos for the timeline tests: solid-colour segments of known classes (exact boundaries, for a predictor that
reads colour), and the sample dataset's clips joined into one long video."""
import cv2
import numpy as np
import pytest

from src.tools import make_sample_dataset

# BGR colour of class 0, 1, 2: red, green, blue (the first three sample classes' tints are red, green and blue too).
COLOURS = ((30, 30, 220), (30, 220, 30), (220, 30, 30))
QUIET = ["--workers", "1", "--no-progress"]


def write_video(path, frames, fps=25.0):
    """XVID .avi of BGR frames (the sample dataset's own format)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"XVID"), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def colour_frames(segments, width=64, height=48, seed=0):
    """Yield frames of [(class, frame count)]: each class's colour plus noise; the truth is the segments' frames."""
    rng = np.random.default_rng(seed)
    for label, count in segments:
        for _ in range(count):
            noise = rng.integers(-25, 26, size=(height, width, 3))
            yield np.clip(np.array(COLOURS[label]) + noise, 0, 255).astype(np.uint8)


def write_colour_video(path, segments, width=64, height=48):
    """A video of coloured segments written frame by frame (never all held); returns the truth [(start, end, label)]."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"XVID"), 25.0, (width, height))
    for frame in colour_frames(segments, width, height):
        writer.write(frame)
    writer.release()
    return truth_of(segments)


def truth_of(segments):
    truth, start = [], 1
    for label, count in segments:
        truth.append((start, start + count - 1, label))
        start += count
    return truth


def join_videos(paths, target):
    """Concatenate videos of one size into `target` (re-encoded as XVID); returns each one's frame count."""
    writer, counts = None, []
    for path in paths:
        capture = cv2.VideoCapture(str(path))
        counts.append(0)
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if writer is None:
                writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"XVID"), 25.0,
                                         (frame.shape[1], frame.shape[0]))
            writer.write(frame)
            counts[-1] += 1
        capture.release()
    writer.release()
    return counts


def colour_logits_i3d(clips):
    """A stand-in I3D: logits from the mean of each RGB channel of (N, 3, T, H, W) clips in [-1, 1] (class 0 red)."""
    return 10 * clips.mean(axis=(2, 3, 4))


def colour_logits_eco(clips):
    """A stand-in ECO-lite: (N, 3T, H, W) BGR clips minus the means -> logits (red, green, blue)."""
    return 0.1 * np.stack([clips[:, 2::3].mean(axis=(1, 2, 3)), clips[:, 1::3].mean(axis=(1, 2, 3)),
                           clips[:, 0::3].mean(axis=(1, 2, 3))], axis=1)


@pytest.fixture(scope="session")
def sample_clips(tmp_path_factory):
    """The sample dataset (3 classes, 16-frame 48x32 videos): {'videos': folder, 'label_map': path}."""
    root = tmp_path_factory.mktemp("timeline_sample")
    assert make_sample_dataset.main([str(root), "--num_classes", "3", "--groups", "3", "--clips", "2", "--num_frames",
                                     "16", "--width", "48", "--height", "32", "--datasets", "ucf101", *QUIET]) == 0
    return {"videos": root / "ucf101/videos", "label_map": root / "ucf101/label_map.txt"}
