"""Bad split and list files: a video listed twice, text that is not UTF-8. Each is one clear error naming the file
and line, exit status 1, and no annotation written (docs/reliability.md)."""
import shutil

import pytest

from src.tools import hmdb51_json, ucf101_json

pytestmark = pytest.mark.fault_injection


@pytest.fixture
def ucf_splits(tiny_i3d_data, tmp_path):
    splits = tmp_path / "splits"
    shutil.copytree(tiny_i3d_data["root"] / "raw/ucf101/splits", splits)
    return splits


def ucf101_json_errors(splits, rgb, out, capsys):
    code = ucf101_json.main([str(splits), str(rgb), str(out), "--splits", "1"])
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    return code, errors


def test_ucf101_video_listed_twice_names_both_lines(ucf_splits, tiny_i3d_data, tmp_path, capsys):
    train, test = ucf_splits / "trainlist01.txt", ucf_splits / "testlist01.txt"
    first = train.read_text().splitlines()[0].split()[0]
    test.write_text(test.read_text() + first + "\n")
    code, errors = ucf101_json_errors(ucf_splits, tiny_i3d_data["rgb"], tmp_path / "out", capsys)
    assert code == 1 and len(errors) == 1
    assert f"{test}: line" in errors[0] and f"{first} is listed twice (also {train}: line 1)" in errors[0]
    assert not (tmp_path / "out").exists()


def test_non_utf8_split_file_names_the_file_and_line(ucf_splits, tiny_i3d_data, tmp_path, capsys):
    train = ucf_splits / "trainlist01.txt"
    lines = train.read_bytes().splitlines()
    train.write_bytes(b"\n".join(lines[:2] + [b"Move\xe9Up/v_x.avi 1"] + lines[2:]) + b"\n")
    code, errors = ucf101_json_errors(ucf_splits, tiny_i3d_data["rgb"], tmp_path / "out", capsys)
    assert code == 1 and len(errors) == 1
    assert f"{train}: line 3 is not UTF-8 text (byte 0xe9)" in errors[0]


def test_hmdb51_video_in_two_class_files_is_an_error(tiny_i3d_data, tmp_path, capsys):
    splits = tmp_path / "hmdb_splits"
    splits.mkdir()
    for label in ("jump", "run"):
        (splits / f"{label}_test_split1.txt").write_text("clip_a.avi 1\n" if label == "jump" else
                                                         "clip_b.avi 1\nclip_a.avi 2\n")
    code = hmdb51_json.main([str(splits), str(tiny_i3d_data["rgb"]), str(tmp_path / "out"), "--splits", "1"])
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert code == 1 and len(errors) == 1
    assert f"{splits / 'run_test_split1.txt'}: line 2: video run/clip_a.avi is listed twice" in errors[0]
    assert f"(also {splits / 'jump_test_split1.txt'}: line 1)" in errors[0]
