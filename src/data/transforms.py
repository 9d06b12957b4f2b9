"""Clip transforms: each works on a whole clip, a numpy array (T, H, W, C), so that a random transform
draws ONE set of parameters per clip (the same crop and flip for every frame, and for flow x and y).

Every transform is called as `transform(clip, rng)`; `rng` is a numpy Generator, the only source of
randomness (never the global `random`/`np.random`), so a clip is reproducible from its seed. Deterministic
transforms accept and ignore it. Frames enter as uint8 as cv2 reads them (colour in BGR order, flow as
8-bit images with 128 = no motion); the value transforms turn them into float32 at the end.
"""
import cv2
import numpy as np


class Compose:
    """Apply transforms in order, all with the same Generator."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, clip, rng=None):
        for transform in self.transforms:
            clip = transform(clip, rng)
        return clip

    def __repr__(self):
        return f"Compose({self.transforms!r})"


def _resize_frames(clip, width, height):
    """cv2 bilinear resize of every frame into one preallocated array (cv2 drops a single channel axis)."""
    if clip.shape[1:3] == (height, width):
        return clip
    resized = np.empty((clip.shape[0], height, width) + clip.shape[3:], dtype=clip.dtype)
    in_place = resized.shape[3] > 1  # for one channel cv2 writes a (H, W) result, not into the (H, W, 1) target
    for frame, target in zip(clip, resized):
        if in_place:
            cv2.resize(frame, (width, height), dst=target, interpolation=cv2.INTER_LINEAR)
        else:
            target[...] = cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR).reshape(target.shape)
    return resized


class ResizeShortSide:
    """Scale every frame so that its short side is `size` (bilinear), as ECO's GroupScale and mmaction2.

    The long side is int(size * long / short) (torchvision's rule: 320x240 -> 341x256).
    """

    def __init__(self, size):
        self.size = int(size)

    def __call__(self, clip, rng=None):
        height, width = clip.shape[1:3]
        if height <= width:
            new_height, new_width = self.size, int(self.size * width / height)
        else:
            new_height, new_width = int(self.size * height / width), self.size
        return _resize_frames(clip, new_width, new_height)

    def __repr__(self):
        return f"ResizeShortSide({self.size})"


class CenterCrop:
    """Crop size x size at (round((H - size) / 2), round((W - size) / 2)).

    A frame smaller than the crop is an error (the original returned a wrongly shaped clip,
    docs/differences.md#i3d-missing-frames).
    """

    def __init__(self, size):
        self.size = int(size)

    def __call__(self, clip, rng=None):
        height, width = clip.shape[1:3]
        if height < self.size or width < self.size:
            raise ValueError(f"CenterCrop({self.size}): frames are {height}x{width} (HxW), smaller than the "
                             f"{self.size}x{self.size} crop; resize them first (ResizeShortSide)")
        top, left = round((height - self.size) / 2), round((width - self.size) / 2)
        return clip[:, top:top + self.size, left:left + self.size]

    def __repr__(self):
        return f"CenterCrop({self.size})"


class MultiScaleCrop:
    """ECO/TSN's GroupMultiScaleCrop: a random crop of a random scale and aspect, resized to size x size.

    Crop sides are int(short_side * scale), snapped to `size` when within 3 px of it; (width, height)
    pairs use scales i, j with |i - j| <= max_distort. The offset is one of 5 fixed positions (13 with
    more_fix_crop) on a 4x4 grid of the free space, or uniform when fix_crop is False. One crop per clip.
    A snapped side larger than the frame is clipped to the frame (the original would have padded with black).
    """

    def __init__(self, size, scales=(1, .875, .75, .66), max_distort=1, fix_crop=True, more_fix_crop=True):
        self.size = int(size)
        self.scales = tuple(scales)
        self.max_distort = max_distort
        self.fix_crop = fix_crop
        self.more_fix_crop = more_fix_crop

    def crop_sizes(self, height, width):
        """Candidate (crop_width, crop_height) pairs for a frame of height x width."""
        base = min(height, width)
        sides = [int(base * scale) for scale in self.scales]
        sides = [self.size if abs(side - self.size) < 3 else side for side in sides]
        return [(min(crop_width, width), min(crop_height, height))
                for i, crop_height in enumerate(sides) for j, crop_width in enumerate(sides)
                if abs(i - j) <= self.max_distort]

    def fixed_offsets(self, height, width, crop_height, crop_width):
        """(left, top) candidates: corners and centre, plus the 8 in-between positions with more_fix_crop."""
        w_step, h_step = (width - crop_width) // 4, (height - crop_height) // 4
        grid = [(0, 0), (4, 0), (0, 4), (4, 4), (2, 2)]
        if self.more_fix_crop:
            grid += [(0, 2), (4, 2), (2, 4), (2, 0), (1, 1), (3, 1), (1, 3), (3, 3)]
        return [(w * w_step, h * h_step) for w, h in grid]

    def sample(self, rng, height, width):
        """(left, top, crop_width, crop_height) of one random crop."""
        pairs = self.crop_sizes(height, width)
        crop_width, crop_height = pairs[rng.integers(len(pairs))]
        if self.fix_crop:
            offsets = self.fixed_offsets(height, width, crop_height, crop_width)
            left, top = offsets[rng.integers(len(offsets))]
        else:
            left = int(rng.integers(width - crop_width + 1))
            top = int(rng.integers(height - crop_height + 1))
        return left, top, crop_width, crop_height

    def __call__(self, clip, rng):
        left, top, crop_width, crop_height = self.sample(rng, *clip.shape[1:3])
        cropped = clip[:, top:top + crop_height, left:left + crop_width]
        return _resize_frames(cropped, self.size, self.size)

    def __repr__(self):
        return (f"MultiScaleCrop({self.size}, scales={self.scales}, max_distort={self.max_distort}, "
                f"fix_crop={self.fix_crop}, more_fix_crop={self.more_fix_crop})")


class RandomHorizontalFlip:
    """Mirror the whole clip with probability p.

    For flow (is_flow) the x component, channel 0, changes sign too, since leftward motion becomes
    rightward (the original did not, docs/differences.md#i3d-flow-flip): 255 - x on uint8 flow images, -x on float flow
    in [-1, 1]
    (the same thing, as v / 255 * 2 - 1 maps 255 - v to its negative).
    """

    def __init__(self, p=0.5, is_flow=False):
        self.p = p
        self.is_flow = is_flow

    def __call__(self, clip, rng):
        if rng.random() >= self.p:
            return clip
        if not self.is_flow:
            return clip[:, :, ::-1]  # a view: the loader's final rearrangement copies it once, in order
        rows = np.ascontiguousarray(clip).reshape((-1,) + clip.shape[2:])  # one tall image: one fast cv2 call
        flipped = cv2.flip(rows, 1).reshape(clip.shape)
        x = flipped[..., 0]
        if flipped.dtype == np.uint8:
            np.subtract(255, x, out=x)
        else:
            np.negative(x, out=x)
        return flipped

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p}, is_flow={self.is_flow})"


class BGRToRGB:
    """Reverse the channel axis: cv2 reads BGR, the I3D weights expect RGB (the original fed BGR,
    docs/differences.md#i3d-rgb-order).

    Returns a view; the loader's final rearrangement copies it once, in order.
    """

    def __call__(self, clip, rng=None):
        return clip[..., ::-1]

    def __repr__(self):
        return "BGRToRGB()"


class ToSymmetricRange:
    """uint8 -> float32 v / 255 * 2 - 1 in [-1, 1] (I3D rgb and flow; for flow +-1 is +-20 px)."""

    def __call__(self, clip, rng=None):
        scaled = np.multiply(clip, np.float32(2.0 / 255.0), dtype=np.float32)
        scaled -= 1.0
        return scaled

    def __repr__(self):
        return "ToSymmetricRange()"


class SubtractMean:
    """uint8 -> float32 minus a per-channel mean, no scaling: ECO's Caffe-style input (BGR means)."""

    def __init__(self, mean=(104, 117, 128)):
        self.mean = np.asarray(mean, dtype=np.float32)

    def __call__(self, clip, rng=None):
        if clip.shape[-1] != self.mean.size:
            raise ValueError(f"SubtractMean: {self.mean.size} means for {clip.shape[-1]} channels")
        return clip.astype(np.float32) - self.mean

    def __repr__(self):
        return f"SubtractMean({tuple(self.mean.tolist())})"
