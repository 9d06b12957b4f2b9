"""The extras on a tiny generated dataset (9 videos of 12 frames, 48x32, 3 classes; random-init checkpoints; clips of
8 frames at 32x32): demo.py, feature extraction, the params/FLOPs report, training curves and evaluation reports."""
import csv
import json
import math
import re

import numpy as np
import pytest
from PIL import Image

from src.evaluation import EvalResult, load_scores, per_class_accuracy_csv, softmax
from src.plots import read_train_log
from src.tools import (convert_rgb_to_flow, extract_frames, gen_dataset_lists, generate_n_frames, generate_rgb_jpgs,
                       make_sample_dataset, model_report, ucf101_json)
from tests.helpers import run_cli

QUIET = ["--workers", "1", "--no-progress"]
CLASSES = ["MoveUp", "MoveDown", "MoveSideways"]
VIDEO = "MoveUp/v_MoveUp_g01_c01"  # group 1: a validation video of split 1
I3D_CLIP = ["--sample_duration", "8", "--spatial_size", "32", "--frame_size", "32"]
CPU = ["--device_target", "CPU"]


@pytest.fixture(scope="module")
def data(module_mktemp):
    """The sample videos prepared with the data tools, as the quick start does (frames at short side 32)."""
    root = module_mktemp("extras")
    raw, rgb, flow = root / "raw", root / "rgb", root / "flow"
    assert make_sample_dataset.main([str(raw), "--num_classes", "3", "--groups", "3", "--clips", "1", "--num_frames",
                                     "12", "--width", "48", "--height", "32", "--datasets", "ucf101", *QUIET]) == 0
    assert generate_rgb_jpgs.main([str(raw / "ucf101/videos"), str(rgb), "ucf101", "--size", "32", *QUIET]) == 0
    assert convert_rgb_to_flow.main(["--rgb_path", str(rgb), "--flow_path", str(flow), *QUIET]) == 0
    assert generate_n_frames.main([str(rgb), *QUIET]) == 0
    assert generate_n_frames.main([str(flow), *QUIET]) == 0
    assert ucf101_json.main([str(raw / "ucf101/splits"), str(rgb), str(root / "annotation")]) == 0
    return {"root": root, "rgb": rgb, "flow": flow, "annotation": root / "annotation/ucf101_01.json",
            "video": raw / f"ucf101/videos/{VIDEO}.avi", "label_map": raw / "ucf101/label_map.txt",
            "splits": raw / "ucf101/splits"}


@pytest.fixture(scope="module")
def checkpoints(data):
    import mindspore as ms
    from src.eco_lite import ECOLite
    from src.engine.checkpoint_io import save_checkpoint
    from src.i3d import InceptionI3D

    ms.set_seed(5)
    paths = {mode: data["root"] / f"{mode}.ckpt" for mode in ("rgb", "flow", "eco")}
    for mode in ("rgb", "flow"):
        save_checkpoint(InceptionI3D(3, mode), paths[mode])
    save_checkpoint(ECOLite(3, 4), paths["eco"])
    return paths


def top_table(stdout):
    """[(rank, class, score)] of the demo's printed table."""
    return [(int(rank), name, float(score))
            for rank, name, score in re.findall(r"^ +(\d+)  (.+?) +(\d\.\d{4})$", stdout, re.M)]


# ---------------------------------------------------------------------------------------------------------- demo

