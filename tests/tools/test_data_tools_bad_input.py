"""Bad input: each case gets a clear message naming the file, a non-zero exit, and loses no finished work."""
import os
import shutil

import cv2
import numpy as np
import pytest

from src.data.annotations import AnnotationError, load_annotation, parse_list_line, video_key
from src.data.locking import LOCK_NAME
from src.tools import (convert_rgb_to_flow, extract_frames, gen_dataset_lists, generate_n_frames,
                       generate_rgb_jpgs, hmdb51_json, make_sample_dataset, ucf101_json)
from tests.helpers import tree_bytes

QUIET = ["--workers", "1", "--no-progress"]


def write_ramp_video(path, frames=25):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"XVID"), 25, (32, 24))
    for value in range(frames):
        writer.write(np.full((24, 32, 3), value * 10, np.uint8))
    writer.release()


@pytest.fixture()
def raw(tmp_path):
    assert make_sample_dataset.main([str(tmp_path / "raw"), "--num_classes", "2", "--groups", "3", "--clips", "1",
                                     "--num_frames", "6", "--width", "32", "--height", "24", *QUIET]) == 0
    return tmp_path / "raw"


@pytest.fixture()
def frames(raw, tmp_path):
    rgb = tmp_path / "rgb"
    assert generate_rgb_jpgs.main([str(raw / "ucf101/videos"), str(rgb), "ucf101", "--size", "24", *QUIET]) == 0
    return rgb


def test_corrupt_truncated_and_zero_frame_videos_fail_by_name(raw, tmp_path, capsys):
    videos = raw / "ucf101/videos/MoveUp"
    (videos / "v_MoveUp_g09_c01.avi").write_bytes(os.urandom(4000))
    truncated = videos / "v_MoveUp_g08_c01.avi"
    write_ramp_video(truncated)
    truncated.write_bytes(truncated.read_bytes()[:7000])
    writer = cv2.VideoWriter(str(videos / "v_MoveUp_g07_c01.avi"), cv2.VideoWriter_fourcc(*"XVID"), 25, (32, 24))
    writer.release()
    out = tmp_path / "rgb"
    assert generate_rgb_jpgs.main([str(raw / "ucf101/videos"), str(out), "ucf101", "--size", "0", *QUIET]) == 1
    err = capsys.readouterr().err
    assert "done 6, skipped 0 (already finished), failed 3" in err
    assert "v_MoveUp_g09_c01.avi: cannot open video" in err
    assert "v_MoveUp_g08_c01.avi: truncated or corrupt, decoded" in err
    assert "v_MoveUp_g07_c01.avi" in err and ("no decodable frames" in err or "cannot open" in err)
    assert not (out / "MoveUp/v_MoveUp_g08_c01").exists() and not list(out.rglob(".*partial"))
    assert generate_rgb_jpgs.main([str(raw / "ucf101/videos"), str(out), "ucf101", "--size", "0",
                                   "--allow_truncated", *QUIET]) == 1
    assert "done 1, skipped 6" in capsys.readouterr().err  # only the truncated one is rescued
    assert 0 < len(list((out / "MoveUp/v_MoveUp_g08_c01").glob("*.jpg"))) < 25


def test_failed_redo_keeps_the_finished_output(raw, frames, capsys):
    before = tree_bytes(frames)
    (raw / "ucf101/videos/MoveUp/v_MoveUp_g01_c01.avi").write_bytes(b"not a video")
    assert generate_rgb_jpgs.main([str(raw / "ucf101/videos"), str(frames), "ucf101", "--size", "24",
                                   "--overwrite", *QUIET]) == 1
    assert "FAILED MoveUp/v_MoveUp_g01_c01.avi" in capsys.readouterr().err
    assert (frames / LOCK_NAME).is_file()  # its text names the last run; tree_bytes leaves it out
    assert tree_bytes(frames) == before


def test_unreadable_frame_fails_that_video_only(frames, tmp_path, capsys):
    broken = frames / "MoveDown/v_MoveDown_g02_c01/image_00003.jpg"
    broken.write_bytes(b"\xff\xd8 garbage")
    flow = tmp_path / "flow"
    assert convert_rgb_to_flow.main(["--rgb_path", str(frames), "--flow_path", str(flow), *QUIET]) == 1
    err = capsys.readouterr().err
    assert f"{broken}: frame is unreadable" in err and "failed 1" in err
    assert len([p for p in flow.glob("*/*")]) == 5


def test_gap_in_frame_numbering_fails_n_frames(frames, capsys):
    (frames / "MoveUp/v_MoveUp_g03_c01/image_00002.jpg").unlink()
    assert generate_n_frames.main([str(frames), *QUIET]) == 1
    err = capsys.readouterr().err
    assert "v_MoveUp_g03_c01: frames missing, e.g. index [2]" in err
    assert not (frames / "MoveUp/v_MoveUp_g03_c01/n_frames").exists()
    assert (frames / "MoveUp/v_MoveUp_g01_c01/n_frames").read_text() == "6\n"


