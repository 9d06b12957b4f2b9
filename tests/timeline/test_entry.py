"""timeline.py and eval.py's run_online: user errors as one `error:` line and exit status 1, and whole runs of the
entry points (in subprocesses, slow)."""
import csv
import json

import pytest

import timeline
from src.eco_lite.config import parse_args as parse_eco_args
from tests.helpers import run_cli
from tests.timeline.conftest import write_colour_video

CPU = ["--device_target", "CPU"]


@pytest.fixture(scope="module")
def checkpoints(module_mktemp):
    """Random-init 3-class I3D rgb and ECO-lite checkpoints."""
    import mindspore as ms

    from src.eco_lite import ECOLite
    from src.engine.checkpoint_io import save_checkpoint
    from src.i3d import InceptionI3D

    root = module_mktemp("timeline_checkpoints")
    ms.set_seed(5)
    save_checkpoint(InceptionI3D(3, "rgb"), root / "rgb.ckpt")
    save_checkpoint(ECOLite(3, 4), root / "eco.ckpt")
    return {"rgb": root / "rgb.ckpt", "eco": root / "eco.ckpt"}


def user_error(capsys, argv):
    """The `error:` line timeline.py prints for `argv` (parsing errors exit 1 through SystemExit)."""
    try:
        status = timeline.main([str(arg) for arg in argv])
    except SystemExit as exit_:
        status = exit_.code
    assert status == 1
    return capsys.readouterr().err


def test_option_errors_name_the_flag_or_file(capsys, tmp_path, checkpoints):
    video = tmp_path / "v.avi"
    write_colour_video(video, [(0, 8)])
    assert f"error: {tmp_path / 'none.avi'}: video not found" in user_error(capsys, [tmp_path / "none.avi"])
    assert "use --online for a camera or a stream" in user_error(capsys, ["0"])
    assert "use --online for a camera" in user_error(capsys, ["rtsp://camera/stream"])
    assert "--online is ECO-lite's online mode" in user_error(capsys, [video, "--online", "--model", "i3d"])
    assert "--checkpoint_path is required" in user_error(capsys, [video, "--online"])
    assert "--realtime paces a live run" in user_error(capsys, [video, "--realtime"])
    assert "--out_png is for a timeline" in user_error(capsys, [video, "--online", "--checkpoint_path",
                                                                checkpoints["eco"], "--out_png", tmp_path / "t.png"])
    assert "--out_video x.gif: use one of" in user_error(capsys, [video, "--out_video", "x.gif"])
    assert "--out_png t.jpg: the picture is written as PNG" in user_error(capsys, [video, "--out_png", "t.jpg"])
    assert f"--flow_path: checkpoint not found: {tmp_path / 'f.ckpt'}" in user_error(
        capsys, [video, "--mode", "flow", "--flow_path", tmp_path / "f.ckpt"])
    assert f"--label_map: file not found: {tmp_path / 'l.txt'}" in user_error(
        capsys, [video, "--label_map", tmp_path / "l.txt"])


def test_unreadable_source_and_bad_label_map(capsys, tmp_path, checkpoints):
    broken = tmp_path / "broken.avi"
    broken.write_text("not a video")
    err = user_error(capsys, [broken, "--rgb_path", checkpoints["rgb"], *CPU])  # fails before any model loads
    assert f"error: {broken}: cannot open" in err and "Traceback" not in err
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\n")
    write_colour_video(tmp_path / "v.avi", [(0, 8)])
    mismatch = run_cli(["timeline.py", tmp_path / "v.avi", "--model", "eco_lite", "--checkpoint_path",
                        checkpoints["eco"], "--label_map", labels, "--input_size", "32", "--backend", "mindspore",
                        *CPU], check=False)
    assert mismatch.returncode == 1 and "Traceback" not in mismatch.stderr
    assert f"error: {labels}: the label map has 2 class names but the model has 3" in mismatch.stderr


def test_run_online_is_refused_by_training(capsys, tiny_eco_data):
    with pytest.raises(SystemExit) as exit_:
        parse_eco_args(["--train_list", str(tiny_eco_data["train"]), "--val_list", str(tiny_eco_data["val"]),
                        "--resume", "", "--run_online", "True"])
    assert exit_.value.code == 1 and "the online mode is an evaluation; run it with eval.py" in capsys.readouterr().err


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_timeline_and_online_runs(tmp_path, checkpoints, sample_clips, tiny_eco_data):
    write_colour_video(tmp_path / "v.avi", [(0, 30), (1, 30)])
    out = {"csv": tmp_path / "t.csv", "json": tmp_path / "t.json", "png": tmp_path / "t.png",
           "video": tmp_path / "t.mp4"}
    result = run_cli(["timeline.py", tmp_path / "v.avi", "--rgb_path", checkpoints["rgb"], "--sample_duration", "8",
                      "--spatial_size", "32", "--frame_size", "32", "--stride", "4", "--top_k", "2", "--backend",
                      "mindspore", *CPU, *[f"--out_{kind}={path}" for kind, path in out.items()]])
    assert "real-time factor" in result.stdout and "no --label_map for 3 classes" in result.stderr
    assert len(list(csv.reader(open(out["csv"])))) == 1 + len(json.loads(out["json"].read_text())["windows"]) == 15
    assert out["png"].stat().st_size > 0 and out["video"].stat().st_size > 0

    video = sample_clips["videos"] / "MoveUp/v_MoveUp_g01_c01.avi"
    result = run_cli(["timeline.py", video, "--online", "--checkpoint_path", checkpoints["eco"], "--label_map",
                      sample_clips["label_map"], "--input_size", "32", "--backend", "mindspore", "--out_csv",
                      tmp_path / "online.csv", *CPU])
    rows = list(csv.DictReader(open(tmp_path / "online.csv")))
    assert [row["frame"] for row in rows] == ["4", "8", "12", "16"] and rows[0]["memory_frames"] == "1 2 3 4"
    assert "end of stream: 16 frames, 4 updates, 0 frames skipped" in result.stdout

    result = run_cli(["eval.py", "--dataset", "ucf101", "--val_list", tiny_eco_data["val"], "--resume",
                      checkpoints["eco"], "--num_classes", "3", "--input_size", "32", "--run_online", "True",
                      "--device_target", "CPU", "--no-progress"])
    assert "online mode: working memory of 4 frames" in result.stdout and "'Top1-Acc'" in result.stdout