@pytest.fixture(scope="module")
def joint_eval(data, checkpoints, module_mktemp):
    """eval.py joint on the prepared frames with --scores_path and --report_dir: the reference for the demo."""
    out = module_mktemp("joint_eval")
    result = run_cli(["eval.py", "--dataset=ucf101", "--test_mode=joint", f"--rgb_path={checkpoints['rgb']}",
                      f"--flow_path={checkpoints['flow']}", f"--video_path={data['rgb']}",
                      f"--annotation_path={data['annotation']}", f"--video_path_joint_flow={data['flow']}",
                      "--test_sample_duration=8", "--spatial_size=32", "--batch_size=2", "--num_workers=1",
                      "--device_target=CPU", "--no-progress", f"--scores_path={out / 'scores.npz'}",
                      f"--report_dir={out / 'report'}"])
    return {"stdout": result.stdout, "scores": out / "scores.npz", "report": out / "report"}


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_demo_joint_scores_the_video_as_eval_does_and_writes_a_gif(data, checkpoints, joint_eval, tmp_path):
    gif = tmp_path / "out.gif"
    result = run_cli(["demo.py", data["video"], "--mode", "joint", "--rgb_path", checkpoints["rgb"], "--flow_path",
                      checkpoints["flow"], "--label_map", data["label_map"], *I3D_CLIP, "--clips", "center",
                      "--out_video", gif, *CPU])
    table = top_table(result.stdout)
    joint, _ = load_scores(joint_eval["scores"].with_name("scores_joint.npz"))
    probabilities = softmax(joint.scores[joint.keys.index(VIDEO.split("/")[1])])
    expected = sorted(((-p, i) for i, p in enumerate(probabilities)))
    assert [(rank, name) for rank, name, _ in table] == [(rank, CLASSES[i]) for rank, (_, i) in enumerate(expected, 1)]
    np.testing.assert_allclose([score for _, _, score in table], [-p for p, _ in expected], atol=1e-4)
    assert "I3D joint: top-3 of 3 classes" in result.stdout and "%|" not in result.stderr  # no bar off a terminal
    with Image.open(gif) as image:
        assert (image.n_frames, image.size) == (12, (48, 32))


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
@pytest.mark.parametrize("mode", ["rgb", "flow"])
def test_demo_single_stream_prints_the_top_classes(data, checkpoints, mode, tmp_path):
    out = tmp_path / "out.mp4"
    result = run_cli(["demo.py", data["video"], "--mode", mode, f"--{mode}_path", checkpoints[mode], "--label_map",
                      data["label_map"], *I3D_CLIP, "--top_k", "2", "--out_video", out, *CPU])
    table = top_table(result.stdout)
    assert [rank for rank, _, _ in table] == [1, 2] and {name for _, name, _ in table} <= set(CLASSES)
    assert table[0][2] >= table[1][2] and f"I3D {mode}: top-2 of 3 classes" in result.stdout
    assert f"{mode}: 2 clip(s) of 8 frames at 32x32" in result.stdout  # 12 frames (11 flow images): 2 windows
    assert out.stat().st_size > 0


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_demo_eco_lite(data, checkpoints, tmp_path):
    result = run_cli(["demo.py", data["video"], "--model", "eco_lite", "--checkpoint_path", checkpoints["eco"],
                      "--input_size", "32", "--out_video", tmp_path / "eco.gif", *CPU])
    table = top_table(result.stdout)
    assert sorted(name for _, name, _ in table) == ["class 0", "class 1", "class 2"]
    assert "no --label_map for 3 classes" in result.stderr and "ECO-lite: top-3 of 3 classes" in result.stdout
    assert math.isclose(sum(score for _, _, score in table), 1.0, abs_tol=2e-4)
    assert Image.open(tmp_path / "eco.gif").n_frames == 12


def test_demo_reports_bad_input_clearly(data, checkpoints, tmp_path):
    missing = run_cli(["demo.py", data["video"], "--rgb_path", tmp_path / "none.ckpt"], check=False)
    assert missing.returncode == 1 and f"checkpoint not found: {tmp_path / 'none.ckpt'}" in missing.stderr
    broken = tmp_path / "broken.avi"
    broken.write_text("not a video")
    unreadable = run_cli(["demo.py", broken, "--rgb_path", checkpoints["rgb"], *I3D_CLIP, *CPU], check=False)
    assert unreadable.returncode == 1 and f"error: {broken}: cannot open video" in unreadable.stderr
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\n")
    mismatch = run_cli(["demo.py", data["video"], "--rgb_path", checkpoints["rgb"], "--label_map", labels, *CPU],
                       check=False)
    assert mismatch.returncode == 1 and f"{labels}: the label map has 2 class names but the model has 3" in \
        mismatch.stderr
    for result in (unreadable, mismatch):
        assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------------------------------------- features