def test_missing_split_file(raw, frames, tmp_path, capsys):
    (raw / "ucf101/splits/testlist02.txt").unlink()
    assert ucf101_json.main([str(raw / "ucf101/splits"), str(frames), str(tmp_path / "ann")]) == 1
    assert f"{raw / 'ucf101/splits/testlist02.txt'}: split file not found" in capsys.readouterr().err
    assert (tmp_path / "ann/ucf101_01.json").is_file() and not (tmp_path / "ann/ucf101_02.json").exists()

    (raw / "hmdb51/splits/move_down_test_split3.txt").unlink()
    assert hmdb51_json.main([str(raw / "hmdb51/splits"), str(frames), str(tmp_path / "h"), "--splits", "3"]) == 1
    assert "split file(s) missing: move_down_test_split3.txt" in capsys.readouterr().err


def test_listed_video_without_frames(raw, frames, tmp_path, capsys):
    shutil.rmtree(frames / "MoveUp/v_MoveUp_g02_c01")
    args = [str(raw / "ucf101/splits"), str(frames), str(tmp_path / "ann"), "--splits", "1"]
    assert ucf101_json.main(args) == 1
    err = capsys.readouterr().err
    assert f"MoveUp/v_MoveUp_g02_c01.avi: frame folder {frames / 'MoveUp/v_MoveUp_g02_c01'} is missing" in err
    assert not (tmp_path / "ann/ucf101_01.json").exists()
    assert ucf101_json.main([*args, "--skip_missing"]) == 0
    assert "warning, skipped" in capsys.readouterr().err
    database = load_annotation(tmp_path / "ann/ucf101_01.json")["database"]
    assert "v_MoveUp_g02_c01" not in database and len(database) == 5


def test_class_folder_not_in_class_list_is_named(raw, frames, tmp_path, capsys):
    shutil.copytree(frames / "MoveUp", frames / "Juggling")
    assert ucf101_json.main([str(raw / "ucf101/splits"), str(frames), str(tmp_path / "ann"), "--splits", "1"]) == 0
    assert f"{frames / 'Juggling'} is not a class of the split files" in capsys.readouterr().err
    (raw / "ucf101/splits/trainlist01.txt").write_text("Juggling/v_Juggling_g01_c01.avi 1\r\n")
    assert ucf101_json.main([str(raw / "ucf101/splits"), str(frames), str(tmp_path / "ann2"), "--splits", "1"]) == 1
    assert "line 1: class 'Juggling' is not in classInd.txt" in capsys.readouterr().err


def test_empty_input_directories(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SystemExit, match=f"{empty}: no videos"):
        generate_rgb_jpgs.main([str(empty), str(tmp_path / "o"), "ucf101", *QUIET])
    with pytest.raises(SystemExit, match=f"{empty}: no videos"):
        extract_frames.main(["--video_src_path", str(empty), "--image_save_path", str(tmp_path / "o"), *QUIET])
    with pytest.raises(SystemExit, match=f"{empty}: no <class>/<video> frame folders"):
        convert_rgb_to_flow.main(["--rgb_path", str(empty), "--flow_path", str(tmp_path / "o"), *QUIET])
    with pytest.raises(SystemExit, match=f"{tmp_path / 'nowhere'}: video folder not found"):
        generate_rgb_jpgs.main([str(tmp_path / "nowhere"), str(tmp_path / "o"), "hmdb51", *QUIET])


def test_eco_list_with_missing_frames(raw, tmp_path, capsys):
    frames = tmp_path / "eco"
    assert extract_frames.main(["--video_src_path", str(raw / "ucf101/videos"), "--image_save_path", str(frames),
                                *QUIET]) == 0
    shutil.rmtree(frames / "v_MoveDown_g01_c01")
    args = ["ucf101", str(frames), "--splits_path", str(raw / "ucf101/splits"), "--out_list_path", str(tmp_path / "l")]
    assert gen_dataset_lists.main(args) == 1
    assert f"frame folder {frames / 'v_MoveDown_g01_c01'} is missing" in capsys.readouterr().err
    assert gen_dataset_lists.main([*args, "--skip_missing"]) == 0


def test_bad_shard_arguments_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        generate_n_frames.main([str(tmp_path), "--num_shards", "2", "--shard_id", "2"])
    assert "--shard_id must be in 0..1" in capsys.readouterr().err


def test_parsers_and_keys():
    assert video_key("v_Foo.bar_g01_c01.avi") == "v_Foo.bar_g01_c01"  # the seed cut at the first '.'
    assert parse_list_line("/data/my videos/v_A 37 4\n") == ("/data/my videos/v_A", 37, 4)
    with pytest.raises(AnnotationError, match="lists.txt:3: expected"):
        parse_list_line("/data/v_A 37", "lists.txt:3")


def test_annotation_loader_names_the_problem(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('{"labels": ["a"], "database": {"v1": {"subset": "training", '
                    '"annotations": {"label": "b", "segment": [1, 5]}}}}')
    with pytest.raises(AnnotationError, match="entry 'v1' has label 'b' that is not in 'labels'"):
        load_annotation(path)
    path.write_text("{not json")
    with pytest.raises(AnnotationError, match="a.json: not valid JSON"):
        load_annotation(path)
    with pytest.raises(AnnotationError, match="missing.json: annotation file not found"):
        load_annotation(tmp_path / "missing.json")


def test_read_video_reports_declared_vs_decoded(tmp_path):
    from src.data.video_io import VideoReadError, read_video

    path = tmp_path / "v.avi"
    write_ramp_video(path)
    assert len(read_video(path)[0]) == 25
    path.write_bytes(path.read_bytes()[:7000])
    with pytest.raises(VideoReadError, match=f"{path}: truncated or corrupt, decoded"):
        read_video(path)
