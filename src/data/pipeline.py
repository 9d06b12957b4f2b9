"""What the I3D and ECO clip sources share, and how a source becomes batches.

A source is random-access (`__len__`, `get_item(index, epoch)`); the augmentation of item i in epoch e is
drawn from numpy's default_rng([seed, e, i]) and nothing else, so a resumed run sees exactly the data of an
uninterrupted one, whatever the worker count or shuffle order. `epoch_batches` deals an epoch's items to the
data-parallel ranks and `iterate_batches` loads them, in threads, as numpy batches. (MindSpore's GeneratorDataset
was dropped: on this CPU, with 2 thread workers, it stalled between rows and gave up to 2.5x fewer clips/s; see
docs/benchmarks.md.)
"""
import os
import re
import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from src.data.frames import FrameFolderError
from src.data.video_io import read_image


@dataclass(frozen=True)
class Video:
    """One video of a source: its key (folder name), frame folder, frame count and integer label."""
    key: str
    path: Path
    n_frames: int
    label: int


def check_videos(candidates, skip_missing, source, skip_flag="--skip_missing"):
    """Keep the videos that can be loaded; `candidates` are (Video or None, problem or None) pairs.

    A problem (missing folder, missing or bad frame count, frames missing from the folder) is an error naming the
    paths, or with skip_missing one warning that counts and names the videos left out. Nothing is dropped silently
    (the original skipped missing folders without a word, docs/differences.md#i3d-missing-frames). `skip_flag` is
    the option that sets skip_missing, for the hint (None where the entry point has none).
    """
    videos = [video for video, problem in candidates if problem is None]
    problems = [problem for _, problem in candidates if problem is not None]
    if problems:
        listing = "; ".join(problems[:5]) + (f"; ... ({len(problems) - 5} more)" if len(problems) > 5 else "")
        if not skip_missing:
            hint = "fix the frame folders" + (f" or pass {skip_flag}" if skip_flag else "")
            raise FrameFolderError(f"{source}: {len(problems)} video(s) cannot be loaded: {listing} ({hint})")
        warnings.warn(f"{source}: left out {len(problems)} video(s) that cannot be loaded: {listing}",
                      stacklevel=3)
    if not videos:
        raise FrameFolderError(f"{source}: no loadable videos")
    return videos


def frame_count_problem(path, n_frames, count_frames):
    """The reason a video with this folder and stated frame count cannot be loaded, or None.

    count_frames(path) counts the frames the folder really holds (raising FrameFolderError on a gap): a stated count
    that disagrees would build clips from the wrong frames or fail mid-epoch, so it is caught here, when the dataset
    is built.
    """
    if n_frames < 1:
        return f"{path}: has {n_frames} frames"
    try:
        found = count_frames(path)
    except FrameFolderError as error:
        return str(error)
    if found != n_frames:
        return f"{path}: its frame count (n_frames file or list line) says {n_frames}, the folder holds {found}"
    return None


def count_template_frames(folder, template):
    """Frames named by `template` ('img_{:06d}.jpg', any zero-padding) in `folder`, checking 1..n are all present."""
    prefix, _, rest = template.partition("{")
    suffix = rest.partition("}")[2]
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+){re.escape(suffix)}$")
    present = {int(match.group(1)) for name in os.listdir(folder) if (match := pattern.match(name))}
    if not present:
        raise FrameFolderError(f"{folder}: no {template.format(1)}-style frames")
    missing = sorted(set(range(1, max(present) + 1)) - present)
    if missing:
        raise FrameFolderError(f"{folder}: frames missing, e.g. index {missing[:5]} of 1..{max(present)}")
    return max(present)


def read_distinct_frames(video_dir, templates, indices, grayscale):
    """Frames (U, H, W, C) uint8 for the distinct indices, and each index's position among them.

    Each distinct frame is decoded once, so a looped short video costs no extra decoding. `templates`
    name one image per channel group: one colour template (C = 3, BGR) or several grayscale ones stacked
    as channels (flow x, y). A missing or undecodable frame raises VideoReadError naming the file; frames
    of differing sizes raise FrameFolderError.
    """
    distinct, positions = np.unique(np.asarray(indices), return_inverse=True)
    folder = os.fspath(video_dir)
    frames = None
    for slot, frame_index in enumerate(distinct):
        for group, template in enumerate(templates):
            path = os.path.join(folder, template.format(int(frame_index)))
            image = read_image(path, grayscale=grayscale)
            if image.ndim == 2:
                image = image[:, :, None]
            if frames is None:
                channels = image.shape[2]
                frames = np.empty((len(distinct),) + image.shape[:2] + (channels * len(templates),), np.uint8)
            if image.shape[:2] != frames.shape[1:3]:
                raise FrameFolderError(f"{path}: frame is {image.shape[0]}x{image.shape[1]}, other frames of "
                                       f"this video are {frames.shape[1]}x{frames.shape[2]}")
            frames[slot, :, :, group * channels:(group + 1) * channels] = image
    return frames, positions


