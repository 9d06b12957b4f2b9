"""Offline inference end to end on a tiny generated dataset (6 validation videos, 3 classes, 8 frames, 32-pixel crops)
with random-init checkpoints: preprocess.py -> the C++ app in ascend_310_infer/ (ONNX Runtime CPU backend, built once
per session, see tests/conftest.py) -> postprocess.py, through the seed's launchers. The app's logits must equal eval.py's."""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from src.evaluation import load_scores
from src.i3d.recipe import build_eval_source
from tests.helpers import REPO_ROOT, run_cli, tree_bytes

pytestmark = [pytest.mark.skipif(not (shutil.which("cmake") and shutil.which("g++")),
                                 reason="building the C++ inference app needs cmake and g++ (apt-get install cmake g++)"),
              pytest.mark.slow]  # every test needs the C++ app (build_dir) or the exported models

TINY = ["--test_sample_duration=8", "--spatial_size=32", "--num_workers=1"]
BATCH = 4  # 6 videos: two files, the second with 2 real clips and 2 padding rows
SCRIPTS = REPO_ROOT / "scripts"
BIN_BYTES = {"rgb": BATCH * 3 * 8 * 32 * 32 * 4, "flow": BATCH * 2 * 8 * 32 * 32 * 4}


def run_script(name, args, cwd, build_dir, check=True, **env):
    env = dict(os.environ, PYTHONPATH="", PYTHON_BIN=sys.executable, INFER_BUILD_DIR=str(build_dir), **env)
    result = subprocess.run(["bash", str(SCRIPTS / name), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                            env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"{name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def run_app(build_dir, *args, cwd):
    return subprocess.run([str(build_dir / "main"), *map(str, args)], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def data(tiny_i3d_data):
    """The session's tiny I3D data (tests/conftest.py), read-only."""
    return tiny_i3d_data


@pytest.fixture(scope="module")
def checkpoints(random_i3d_checkpoints):
    """The session's random-init rgb and flow checkpoints, read-only."""
    return random_i3d_checkpoints


@pytest.fixture(scope="module")
def models(checkpoints, module_mktemp):
    """ONNX exports (batch 4, T 8, 32x32); flow also gets a stand-in .mindir beside it, for the launcher's fallback."""
    out = module_mktemp("models")
    for mode in ("rgb", "flow"):
        run_cli(["export.py", f"--checkpoint_path={checkpoints[mode]}", f"--mode={mode}", "--num_classes=3",
                 "--file_format=ONNX", f"--file_name={out / ('i3d_' + mode)}", f"--batch_size={BATCH}",
                 "--sample_duration=8", "--spatial_size=32", "--device_target=CPU"])
    (out / "i3d_flow.mindir").write_bytes(b"stand-in: this machine has no Ascend")
    return {"rgb": out / "i3d_rgb.onnx", "flow": out / "i3d_flow.mindir", "dir": out}


@pytest.fixture(scope="module")
def reference(data, checkpoints, module_mktemp):
    """eval.py (MindSpore, joint mode: both streams in one process) with per-video scores."""
    out = module_mktemp("eval")
    result = run_cli(["eval.py", "--dataset=ucf101", "--test_mode=joint", f"--rgb_path={checkpoints['rgb']}",
                      f"--flow_path={checkpoints['flow']}", f"--video_path={data['rgb']}",
                      f"--video_path_joint_flow={data['flow']}", f"--annotation_path={data['annotation']}", *TINY,
                      f"--batch_size={BATCH}", "--device_target=CPU", "--context=py", "--no-progress",
                      f"--scores_path={out / 'ms.npz'}"])
    accuracy = {mode: float(re.search(rf"^{mode} accuracy: (\S+)$", result.stdout, re.M).group(1))
                for mode in ("rgb", "flow")}
    return {mode: load_scores(out / f"ms_{mode}.npz")[0] for mode in ("rgb", "flow")} | {"accuracy": accuracy}


@pytest.fixture(scope="module")
def workdir(data, build_dir, module_mktemp):
    """The launchers' current folder, preprocessed: rgb by one process, flow split between two."""
    cwd = module_mktemp("work")
    logs = {}
    for mode, ranks in (("rgb", 1), ("flow", 2)):
        result = run_script("run_preprocess.sh", [ranks, "none", "ucf101", mode, 40, data[mode], data["annotation"], "",
                                                  *TINY, f"--batch_size={BATCH}", "--no-progress"], cwd, build_dir)
        logs[mode] = result.stdout
    return {"cwd": cwd, "logs": logs, "result": cwd / "preprocess_Result"}


@pytest.fixture(scope="module")
def inference(workdir, models, build_dir):
    """run_infer_310.sh: rgb with the .onnx by a relative path, flow with the .mindir (its .onnx sibling runs)."""
    cwd = workdir["cwd"]
    runs = {"rgb": run_script("run_infer_310.sh", [os.path.relpath(models["rgb"], cwd), "ucf101", 0, "rgb"], cwd,
                              build_dir),
            "flow": run_script("run_infer_310.sh", [models["flow"], "ucf101", 3, "flow"], cwd, build_dir)}
    return {"runs": runs, "out": {mode: cwd / f"infer_result/ucf101_{mode}" for mode in ("rgb", "flow")}}


# ------------------------------------------------------------------------------------------------ preprocessing

def test_preprocess_writes_padded_evaluation_batches_in_the_seed_naming(workdir, data):
    data_dir, label_dir = workdir["result"] / "data/ucf101/rgb", workdir["result"] / "label/ucf101/rgb"
    assert sorted(p.name for p in data_dir.iterdir()) == ["ucf101_bsrgb_1.bin", "ucf101_bsrgb_2.bin"]
    assert all(p.stat().st_size == BIN_BYTES["rgb"] for p in data_dir.iterdir())
    labels = np.load(label_dir / "label_bsrgb4.npy", allow_pickle=False)
    assert labels.dtype == np.int32 and labels.shape == (2, BATCH)
    info = json.loads((label_dir / "preprocess_info.json").read_text())
    assert (info["num_samples"], info["num_batches"], info["last_batch_size"]) == (6, 2, 2)
    assert info["input_shape"] == [BATCH, 3, 8, 32, 32] and info["subset"] == "validation"

    source = build_eval_source(data["rgb"], data["annotation"], "rgb", 8, 32)  # eval.py's clips
    assert info["video_keys"] == list(source.video_keys)
    np.testing.assert_array_equal(labels.reshape(-1), source.labels + [-1, -1])
    clips = np.concatenate([np.fromfile(path, np.float32).reshape(BATCH, 3, 8, 32, 32)
                            for path in sorted(data_dir.iterdir())])
    for item in range(6):
        np.testing.assert_array_equal(clips[item], source[item][0])
    np.testing.assert_array_equal(clips[6], clips[5])  # padding repeats the last clip
    np.testing.assert_array_equal(clips[7], clips[5])
    assert "labels: " in workdir["logs"]["rgb"] and "wrote 2 file(s), 0 already complete" in workdir["logs"]["rgb"]


def test_distributed_preprocessing_splits_the_files_and_equals_one_process(workdir, data, tmp_path):
    log_dir = workdir["cwd"] / "output_preprocess/ucf101/flow"
    logs = [(log_dir / f"ucf101_flow_device{i}_log.txt").read_text() for i in (0, 1)]
    assert "process 0 of 2: wrote 1 file(s)" in logs[0] and "process 1 of 2: wrote 1 file(s)" in logs[1]
    assert "labels: " in logs[0] and "labels: " not in logs[1]  # only process 0 writes the labels and the record

    import preprocess
    assert preprocess.main(["--dataset=ucf101", "--mode=flow", f"--video_path={data['flow']}",
                            f"--annotation_path={data['annotation']}", *TINY, f"--batch_size={BATCH}",
                            f"--save_dir={tmp_path}", "--no-progress"]) == 0
    single, split = tree_bytes(tmp_path), tree_bytes(workdir["result"])
    visible = {name for name in single if not os.path.basename(name).startswith(".")}
    assert visible == {"data/ucf101/flow/ucf101_bsflow_1.bin", "data/ucf101/flow/ucf101_bsflow_2.bin",
                       "label/ucf101/flow/label_bsflow4.npy", "label/ucf101/flow/preprocess_info.json"}
    for name in visible:
        if name.endswith(".json"):
            assert {k: v for k, v in json.loads(single[name]).items() if not k.endswith("_path")} == \
                {k: v for k, v in json.loads(split[name]).items() if not k.endswith("_path")}
        else:
            assert single[name] == split[name], name


def test_preprocess_resumes_and_refuses_to_mix_other_options(workdir, data, build_dir):
    cwd = workdir["cwd"]
    args = [1, "none", "ucf101", "rgb", 40, data["rgb"], data["annotation"], "", *TINY, "--no-progress"]
    again = run_script("run_preprocess.sh", args + [f"--batch_size={BATCH}"], cwd, build_dir)
    assert "wrote 0 file(s), 2 already complete" in again.stdout

    other = run_script("run_preprocess.sh", args + ["--batch_size=2"], cwd, build_dir, check=False)
    assert other.returncode == 1
    log = (cwd / "output_preprocess/ucf101/rgb/ucf101_rgb_device0_log.txt").read_text()
    assert "other options or data (batch_size, bin_bytes" in log and "pass another --save_dir" in log
    assert sorted(p.name for p in (workdir["result"] / "data/ucf101/rgb").iterdir()) == [
        "ucf101_bsrgb_1.bin", "ucf101_bsrgb_2.bin"]  # nothing written or deleted


# ------------------------------------------------------------------------------------------- inference results

@pytest.mark.parametrize("mode", ["rgb", "flow"])
def test_app_logits_and_top1_equal_eval_py(mode, inference, reference, workdir):
    out = inference["out"][mode]
    logits = np.concatenate([np.fromfile(out / f"result_Files/ucf101_bs{mode}_{i}_0.bin", np.float32).reshape(
        BATCH, 3) for i in (1, 2)])[:6]
    expected = reference[mode]
    assert np.abs(logits - expected.scores).max() < 1e-4
    np.testing.assert_array_equal(logits.argmax(axis=1), expected.predictions)

    saved = load_scores(out / "scores.npz")[0]  # postprocess.py --scores_path, real samples only
    assert saved.keys == expected.keys and np.abs(saved.scores - expected.scores).max() < 1e-4
    acc_log = (workdir["cwd"] / f"acc_ucf101_{mode}.log").read_text().splitlines()
    printed = float(re.fullmatch(r"eval result: top_1 (\d+\.\d{3})%", acc_log[-1]).group(1))
    assert printed == round(expected.top1 * 100, 3)
    assert abs(printed / 100 - reference["accuracy"][mode]) <= 5e-5  # eval.py prints 4 decimals
    assert acc_log == inference["runs"][mode].stdout.splitlines()[-len(acc_log):]
    assert "6 samples in 2 file(s) of 4 (2 padding row(s) left out)" in acc_log[0]


def test_app_writes_the_seed_result_names_and_timing(inference, workdir):
    run = inference["runs"]["flow"]
    assert "no Ascend device here; running" in run.stderr and "i3d_flow.onnx" in run.stderr
    out = inference["out"]["flow"]
    assert sorted(p.name for p in (out / "result_Files").iterdir()) == ["ucf101_bsflow_1_0.bin",
                                                                         "ucf101_bsflow_2_0.bin"]
    timing = (out / "time_Result/test_perform_static.txt").read_text()
    assert re.fullmatch(r"NN inference cost average time: \d+\.\d{3}ms of infer_count 2\n", timing)
    log = (workdir["cwd"] / "infer_ucf101_flow.log").read_text()
    assert re.search(r"ucf101_bsflow_1\.bin: \d+\.\d{3} ms, 1 output\(s\)", log)
    assert "note: --device_id=3 is ignored by the CPU backend" in log
    assert timing.strip() in log.splitlines()


def test_postprocess_names_missing_or_mismatched_results(inference, workdir, tmp_path):
    label_dir = workdir["result"] / "label/ucf101/rgb"
    partial = tmp_path / "result_Files"
    partial.mkdir()
    shutil.copy(inference["out"]["rgb"] / "result_Files/ucf101_bsrgb_1_0.bin", partial)
    missing = run_cli(["postprocess.py", f"--label-path={label_dir}", f"--result_path={partial}"], check=False)
    assert missing.returncode == 1 and f"result file not found: {partial / 'ucf101_bsrgb_2_0.bin'}" in missing.stderr
    wrong = run_cli(["postprocess.py", "--dataset=ucf101", "--mode=rgb", "--batch-size=8",
                     f"--label-path={label_dir / 'label_bsrgb4.npy'}", f"--result_path={partial}"], check=False)
    assert wrong.returncode == 1 and "--batch-size=8, but" in wrong.stderr and "batch size 4" in wrong.stderr


# ------------------------------------------------------------------------------------------------- bad input

def test_app_rejects_a_missing_model(build_dir, workdir, tmp_path):
    result = run_app(build_dir, f"--mindir_path={tmp_path / 'absent.onnx'}",
                     f"--input0_path={workdir['result'] / 'data/ucf101/rgb'}", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: model file not found: {tmp_path / 'absent.onnx'}"
    assert list(tmp_path.iterdir()) == []


def test_app_names_an_input_file_of_the_wrong_size(build_dir, models, workdir, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name in ("ucf101_bsrgb_1.bin", "ucf101_bsrgb_2.bin"):
        shutil.copy(workdir["result"] / "data/ucf101/rgb" / name, inputs)
    with open(inputs / "ucf101_bsrgb_2.bin", "r+b") as handle:
        handle.truncate(1000)
    result = run_app(build_dir, f"--mindir_path={models['rgb']}", f"--input0_path={inputs}", cwd=tmp_path)
    assert result.returncode == 1
    assert f"{inputs / 'ucf101_bsrgb_2.bin'}: expected {BIN_BYTES['rgb']} bytes (float32 [4, 3, 8, 32, 32]), got " \
           f"1000 bytes" in result.stderr
    assert "ucf101_bsrgb_1.bin" not in result.stderr
    assert not (tmp_path / "result_Files").exists()  # checked before any prediction


def test_app_rejects_an_empty_input_folder_and_a_mindir_without_mindspore(build_dir, models, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".partial.bin").write_bytes(b"")  # hidden files are never inputs
    result = run_app(build_dir, f"--mindir_path={models['rgb']}", f"--input0_path={empty}", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.strip() == f"error: no input files (*.bin) in {empty}"

    (tmp_path / "x.bin").write_bytes(b"0")
    mindir = run_app(build_dir, f"--mindir_path={models['flow']}", f"--input0_path={tmp_path}", cwd=tmp_path)
    assert mindir.returncode == 1 and "this build has no MindSpore backend" in mindir.stderr
    assert "export.py --file_format=ONNX" in mindir.stderr

    usage = run_app(build_dir, "--input0_path=x", cwd=tmp_path)
    assert usage.returncode == 2 and "--mindir_path (the model file) is required" in usage.stderr


def test_infer_script_explains_what_to_do_with_a_lone_mindir(build_dir, workdir, tmp_path):
    lone = tmp_path / "i3d_rgb.mindir"
    lone.write_bytes(b"stand-in")
    result = run_script("run_infer_310.sh", [lone, "ucf101", 0, "rgb"], workdir["cwd"], build_dir, check=False)
    assert result.returncode == 1
    assert "needs an Ascend 310" in result.stderr and "--file_format=ONNX" in result.stderr
    assert f"--file_name={tmp_path / 'i3d_rgb'}" in result.stderr


@pytest.mark.parametrize("script, args", [
    ("run_infer_310.sh", ["m.onnx", "ucf101", 0]),
    ("run_infer_310_all.sh", ["a", "b", "c"]),
    ("run_preprocess.sh", [1, "none", "ucf101", "rgb", 40, "v", "a"]),
])
def test_scripts_print_their_usage_on_too_few_arguments(script, args, build_dir, tmp_path):
    result = run_script(script, args, tmp_path, build_dir, check=False)
    assert result.returncode == 1 and "Usage: bash" in result.stderr
    assert list(tmp_path.iterdir()) == []
