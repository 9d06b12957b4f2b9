"""Which frames a clip uses: pure functions on 1-based frame indices (1..n_frames).

I3D takes windows of consecutive frames (random in training, centred or evenly spread in evaluation);
ECO-lite takes one frame per segment, TSN-style. Randomness comes only from the numpy Generator passed in.
"""
import numpy as np


def loop_pad(indices, size):
    """Repeat `indices` cyclically until it is `size` long; a longer list is returned unchanged.

    Short videos are looped rather than padded with blanks, as in the original (which appended to the list
    it was iterating; this returns a new list and leaves the input alone).
    """
    indices = list(indices)
    if not indices:
        raise ValueError("loop_pad: cannot pad an empty index list")
    return [indices[position % len(indices)] for position in range(max(size, len(indices)))]


def temporal_window(n_frames, start, size):
    """`size` consecutive indices from `start` (1-based), clipped to the video and loop-padded."""
    if not 1 <= start <= n_frames:
        raise ValueError(f"window start {start} is outside the video's frames 1..{n_frames}")
    return loop_pad(range(start, min(start + size, n_frames + 1)), size)


def temporal_random_crop(n_frames, size, rng):
    """A random window; every start 1..max(1, n_frames - size + 1) can be drawn.

    The original drew from 1..n_frames - size, never the last window (docs/differences.md#i3d-temporal-start).
    """
    last_start = max(1, n_frames - size + 1)
    return temporal_window(n_frames, int(rng.integers(1, last_start + 1)), size)


def _centred_start(n_frames, size, centre):
    """1-based start of the window whose middle is the 0-based position `centre`, kept inside the video."""
    begin = min(max(0, centre - size // 2), max(0, n_frames - size))
    return begin + 1


def temporal_center_crop(n_frames, size):
    """The original's centre window: centre = n_frames // 2 on the 0-based list, begin = centre - size // 2."""
    return temporal_window(n_frames, _centred_start(n_frames, size, n_frames // 2), size)


def multi_clip_starts(n_frames, size, num_clips):
    """1-based starts of `num_clips` windows for test-time clip averaging.

    Clip c is centred on the middle of the c-th of num_clips equal parts of the video, so num_clips=1 is
    exactly temporal_center_crop and more clips spread evenly over the video. A video not longer than
    `size` gives num_clips identical (looped) windows starting at frame 1.
    """
    if num_clips < 1:
        raise ValueError(f"num_clips must be >= 1, got {num_clips}")
    return [_centred_start(n_frames, size, n_frames * (2 * clip + 1) // (2 * num_clips))
            for clip in range(num_clips)]


def segment_indices_train(n_frames, num_segments, rng):
    """TSN training sampling (new_length 1): one random frame in each of num_segments equal segments.

    avg = n // N; offsets = [0, avg, 2avg, ...] + an independent random shift in [0, avg) per segment.
    A video shorter than num_segments uses frame 1 for every segment, as the original did (the original's
    'sorted random frames' branch needs n > N with avg == 0, impossible with one frame per segment).
    """
    segment_length = n_frames // num_segments
    if segment_length > 0:
        offsets = np.arange(num_segments) * segment_length + rng.integers(segment_length, size=num_segments)
    else:
        offsets = np.zeros(num_segments, dtype=np.int64)
    return [int(offset) + 1 for offset in offsets]


def segment_indices_val(n_frames, num_segments):
    """TSN evaluation sampling: the middle frame of each segment, int(tick / 2 + tick * x) with tick = n / N.

    Like the original, a video with n_frames <= num_segments (even exactly num_segments) uses frame 1 throughout.
    """
    if n_frames > num_segments:
        tick = n_frames / num_segments
        return [int(tick / 2.0 + tick * segment) + 1 for segment in range(num_segments)]
    return [1] * num_segments