class FrameClipSource:
    """Base of the clip sources: items (clip, label int32, index int32), reproducible per (seed, epoch, index).

    Subclasses fill `labels` and `video_keys` (one entry per item), `templates` and `grayscale` (which
    images make a frame), `frame_transform` (uint8 -> uint8: geometry and channel order) and
    `value_transform` (uint8 -> float32, element-wise), and implement `make_clip(index, rng)` with
    `load_clip`.
    """

    column_names = ("clip", "label", "index")

    def __init__(self, seed):
        self.seed = int(seed)
        self.epoch = 0
        self.labels = []
        self.video_keys = []

    def __len__(self):
        return len(self.labels)

    def set_epoch(self, epoch):
        """The epoch `__getitem__` augments for (epoch_batches passes epochs itself)."""
        self.epoch = int(epoch)

    def get_item(self, index, epoch):
        index = int(index)
        if not 0 <= index < len(self):
            raise IndexError(f"item {index} out of range 0..{len(self) - 1}")
        rng = np.random.default_rng([self.seed, int(epoch), index])
        clip = self.make_clip(index, rng)
        return clip, np.array(self.labels[index], dtype=np.int32), np.array(index, dtype=np.int32)

    def __getitem__(self, index):
        return self.get_item(index, self.epoch)

    def make_clip(self, index, rng):
        raise NotImplementedError

    def load_clip(self, video_dir, indices, rng, layout):
        """The clip of frames `indices`, float32, axes ordered by `layout` (a permutation of T, H, W, C = 0..3).

        The frame transform runs once on the distinct frames (it acts frame by frame with parameters drawn
        once per call, so repeating frames afterwards gives the same clip for less work). The uint8 frames
        are then repeated and arranged in the output layout, and the value transform runs on a (T, H, W, C)
        view of that buffer: numpy keeps the memory order, so the float clip needs no second rearrangement.
        """
        frames, positions = read_distinct_frames(video_dir, self.templates, indices, self.grayscale)
        frames = self.frame_transform(frames, rng)
        arranged = frames.transpose(layout)
        if np.array_equal(positions, np.arange(len(frames))):  # no repeated frame: a plain copy is 2x faster
            arranged = np.ascontiguousarray(arranged)
        else:
            arranged = arranged.take(positions, axis=layout.index(0))
        values = self.value_transform(arranged.transpose(np.argsort(layout)), rng)
        return np.ascontiguousarray(values.transpose(layout))


def shard_indices(num_items, shuffle, num_shards=1, shard_id=0, seed=0, epoch=0, equal_shards=False):
    """This shard's item order for one epoch.

    The order is a permutation seeded by (seed, epoch) (or 0..n-1 without shuffle), dealt round-robin to the
    shards, so shards are disjoint and together complete. equal_shards trims every shard to n // num_shards
    items, so data-parallel ranks run the same number of steps; which items are left out changes with the
    epoch's permutation.
    """
    if not 0 <= shard_id < num_shards:
        raise ValueError(f"shard_id {shard_id} is not in 0..{num_shards - 1}")
    order = np.random.default_rng([int(seed), int(epoch)]).permutation(num_items) if shuffle \
        else np.arange(num_items)
    shard = order[shard_id::num_shards]
    return shard[:num_items // num_shards] if equal_shards else shard


def iterate_batches(source, indices, batch_size, num_workers=2, epoch=None, drop_remainder=False):
    """Batches (one stacked numpy array per column) of the items `indices`, in that order.

    Items load in `num_workers` threads (numpy and OpenCV release the GIL; threads share the clips without
    copying them between processes), kept `num_workers` items ahead of the consumer so that loading overlaps
    training. `epoch` selects the augmentation (source.get_item(i, epoch)); without it items come from
    source[i]. drop_remainder leaves out a last, smaller batch. A batch of one is a view of its item, not a copy.
    """
    indices = [int(index) for index in indices]
    if drop_remainder:
        indices = indices[:len(indices) // batch_size * batch_size]
    load = source.__getitem__ if epoch is None else lambda index: source.get_item(index, epoch)
    pool = ThreadPoolExecutor(max_workers=max(1, num_workers))
    pending = deque()
    try:
        upcoming = iter(indices)
        for start in range(0, len(indices), batch_size):
            size = min(batch_size, len(indices) - start)
            while len(pending) < size + num_workers and (index := next(upcoming, None)) is not None:
                pending.append(pool.submit(load, index))
            items = [pending.popleft().result() for _ in range(size)]
            yield tuple(column[0][None] if size == 1 else np.stack(column) for column in zip(*items))
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)


def epoch_batches(source, batch_size, shuffle, num_workers=2, drop_remainder=False, num_shards=1, shard_id=0,
                  seed=0, epoch=0):
    """One epoch of training batches of this rank: shard_indices' order, the epoch's augmentation.

    With drop_remainder the shards are trimmed to equal size and the last partial batch is left out, so every
    rank runs the same number of steps.
    """
    order = shard_indices(len(source), shuffle, num_shards, shard_id, seed, epoch, equal_shards=drop_remainder)
    return iterate_batches(source, order, batch_size, num_workers, epoch=epoch, drop_remainder=drop_remainder)
