"""Clip transforms: one random draw per clip, ECO's multi-scale crop, flow-aware flip, value ranges."""
import numpy as np
import pytest

from src.data.transforms import (BGRToRGB, CenterCrop, Compose, MultiScaleCrop, RandomHorizontalFlip,
                                 ResizeShortSide, SubtractMean, ToSymmetricRange)


def random_clip(seed=0, frames=3, height=24, width=32, channels=3):
    return np.random.default_rng(seed).integers(0, 256, (frames, height, width, channels), dtype=np.uint8)


def coordinate_clip(frames, height, width):
    """Channel 0 = row, channel 1 = column, channel 2 = frame: every pixel says where it came from."""
    rows, columns = np.mgrid[:height, :width]
    frame = np.stack([rows, columns, np.zeros_like(rows)], axis=-1)
    clip = np.stack([frame + [0, 0, t] for t in range(frames)])
    return clip.astype(np.uint8)


def test_multiscale_crop_sizes_for_320x240():
    pairs = MultiScaleCrop(224).crop_sizes(240, 320)
    assert len(pairs) == 10
    sides = [240, 210, 180, 158]
    expected = {(sides[j], sides[i]) for i in range(4) for j in range(4) if abs(i - j) <= 1}
    assert set(pairs) == expected


def test_multiscale_crop_snaps_sides_within_3px_to_the_output_size():
    sides = {side for pair in MultiScaleCrop(224).crop_sizes(254, 300) for side in pair}
    assert sides == {254, 224, 190, 167}                     # int(254 * .875) = 222 -> 224
    assert {side for pair in MultiScaleCrop(224).crop_sizes(250, 300) for side in pair} == {250, 218, 187, 165}


def test_multiscale_crop_offsets_are_the_13_fixed_positions():
    offsets = MultiScaleCrop(224).fixed_offsets(240, 320, 180, 180)   # w_step 35, h_step 15
    assert len(offsets) == 13 and len(set(offsets)) == 13
    assert {(0, 0), (140, 0), (0, 60), (140, 60), (70, 30), (35, 15), (105, 45)} <= set(offsets)
    assert len(MultiScaleCrop(224, more_fix_crop=False).fixed_offsets(240, 320, 180, 180)) == 5


def test_multiscale_crop_reaches_every_size_and_offset():
    crop = MultiScaleCrop(224)
    rng = np.random.default_rng(0)
    drawn = {crop.sample(rng, 240, 320) for _ in range(3000)}
    possible = {(left, top, w, h) for w, h in crop.crop_sizes(240, 320)
                for left, top in crop.fixed_offsets(240, 320, h, w)}
    assert drawn == possible


def test_multiscale_crop_is_shared_by_all_frames():
    # Frames are shifted copies of one wide image; without resizing, the outputs must stay shifted copies.
    wide = random_clip(1, frames=1, height=32, width=60)[0]
    clip = np.stack([wide[:, t:t + 48] for t in range(5)])
    crop = MultiScaleCrop(32, scales=(1,), max_distort=0)
    lefts = set()
    for seed in range(20):
        out = crop(clip, np.random.default_rng(seed))
        assert out.shape == (5, 32, 32, 3) and out.dtype == np.uint8
        assert all(np.array_equal(out[t, :, 1:], out[t + 1, :, :-1]) for t in range(4))
        lefts.add(next(left for left in range(17) if np.array_equal(out[0], clip[0, :, left:left + 32])))
    assert len(lefts) > 1


def test_multiscale_crop_resizes_identical_frames_and_flow_channels_identically():
    frame = random_clip(2, frames=1, height=40, width=56, channels=1)[0]
    clip = np.repeat(np.concatenate([frame, frame], axis=-1)[None], 4, axis=0)    # flow x == y, 4 frames
    out = MultiScaleCrop(20)(clip, np.random.default_rng(3))
    assert out.shape == (4, 20, 20, 2)
    assert np.array_equal(out[..., 0], out[..., 1])
    assert all(np.array_equal(out[0], out[t]) for t in range(4))


