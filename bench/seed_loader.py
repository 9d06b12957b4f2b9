"""The seeds' way of loading clips, re-implemented minimally as the loader benchmark's baseline
(docs/differences.md#i3d-data-training, docs/differences.md#eco-data-pipeline).

I3D (docs/differences.md#i3d-thread-loader): per frame one PIL open, then numpy on that frame in float64 (v / 255 * 2 -
1), the
RandomCrop's resize of the short side to 256 whose result the seed discarded (computed all the same), a 224 crop
at a random position drawn per frame, the per-clip flip; then float32, stack over time, transpose to (C, T, H, W).
ECO-lite (docs/differences.md#eco-data-pipeline): per segment one PIL open, the clip's multi-scale crop and PIL
bilinear resize, the flip,
Stack(roll=True) to BGR channels, CHW float32, minus the BGR means. Both are wrapped as the seeds wrapped them:
GeneratorDataset with its default worker processes (docs/differences.md#i3d-thread-loader,
docs/differences.md#eco-data-pipeline). Only the loading is kept: no annotation
parsing, no error handling.
"""
import random

import cv2
import numpy as np
from PIL import Image

BGR_MEAN = np.array([104, 117, 128], np.float32)


class SeedI3DClips:
    """(clip float32 (C, T, H, W), target int32) per video: `videos` is [(frame paths, label)]."""

    def __init__(self, videos, sample_duration, crop=224, flow=False):
        self.videos, self.sample_duration, self.crop, self.flow = videos, sample_duration, crop, flow

    def __len__(self):
        return len(self.videos)

    def temporal_random_crop(self, count):
        begin = random.randint(0, max(0, count - self.sample_duration - 1))
        indices = list(range(begin, min(begin + self.sample_duration, count)))
        for index in indices:
            if len(indices) >= self.sample_duration:
                break
            indices.append(index)
        return indices

    def spatial(self, image, flip):
        height, width = image.shape[:2]
        scale = 256 / min(height, width)
        cv2.resize(image, (round(width * scale), round(height * scale)))
        top, left = random.randint(0, height - self.crop), random.randint(0, width - self.crop)
        image = image[top:top + self.crop, left:left + self.crop]
        return cv2.flip(image, 1) if flip else image

    def load(self, path, flip):
        image = np.array(Image.open(path).convert("L" if self.flow else "RGB"))
        return self.spatial(image / 255 * 2 - 1, flip)

    def __getitem__(self, index):
        paths, label = self.videos[index]
        flip = random.random() < 0.5
        frames = []
        for i in self.temporal_random_crop(len(paths)):
            if self.flow:
                x, y = self.load(paths[i][0], flip), self.load(paths[i][1], flip)
                frames.append(np.stack([x, y], axis=2).astype(np.float32))
            else:
                frames.append(self.load(paths[i], flip).astype(np.float32))
        return np.stack(frames).transpose(3, 0, 1, 2), np.array(label, np.int32)


class SeedECOSegments:
    """(clip float32 (3 * segments, crop, crop), label int32) per video, TSN-style."""

    SCALES = (1, .875, .75, .66)

    def __init__(self, videos, num_segments, crop=224):
        self.videos, self.num_segments, self.crop = videos, num_segments, crop

    def __len__(self):
        return len(self.videos)

    def sample_indices(self, count):
        average = count // self.num_segments
        if average > 0:
            return np.arange(self.num_segments) * average + np.random.randint(average, size=self.num_segments)
        return np.sort(np.random.randint(count, size=self.num_segments))

    def multi_scale_crop(self, width, height):
        base = min(width, height)
        sides = [int(base * scale) for scale in self.SCALES]
        sides = [self.crop if abs(side - self.crop) < 3 else side for side in sides]
        pairs = [(w, h) for i, h in enumerate(sides) for j, w in enumerate(sides) if abs(i - j) <= 1]
        crop_width, crop_height = random.choice(pairs)
        w_step, h_step = (width - crop_width) // 4, (height - crop_height) // 4
        grid = [(0, 0), (4, 0), (0, 4), (4, 4), (2, 2), (0, 2), (4, 2), (2, 4), (2, 0), (1, 1), (3, 1), (1, 3),
                (3, 3)]
        w, h = random.choice(grid)
        left, top = w * w_step, h * h_step
        return left, top, left + crop_width, top + crop_height

    def __getitem__(self, index):
        paths, label = self.videos[index]
        images = [Image.open(paths[i]).convert("RGB") for i in self.sample_indices(len(paths))]
        box = self.multi_scale_crop(*images[0].size)
        images = [image.crop(box).resize((self.crop, self.crop), Image.BILINEAR) for image in images]
        if random.random() < 0.5:
            images = [image.transpose(Image.FLIP_LEFT_RIGHT) for image in images]
        stacked = np.concatenate([np.array(image)[:, :, ::-1] for image in images], axis=2)
        clip = stacked.transpose(2, 0, 1).astype(np.float32)
        return clip - np.tile(BGR_MEAN, self.num_segments)[:, None, None], np.array(label, np.int32)


def seed_dataset(source, num_workers):
    """GeneratorDataset as the seeds built it: shuffled, worker processes (MindSpore's default), batch 1."""
    import mindspore.dataset as ds

    dataset = ds.GeneratorDataset(source, column_names=["clip", "label"], shuffle=True,
                                  num_parallel_workers=num_workers)
    return dataset.batch(1)
