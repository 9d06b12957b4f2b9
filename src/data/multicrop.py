"""Three-crop evaluation: every clip is scored at three positions along the frame's long side.

Frames are first resized so that their short side equals the crop, so the three square crops (start, centre and
end of the long side: left/centre/right, or top/centre/bottom for portrait frames) together cover the whole frame,
as mmaction2's ThreeCrop does. The single-crop evaluation instead crops the centre of a frame resized to
256/224 of the crop, so the centre crop here is not that crop: it sees the frame at the training scale.
"""
import copy

import numpy as np

from src.data.transforms import CenterCrop, Compose, ResizeShortSide

CROP_POSITIONS = ("start", "centre", "end")


class ThreeCrop:
    """One size x size crop: `position` 0, 1 or 2 = start, centre or end of the long side, centred on the short side."""

    def __init__(self, size, position):
        if position not in range(len(CROP_POSITIONS)):
            raise ValueError(f"position must be 0, 1 or 2 ({', '.join(CROP_POSITIONS)}), got {position!r}")
        self.size = int(size)
        self.position = position

    def _offset(self, length):
        return (0, round((length - self.size) / 2), length - self.size)[self.position]

    def __call__(self, clip, rng=None):
        height, width = clip.shape[1:3]
        if height < self.size or width < self.size:
            raise ValueError(f"ThreeCrop({self.size}): frames are {height}x{width} (HxW), smaller than the crop; "
                             "resize them first (ResizeShortSide)")
        if width >= height:
            top, left = round((height - self.size) / 2), self._offset(width)
        else:
            top, left = self._offset(height), round((width - self.size) / 2)
        return clip[:, top:top + self.size, left:left + self.size]

    def __repr__(self):
        return f"ThreeCrop({self.size}, {CROP_POSITIONS[self.position]})"


def three_crop_transform(frame_transform, size, position):
    """An evaluation frame transform with its ResizeShortSide + CenterCrop replaced by the three-crop geometry.

    The transforms after the crop (e.g. BGR -> RGB) are kept, so the crops differ from the centre crop only in
    where they are taken.
    """
    transforms = list(getattr(frame_transform, "transforms", ()))
    if [type(t) for t in transforms[:2]] != [ResizeShortSide, CenterCrop]:
        raise ValueError(f"three-crop evaluation needs an evaluation transform that starts with ResizeShortSide, "
                         f"CenterCrop; got {frame_transform!r}")
    return Compose([ResizeShortSide(size), ThreeCrop(size, position)] + transforms[2:])


class ThreeCropSource:
    """Items (clip, label, index) of an evaluation source, each taken at three crops: item 3 * i + p is item i at
    crop position p.

    `video_index`, `video_keys` and `labels` are per item, as in the wrapped source, so the clip and crop scores of
    a video can be averaged with `src.evaluation.video_scores`. Each crop decodes its frames again.
    """

    column_names = ("clip", "label", "index")

    def __init__(self, source, size):
        if getattr(source, "train", False):
            raise ValueError("three-crop evaluation needs an evaluation source (train=False)")
        self.source = source
        self.views = []
        for position in range(len(CROP_POSITIONS)):
            view = copy.copy(source)
            view.frame_transform = three_crop_transform(source.frame_transform, size, position)
            self.views.append(view)
        crops = len(self.views)
        self.labels = [label for label in source.labels for _ in range(crops)]
        self.video_keys = [key for key in source.video_keys for _ in range(crops)]
        self.video_index = [video for video in source.video_index for _ in range(crops)]
        self.class_names = source.class_names

    @property
    def num_classes(self):
        return len(self.class_names)

    def __len__(self):
        return len(self.labels)

    def get_item(self, index, epoch=0):
        item, position = divmod(int(index), len(self.views))
        clip, label, _ = self.views[position].get_item(item, epoch)
        return clip, label, np.array(index, dtype=np.int32)

    def __getitem__(self, index):
        return self.get_item(index, self.source.epoch)