def extract(args, out, check=True):
    return run_cli(["-m", "src.tools.extract_features", "--out_dir", out, "--spatial_size", "32", "--window", "8",
                    "--stride", "4", "--batch_size", "2", "--num_workers", "1", *CPU, *map(str, args)], check=check)


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_features_shapes_determinism_and_resume(data, checkpoints, tmp_path):
    args = ["--mode", "rgb", "--checkpoint_path", checkpoints["rgb"], "--video_path", data["rgb"],
            "--annotation_path", data["annotation"]]
    first = extract(args, tmp_path / "a")
    assert "[extract_features] done 9, skipped 0 (already finished), failed 0" in first.stderr
    files = sorted((tmp_path / "a").rglob("*.npy"))
    hidden = [path.name for path in (tmp_path / "a").rglob(".*")]
    assert len(files) == 9 and hidden == [".lock"]  # no partial files left, only the lock naming the last run
    features = np.load(tmp_path / "a" / f"{VIDEO}.npy")
    assert features.shape == (2, 1024) and features.dtype == np.float32  # 12 frames: windows at 1 and 5

    (tmp_path / "a" / f"{VIDEO}.npy").unlink()
    stamps = {path: path.stat().st_mtime_ns for path in files if path.exists()}
    rerun = extract(args, tmp_path / "a")
    assert "done 1, skipped 8 (already finished), failed 0" in rerun.stderr
    assert all(path.stat().st_mtime_ns == stamp for path, stamp in stamps.items())
    np.testing.assert_array_equal(np.load(tmp_path / "a" / f"{VIDEO}.npy"), features)  # same input, same features

    pooled = extract([*args, "--pool", "video", "--subset", "validation"], tmp_path / "b")
    assert "done 3, skipped 0" in pooled.stderr
    np.testing.assert_allclose(np.load(tmp_path / "b" / f"{VIDEO}.npy"), features.mean(axis=0), rtol=1e-5, atol=1e-6)


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_flow_features_of_a_video_file_equal_those_of_its_prepared_frames(data, checkpoints, tmp_path):
    flow = ["--mode", "flow", "--checkpoint_path", checkpoints["flow"]]
    videos, frames = tmp_path / "videos.txt", tmp_path / "frames.txt"
    videos.write_text(f"# a raw video, prepared in memory\n{data['video']}\n{tmp_path / 'missing'}\n")
    frames.write_text(f"{data['flow'] / VIDEO}\n")  # the same video, prepared by the data tools
    result = extract([*flow, "--list", videos, "--frame_size", "32"], tmp_path / "from_video", check=False)
    assert result.returncode == 1 and "done 1, skipped 0 (already finished), failed 1" in result.stderr
    assert f"FAILED {tmp_path / 'missing'}" in result.stderr
    extract([*flow, "--list", frames], tmp_path / "from_frames")
    from_video = np.load(tmp_path / "from_video" / f"{data['video'].stem}.npy")
    assert from_video.shape == (2, 1024)  # 11 flow images: windows at 1 and 4
    np.testing.assert_allclose(np.load(tmp_path / "from_frames" / f"{data['video'].stem}.npy"), from_video, atol=1e-6)


# ------------------------------------------------------------------------------------------------------ backends

def backend_args(parse, argv):
    """{backend: parsed options} of one command line run with --backend mindspore and with --backend onnxruntime."""
    return {backend: parse([*map(str, argv), "--backend", backend]) for backend in ("mindspore", "onnxruntime")}


@pytest.mark.parametrize("model", ["i3d", "eco_lite"])
def test_demo_onnxruntime_gives_mindspores_logits(data, checkpoints, model, capsys):
    """The demo's scoring (I3D joint: both streams' networks; ECO-lite) on each backend, on the same decoded video."""
    import demo
    from src.video_inference import decode_video

    flags = (["--mode", "joint", "--rgb_path", checkpoints["rgb"], "--flow_path", checkpoints["flow"], *I3D_CLIP]
             if model == "i3d" else ["--model", "eco_lite", "--checkpoint_path", checkpoints["eco"], "--input_size",
                                     "32"])
    logits = {}
    for backend, args in backend_args(demo.parse_args, [data["video"], *flags, *CPU, "--no-progress"]).items():
        networks, _ = demo.load_models(args)
        frames, gray, _ = decode_video(args.video, args.frame_size)
        logits[backend] = (demo.score_i3d(args, networks, frames, gray) if model == "i3d" else
                           demo.score_eco(args, networks["eco_lite"], frames))
        assert capsys.readouterr().out.count(f"backend: {backend}") == (2 if model == "i3d" else 1)
    assert logits["onnxruntime"].argmax() == logits["mindspore"].argmax()
    assert np.abs(logits["onnxruntime"] - logits["mindspore"]).max() < 1e-4


@pytest.mark.parametrize("mode", ["rgb", "flow"])
def test_features_onnxruntime_give_mindspores_features(data, checkpoints, mode, tmp_path):
    """Features of a frame folder (rgb) and of a raw video prepared in memory (flow) on each backend."""
    from src.tools import extract_features as tool

    videos = tmp_path / "videos.txt"
    videos.write_text(f"{data[mode] / VIDEO if mode == 'rgb' else data['video']}\n")
    features = {}
    for backend, args in backend_args(tool.parse_args, [
            "--mode", mode, "--checkpoint_path", checkpoints[mode], "--list", videos, "--out_dir", tmp_path / "out",
            "--spatial_size", "32", "--window", "8", "--stride", "4", "--batch_size", "2", "--frame_size", "32",
            *CPU]).items():
        predict = tool.feature_predictor(args)
        [job] = tool.listed_jobs(args.list, args.out_dir)
        tool.video_features(job, tmp_path / f"{backend}.npy", predict, args, tool.FrameFolderClips(mode, 32))
        features[backend] = np.load(tmp_path / f"{backend}.npy")
    assert features["mindspore"].shape == (2, 1024)
    scale = max(1.0, np.abs(features["mindspore"]).max())  # rgb features reach ~50 here: 1e-4 of the largest
    np.testing.assert_allclose(features["onnxruntime"], features["mindspore"], rtol=0, atol=1e-4 * scale)


