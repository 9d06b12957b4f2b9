"""ECO-lite segment dataset on tiny generated frame folders and list files."""
import os

import numpy as np
import pytest

from src.data.annotations import AnnotationError, format_list_line
from src.data.eco_dataset import ECOSegmentDataset
from src.data.frames import FrameFolderError
from src.data.temporal import segment_indices_val
from src.data.video_io import VideoReadError, write_jpeg

VIDEOS = [("v_a_g01", 12, 0), ("v_b_g01", 9, 1), ("v_b_g02", 3, 1)]   # (folder, frames, label)
MEAN_BGR = np.array([104, 117, 128], np.float32)


def grey_frame(key, index):
    """Uniform grey 20 * index: the value says which frame it is (JPEG keeps flat grey exact)."""
    return np.full((32, 40, 3), 20 * index, np.uint8)


def textured_frame(key, index):
    return np.random.default_rng([sum(map(ord, key)), index]).integers(0, 256, (32, 40, 3), dtype=np.uint8)


def make_frames(root, videos=VIDEOS, frame=grey_frame, relative_to=None):
    """Frame folders under root/frames and a list file; paths relative to `relative_to` when given."""
    lines = []
    for key, n_frames, label in videos:
        folder = root / "frames" / key
        folder.mkdir(parents=True)
        for index in range(1, n_frames + 1):
            write_jpeg(folder / f"img_{index:06d}.jpg", frame(key, index))
        lines.append(format_list_line(folder.relative_to(relative_to) if relative_to else folder, n_frames, label))
    list_file = root / "list.txt"
    list_file.write_text("".join(line + "\n" for line in lines))
    return list_file



@pytest.mark.parametrize("train", [True, False])
def test_items_have_the_documented_shape_and_type(tmp_path, train):
    source = ECOSegmentDataset(make_frames(tmp_path), train=train)
    assert len(source) == 3 and source.labels == [0, 1, 1]
    assert source.video_keys == ["v_a_g01", "v_b_g01", "v_b_g02"]
    clip, label, index = source[1]
    assert clip.shape == (12, 224, 224) and clip.dtype == np.float32 and clip.flags.c_contiguous
    assert label.dtype == np.int32 and int(label) == 1 and label.shape == ()
    assert index.dtype == np.int32 and int(index) == 1


def test_frames_are_stacked_in_segment_order_on_the_channel_axis(tmp_path, read_log):
    clip = ECOSegmentDataset(make_frames(tmp_path), train=False)[0][0]
    indices = segment_indices_val(12, 4)
    assert read_log == [f"img_{i:06d}.jpg" for i in indices]
    expected = np.concatenate([20 * i - MEAN_BGR for i in indices])       # [B1, G1, R1, B2, ...]
    assert np.allclose(clip.mean(axis=(1, 2)), expected, atol=1.0)


def test_channels_are_bgr_minus_the_caffe_means(tmp_path):
    def red(key, index):
        frame = np.zeros((32, 40, 3), np.uint8)
        frame[..., 2] = 255                                                # BGR: pure red
        return frame
    for train in (True, False):
        clip = ECOSegmentDataset(make_frames(tmp_path / str(train), frame=red), train=train)[0][0]
        assert np.abs(clip[0::3] + 104).max() < 4                         # B = 0
        assert np.abs(clip[1::3] + 117).max() < 4                         # G = 0
        assert np.abs(clip[2::3] - 127).max() < 4                         # R = 255


def test_training_draws_one_frame_per_segment_and_a_short_video_reads_frame_one_once(tmp_path, read_log):
    source = ECOSegmentDataset(make_frames(tmp_path), train=True)
    source[0]                                                              # 12 frames: segments of 3
    assert [(int(name[4:10]) - 1) // 3 for name in read_log] == [0, 1, 2, 3]
    read_log.clear()
    clip = source[2][0]                                                    # 3 frames < 4 segments
    assert read_log == ["img_000001.jpg"]
    assert all(np.array_equal(clip[0:3], clip[3 * k:3 * k + 3]) for k in range(4))


def test_augmentation_depends_only_on_seed_epoch_and_index(tmp_path):
    list_file = make_frames(tmp_path, frame=textured_frame)
    first, again = ECOSegmentDataset(list_file, seed=2), ECOSegmentDataset(list_file, seed=2)
    assert np.array_equal(first.get_item(1, 5)[0], again.get_item(1, 5)[0])
    first.set_epoch(5)
    assert np.array_equal(first[1][0], again.get_item(1, 5)[0])
    epochs = [first.get_item(0, epoch)[0] for epoch in range(4)]
    assert any(not np.array_equal(epochs[0], other) for other in epochs[1:])
    evaluation = ECOSegmentDataset(list_file, train=False)
    assert np.array_equal(evaluation.get_item(0, 0)[0], evaluation.get_item(0, 3)[0])


def test_relative_frame_dirs_resolve_against_the_working_directory(tmp_path, monkeypatch):
    list_file = make_frames(tmp_path, relative_to=tmp_path)
    assert list_file.read_text().startswith("frames/v_a_g01 12 0")
    monkeypatch.chdir(tmp_path)
    source = ECOSegmentDataset("list.txt", train=False)
    assert source.videos[0].path == tmp_path / "frames" / "v_a_g01"
    monkeypatch.chdir(os.sep)
    assert source[0][0].shape == (12, 224, 224)                           # resolved once, at build time
    with pytest.raises(FrameFolderError, match=r"/frames/v_a_g01: frame folder is missing"):
        ECOSegmentDataset(list_file)                                       # from "/", the paths do not exist


def test_missing_list_folder_and_frame_errors_name_the_path(tmp_path):
    with pytest.raises(AnnotationError, match="list file not found"):
        ECOSegmentDataset(tmp_path / "absent.txt")
    list_file = make_frames(tmp_path)
    source = ECOSegmentDataset(list_file, train=False)
    (tmp_path / "frames" / "v_a_g01" / "img_000008.jpg").unlink()          # the middle of segment 3
    with pytest.raises(VideoReadError, match=r"v_a_g01/img_000008.jpg: frame is missing"):
        source[0]
    list_file.write_text(list_file.read_text() + f"{tmp_path / 'frames' / 'v_gone'} 10 0\n")
    with pytest.raises(FrameFolderError, match=r"v_gone: frame folder is missing"):
        ECOSegmentDataset(list_file)


def test_skip_missing_warns_once_and_leaves_the_videos_out(tmp_path, recwarn):
    list_file = make_frames(tmp_path)
    list_file.write_text(list_file.read_text() + f"{tmp_path / 'gone_1'} 10 0\n{tmp_path / 'frames' / 'v_a_g01'} 0 0\n")
    source = ECOSegmentDataset(list_file, skip_missing=True)
    assert len(source) == 3
    warned = [str(warning.message) for warning in recwarn if "cannot be loaded" in str(warning.message)]
    assert len(warned) == 1 and "left out 2 video(s)" in warned[0] and "gone_1" in warned[0]


@pytest.mark.parametrize("template", ["img_{:05d}.jpg", "img_{:04d}.jpg"])
def test_frames_with_another_zero_padding_are_read(tmp_path, capsys, template):
    """extract_frames writes img_000001.jpg for every dataset; hmdb51's setting names img_00001.jpg."""
    list_file = make_frames(tmp_path)
    clip = ECOSegmentDataset(list_file, 4, train=False, image_template=template)[0][0]
    expected = ECOSegmentDataset(list_file, 4, train=False)[0][0]
    np.testing.assert_array_equal(clip, expected)
    assert "names its frames img_000001.jpg, not img_" in capsys.readouterr().err