def test_resize_short_side():
    assert ResizeShortSide(256)(random_clip(height=240, width=320), None).shape == (3, 256, 341, 3)
    assert ResizeShortSide(16)(random_clip(height=40, width=30, channels=2), None).shape == (3, 21, 16, 2)
    clip = random_clip(height=256, width=300)
    assert ResizeShortSide(256)(clip, None) is clip


def test_center_crop_offsets_match_the_seed():
    clip = coordinate_clip(2, 240, 320)
    out = CenterCrop(224)(clip, None)
    assert out.shape == (2, 224, 224, 3)
    assert out[0, 0, 0, 0] == 8 and out[0, -1, 0, 0] == 231        # rows 8..231
    assert out[0, 0, 0, 1] == 48 and out[0, 0, -1, 1] == 271 % 256  # columns 48..271 (uint8 wraps)


def test_center_crop_of_a_small_frame_names_the_sizes():
    with pytest.raises(ValueError, match=r"CenterCrop\(224\).*200x300"):
        CenterCrop(224)(random_clip(height=200, width=300), None)


def test_flip_mirrors_rgb_clips_as_a_whole():
    clip = random_clip(4)
    flipped = RandomHorizontalFlip(p=1.0)(clip, np.random.default_rng(0))
    assert np.array_equal(flipped, clip[:, :, ::-1])
    assert RandomHorizontalFlip(p=0.0)(clip, np.random.default_rng(0)) is clip


def test_flip_negates_flow_x_only():
    clip = random_clip(5, channels=2)
    original = clip.copy()
    flipped = RandomHorizontalFlip(p=1.0, is_flow=True)(clip, np.random.default_rng(0))
    assert np.array_equal(flipped[..., 0], 255 - clip[:, :, ::-1, 0])
    assert np.array_equal(flipped[..., 1], clip[:, :, ::-1, 1])
    assert np.array_equal(clip, original)                              # the input is left alone

    as_float = ToSymmetricRange()(clip, None)
    flipped_float = RandomHorizontalFlip(p=1.0, is_flow=True)(as_float, np.random.default_rng(0))
    assert np.allclose(flipped_float, ToSymmetricRange()(flipped, None), atol=1e-6)


def test_flip_happens_about_half_the_time_and_per_generator():
    clip = random_clip(6)
    flip = RandomHorizontalFlip()
    outcomes = [flip(clip, np.random.default_rng(seed)) is not clip for seed in range(200)]
    assert 60 < sum(outcomes) < 140
    assert outcomes == [flip(clip, np.random.default_rng(seed)) is not clip for seed in range(200)]


def test_symmetric_range():
    clip = np.array([0, 128, 255], dtype=np.uint8).reshape(1, 1, 3, 1)
    out = ToSymmetricRange()(clip, None)
    assert out.dtype == np.float32
    assert np.allclose(out.ravel(), [-1.0, 128 / 255 * 2 - 1, 1.0], atol=1e-6)


def test_subtract_mean_and_channel_order():
    clip = np.zeros((1, 1, 1, 3), dtype=np.uint8)
    clip[..., :] = [10, 20, 30]
    assert np.array_equal(BGRToRGB()(clip, None).ravel(), [30, 20, 10])
    out = SubtractMean()(clip, None)
    assert out.dtype == np.float32 and np.array_equal(out.ravel(), [-94, -97, -98])
    with pytest.raises(ValueError, match="3 means for 2 channels"):
        SubtractMean()(random_clip(channels=2), None)


def test_compose_is_reproducible_from_the_seed():
    pipeline = Compose([MultiScaleCrop(16), RandomHorizontalFlip(), ToSymmetricRange()])
    clip = random_clip(7, height=30, width=40)
    first = pipeline(clip, np.random.default_rng(11))
    assert np.array_equal(first, pipeline(clip, np.random.default_rng(11)))
    assert first.shape == (3, 16, 16, 3) and first.dtype == np.float32
    assert any(not np.array_equal(first, pipeline(clip, np.random.default_rng(seed))) for seed in range(5))