def test_onnxruntime_missing_is_a_clear_error(data, checkpoints, tmp_path, monkeypatch, capsys):
    import demo
    import src.predictors as predictors
    from src.tools import extract_features as tool

    monkeypatch.setattr(predictors, "onnxruntime_available", lambda: False)
    assert demo.main([str(data["video"]), "--rgb_path", str(checkpoints["rgb"]), "--backend", "onnxruntime", *CPU]) == 1
    assert tool.main(["--mode", "rgb", "--checkpoint_path", str(checkpoints["rgb"]), "--video_path", str(data["rgb"]),
                      "--annotation_path", str(data["annotation"]), "--out_dir", str(tmp_path / "out"), "--backend",
                      "onnxruntime", *CPU]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert [line for line in errors if line.startswith("error: ")] == [
        "error: --backend onnxruntime: onnxruntime is not installed in this environment (pip install onnxruntime, "
        "or use --backend mindspore)"] * 2


# -------------------------------------------------------------------------------------------- params and FLOPs

def table_rows(text):
    """{model: (trainable, total, GMACs, GFLOPs)} of model_report's table."""
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 6 and cells[2][:1].isdigit():
            rows[cells[0]] = (int(cells[2].replace(",", "")), int(cells[3].replace(",", "")), float(cells[4]),
                              float(cells[5]))
    return rows


def test_model_report_counts_the_known_parameters(capsys):
    assert model_report.main([]) == 0
    rows = table_rows(capsys.readouterr().out)
    assert {model: row[0] for model, row in rows.items()} == {
        "I3D rgb, 400 classes": 12_697_264, "I3D flow, 400 classes": 12_675_312, "ECO-lite, 101 classes": 37_350_469}
    assert rows["ECO-lite, 101 classes"][1] == 37_360_389  # + the BatchNorm moving statistics
    assert 105 < rows["I3D rgb, 400 classes"][2] < 115  # the published ~108 G multiply-adds at 64x224x224
    assert all(math.isclose(gflops, 2 * gmacs, abs_tol=0.011) for _, _, gmacs, gflops in rows.values())
    assert model_report.main(["--model", "i3d", "--num_classes", "51", "--input", "16x112"]) == 0
    rows = table_rows(capsys.readouterr().out)
    assert {model: row[0] for model, row in rows.items()} == {"I3D rgb, 51 classes": 12_339_539,
                                                              "I3D flow, 51 classes": 12_317_587}


@pytest.mark.usefixtures("pynative_mode")
def test_counted_macs_equal_those_of_a_real_forward_pass():
    """The analytic count against the output shapes every Conv/Dense really produces (odd sizes included)."""
    import mindspore as ms
    from mindspore import nn

    from src.eco_lite import ECOLite
    from src.i3d import InceptionI3D

    def measured(net, clip):
        total = []

        def hook(cell, inputs, output):
            positions = 1 if isinstance(cell, nn.Dense) else math.prod(cell.kernel_size) * math.prod(output.shape[2:])
            total.append(output.shape[0] * positions * cell.in_channels * cell.out_channels)
        for _, cell in net.cells_and_names():
            if isinstance(cell, (nn.Conv2d, nn.Conv3d, nn.Dense)):
                cell.register_forward_hook(hook)
        net.set_train(False)
        net(ms.Tensor(np.zeros(clip, np.float32)))
        return sum(total)

    i3d = InceptionI3D(5, "flow")
    assert model_report.i3d_macs(i3d, 9, 65, 57) == measured(i3d, (1, 2, 9, 65, 57))
    eco = ECOLite(5, 4)
    assert model_report.eco_macs(eco, 4, 64, 96) == measured(eco, (1, 12, 64, 96))


# ------------------------------------------------------------------------------------------ curves and reports

def is_png(path):
    with Image.open(path) as image:
        return path.stat().st_size > 1000 and image.format == "PNG" and min(image.size) > 100


def test_plot_training_writes_the_curves_of_a_resumed_run(tmp_path):
    log = tmp_path / "ucf101_rgb" / "train_log.jsonl"
    log.parent.mkdir()
    records = [{"epoch": 1, "steps": 3, "loss": 1.2, "last_loss": 1.1, "lr": 0.01, "epoch_time_s": 2.0},
               {"epoch": 2, "steps": 3, "loss": 1.0, "last_loss": 0.9, "lr": 0.01, "epoch_time_s": 2.0,
                "val_top1": 0.4, "val_top5": 1.0, "val_mean_class": 0.4},
               {"epoch": 3, "steps": 3, "loss": 0.9, "last_loss": 0.9, "lr": 0.005, "epoch_time_s": 2.0},
               {"epoch": 3, "steps": 3, "loss": 0.8, "last_loss": 0.7, "lr": 0.005, "epoch_time_s": 2.0,
                "val_top1": 0.6, "val_top5": 1.0, "val_mean_class": 0.55}]  # epoch 3 rerun after a resume
    log.write_text("".join(json.dumps(record) + "\n" for record in records))
    assert [record["loss"] for record in read_train_log(log)] == [1.2, 1.0, 0.8]
    result = run_cli(["-m", "src.tools.plot_training", log])
    assert result.stdout.strip() == f"3 epochs -> {log.with_name('training_curves.png')}"
    assert is_png(log.with_name("training_curves.png"))
    run_cli(["-m", "src.tools.plot_training", log, "--out", tmp_path / "curves.png"])
    assert is_png(tmp_path / "curves.png")
    log.write_text("")
    empty = run_cli(["-m", "src.tools.plot_training", log], check=False)
    assert empty.returncode == 1 and f"error: {log}: no epochs logged yet" in empty.stderr


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_eval_report_dir_writes_each_streams_confusion_matrix_and_per_class_accuracy(joint_eval):
    report = joint_eval["report"]
    assert sorted(path.name for path in report.iterdir()) == sorted(
        f"{stream}_{kind}" for stream in ("rgb", "flow", "joint")
        for kind in ("confusion_matrix.png", "per_class_accuracy.csv"))
    for stream in ("rgb", "flow", "joint"):
        assert is_png(report / f"{stream}_confusion_matrix.png")
        rows = list(csv.DictReader((report / f"{stream}_per_class_accuracy.csv").open()))
        assert [row["class_name"] for row in rows] == CLASSES  # one row per class, the annotation's names
        assert all(row["videos"] == "1" for row in rows)  # 3 validation videos, one per class
        top1 = float(re.search(rf"^{stream} accuracy: (\S+)$", joint_eval["stdout"], re.M).group(1))
        assert math.isclose(sum(int(row["correct"]) for row in rows) / 3, top1, abs_tol=1e-4)
        assert f"{stream} report: {report / f'{stream}_confusion_matrix.png'}" in joint_eval["stdout"]


def test_per_class_accuracy_leaves_classes_without_videos_empty():
    result = EvalResult.from_scores(["a", "b", "c"], [0, 0, 2], np.eye(3, dtype=np.float32)[[0, 1, 2]])
    rows = list(csv.reader(per_class_accuracy_csv(result, ["x", "y, z", "w"]).splitlines()))
    assert rows == [["class_index", "class_name", "videos", "correct", "top1_accuracy"], ["0", "x", "2", "1", "0.5000"],
                    ["1", "y, z", "0", "0", ""], ["2", "w", "1", "1", "1.0000"]]


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_eco_lite_eval_report_dir(data, checkpoints, tmp_path):
    frames, lists = tmp_path / "frames", tmp_path / "lists"
    assert extract_frames.main(["--video_src_path", str(data["video"].parents[1]), "--image_save_path", str(frames),
                                *QUIET]) == 0
    assert gen_dataset_lists.main(["ucf101", str(frames), "--splits_path", str(data["splits"]), "--out_list_path",
                                   str(lists), "--num_split", "1"]) == 0
    result = run_cli(["eval.py", "--model", "eco_lite", "--val_list", lists / "ucf101_rgb_val_split_1.txt", "--resume",
                      checkpoints["eco"], "--num_classes", "3", "--input_size", "32", "--batch-size", "3",
                      "--num_workers", "1", "--device_target", "CPU", "--report_dir", tmp_path / "report"])
    assert f"report: {tmp_path / 'report/eco_lite_confusion_matrix.png'}" in result.stdout
    assert is_png(tmp_path / "report/eco_lite_confusion_matrix.png")
    rows = list(csv.DictReader((tmp_path / "report/eco_lite_per_class_accuracy.csv").open()))
    assert [row["class_name"] for row in rows] == ["0", "1", "2"] and sum(int(row["videos"]) for row in rows) == 3
