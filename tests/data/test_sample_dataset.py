"""The built-in sample dataset: real videos, official split formats, deterministic."""
import cv2
import pytest

from src.data.annotations import hmdb51_split, read_ucf101_class_index, ucf101_split
from src.data.video_io import read_video
from src.tools import make_sample_dataset
from tests.helpers import tree_bytes

TINY = ["--num_classes", "3", "--groups", "3", "--clips", "1", "--num_frames", "8", "--width", "48",
        "--height", "32", "--workers", "1", "--no-progress"]


@pytest.fixture(scope="module")
def sample(module_mktemp):
    out = module_mktemp("sample")
    assert make_sample_dataset.main([str(out), *TINY]) == 0
    return out


def test_videos_are_real_avi_files_of_the_requested_size(sample):
    videos = sorted((sample / "ucf101" / "videos").rglob("*.avi"))
    assert len(videos) == 9
    frames, fps = read_video(videos[0])
    assert len(frames) == 8 and frames[0].shape == (32, 48, 3) and fps == pytest.approx(25)
    assert videos[0].read_bytes()[:4] == b"RIFF"


def test_ucf101_layout_and_split_formats(sample):
    splits = sample / "ucf101" / "splits"
    assert (splits / "classInd.txt").read_bytes() == b"1 MoveUp\r\n2 MoveDown\r\n3 MoveSideways\r\n"
    assert read_ucf101_class_index(splits / "classInd.txt") == ["MoveUp", "MoveDown", "MoveSideways"]
    train = (splits / "trainlist01.txt").read_bytes().split(b"\r\n")
    assert train[0] == b"MoveUp/v_MoveUp_g02_c01.avi 1"
    assert (splits / "testlist01.txt").read_bytes().startswith(b"MoveUp/v_MoveUp_g01_c01.avi\r\n")
    for split in (1, 2, 3):
        labels, entries = ucf101_split(splits, split)
        test_groups = {name.split("_g")[1][:2] for _, name, subset in entries if subset == "validation"}
        assert test_groups == {f"{split:02d}"}
        for class_name, name, _ in entries:
            assert (sample / "ucf101" / "videos" / class_name / name).is_file()
    assert (sample / "ucf101" / "label_map.txt").read_text().split() == labels


def test_hmdb51_layout_and_split_formats(sample):
    splits = sample / "hmdb51" / "splits"
    assert (splits / "move_up_test_split1.txt").read_text().splitlines()[0] == "move_up_g01_c01.avi 2 "
    labels, entries = hmdb51_split(splits, 2)
    assert labels == ["move_down", "move_sideways", "move_up"]  # sorted, as the seed
    assert sum(subset == "validation" for *_, subset in entries) == 3
    for class_name, name, _ in entries:
        assert (sample / "hmdb51" / "videos" / class_name / name).is_file()


def test_same_seed_same_bytes_other_seed_other_videos(sample, tmp_path):
    assert make_sample_dataset.main([str(tmp_path / "again"), *TINY]) == 0
    assert tree_bytes(tmp_path / "again") == tree_bytes(sample)
    assert make_sample_dataset.main([str(tmp_path / "other"), *TINY, "--seed", "1"]) == 0
    first = read_video(tmp_path / "other/ucf101/videos/MoveUp/v_MoveUp_g01_c01.avi")[0][0]
    assert cv2.absdiff(first, read_video(sample / "ucf101/videos/MoveUp/v_MoveUp_g01_c01.avi")[0][0]).mean() > 10


def test_rerun_skips_finished_videos(sample, capsys):
    assert make_sample_dataset.main([str(sample), *TINY, "--datasets", "ucf101"]) == 0
    assert "done 0, skipped 9" in capsys.readouterr().err


def test_motion_follows_the_class():
    """Same random draws, opposite motion: the middle frame is nearly the same, the ends differ."""
    import numpy as np

    up = make_sample_dataset.render_video("move_up", np.random.default_rng(0), 10, 96, 96)
    down = make_sample_dataset.render_video("move_down", np.random.default_rng(0), 10, 96, 96)
    assert up[0].shape == (96, 96, 3)
    assert not np.array_equal(up[0], up[-1])
    assert np.abs(up[5].astype(int) - down[5].astype(int)).mean() < np.abs(up[0].astype(int) - down[0].astype(int)).mean()


def test_each_class_has_its_own_outline_and_tint():
    """The appearance cue: with the same random draws, two classes' objects differ in shape and colour."""
    import numpy as np

    masks = [make_sample_dataset.shape_mask(shape, 40) for shape in make_sample_dataset.SHAPES]
    for i, first in enumerate(masks):
        assert 0.1 < first.mean() < 0.9
        for second in masks[i + 1:]:
            assert np.abs(first - second).mean() > 0.05
    assert len(set(make_sample_dataset.TINTS)) == len(make_sample_dataset.MOTIONS) == len(make_sample_dataset.SHAPES)
    frames = [make_sample_dataset.render_video("rotate", np.random.default_rng(1), 2, 96, 96, shape, tint)[0]
              for shape, tint in (("disc", (0, 0, 255)), ("square", (0, 0, 255)), ("disc", (255, 0, 0)))]
    assert np.abs(frames[0].astype(int) - frames[1]).mean() > 1
    assert np.abs(frames[0].astype(int) - frames[2]).mean() > 1
