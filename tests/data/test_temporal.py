"""Frame-index sampling: I3D windows and ECO/TSN segments on small synthetic lengths."""
import numpy as np
import pytest

from src.data.temporal import (loop_pad, multi_clip_starts, segment_indices_train, segment_indices_val,
                               temporal_center_crop, temporal_random_crop, temporal_window)


def test_loop_pad_repeats_cyclically_without_mutating():
    indices = [3, 4, 5]
    assert loop_pad(indices, 8) == [3, 4, 5, 3, 4, 5, 3, 4]
    assert indices == [3, 4, 5]
    assert loop_pad(indices, 2) == [3, 4, 5]
    with pytest.raises(ValueError):
        loop_pad([], 4)


def test_window_is_clipped_to_the_video_and_looped():
    assert temporal_window(10, 3, 4) == [3, 4, 5, 6]
    assert temporal_window(10, 8, 5) == [8, 9, 10, 8, 9]
    with pytest.raises(ValueError, match="outside"):
        temporal_window(10, 11, 4)


@pytest.mark.parametrize("n_frames, size", [(10, 4), (8, 8), (9, 8), (5, 1)])
def test_random_crop_reaches_every_start_including_the_last(n_frames, size):
    rng = np.random.default_rng(0)
    starts = set()
    for _ in range(400):
        window = temporal_random_crop(n_frames, size, rng)
        assert window == list(range(window[0], window[0] + size))
        starts.add(window[0])
    assert starts == set(range(1, n_frames - size + 2))


def test_random_crop_of_a_short_video_loops_the_whole_video():
    rng = np.random.default_rng(0)
    assert {tuple(temporal_random_crop(3, 7, rng)) for _ in range(20)} == {(1, 2, 3, 1, 2, 3, 1)}


def test_random_crop_is_reproducible_from_the_generator():
    first = [temporal_random_crop(100, 8, np.random.default_rng(5)) for _ in range(3)]
    assert first[0] == first[1] == first[2]


@pytest.mark.parametrize("n_frames, size, expected", [
    (10, 4, [4, 5, 6, 7]),          # centre 5 (0-based), begin 3
    (9, 4, [3, 4, 5, 6]),           # centre 4, begin 2
    (10, 5, [4, 5, 6, 7, 8]),       # centre 5, begin 3
    (8, 8, list(range(1, 9))),
    (3, 5, [1, 2, 3, 1, 2]),        # short: begin 0, looped
    (15, 2, [7, 8]),
])
def test_center_crop_matches_the_seed(n_frames, size, expected):
    assert temporal_center_crop(n_frames, size) == expected


def test_one_clip_is_the_centre_crop():
    for n_frames in range(1, 30):
        for size in (1, 4, 7, 8):
            start = multi_clip_starts(n_frames, size, 1)[0]
            assert temporal_window(n_frames, start, size) == temporal_center_crop(n_frames, size)


def test_multi_clips_spread_evenly_inside_the_video():
    assert multi_clip_starts(100, 10, 5) == [6, 26, 46, 66, 86]
    assert multi_clip_starts(20, 10, 3) == [1, 6, 11]           # ends clamped: the windows stay inside
    assert multi_clip_starts(6, 10, 3) == [1, 1, 1]             # short video: the same looped window
    with pytest.raises(ValueError):
        multi_clip_starts(10, 4, 0)


def test_train_segments_draw_one_frame_per_segment():
    rng = np.random.default_rng(0)
    seen = [set() for _ in range(4)]
    for _ in range(300):
        indices = segment_indices_train(10, 4, rng)            # avg = 2: segments [1,2] [3,4] [5,6] [7,8]
        for segment, index in enumerate(indices):
            seen[segment].add(index)
    assert seen == [{1, 2}, {3, 4}, {5, 6}, {7, 8}]


def test_train_segments_of_exactly_num_segments_frames_and_of_a_short_video():
    rng = np.random.default_rng(0)
    assert segment_indices_train(4, 4, rng) == [1, 2, 3, 4]      # avg = 1, shift always 0
    assert segment_indices_train(3, 4, rng) == [1, 1, 1, 1]      # avg = 0: zeros + 1


def test_val_segments_take_the_middle_of_each_segment():
    assert segment_indices_val(10, 4) == [2, 4, 7, 9]            # tick 2.5: int(1.25 + 2.5x) + 1
    assert segment_indices_val(16, 4) == [3, 7, 11, 15]
    assert segment_indices_val(5, 4) == [1, 2, 4, 5]             # tick 1.25: int(0.625), int(1.875), ...


def test_val_segments_of_a_short_video_use_frame_one():
    assert segment_indices_val(4, 4) == [1, 1, 1, 1]             # the seed's guard is n > N
    assert segment_indices_val(2, 4) == [1, 1, 1, 1]
