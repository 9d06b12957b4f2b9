"""ECO-lite offline inference end to end on a tiny generated dataset (6 validation videos, 3 classes, 8 frames of
48x32, 64-pixel crops, batch 4) with a random-init checkpoint: get_310_eval_dataset.py -> the C++ app (ONNX Runtime CPU
backend, built once) -> postprocess.py, through scripts/run_310_infer.sh (the original README's path). The app's
logits must equal eval.py's."""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from src.evaluation import load_scores
from tests.helpers import REPO_ROOT, run_cli

pytestmark = [pytest.mark.skipif(not (shutil.which("cmake") and shutil.which("g++")),
                                 reason="building the C++ inference app needs cmake and g++ (apt-get install cmake g++)"),
              pytest.mark.slow]  # every test needs the C++ app (build_dir) or the exported model

BATCH, SIZE, SEGMENTS = 4, 64, 4
BIN_BYTES = BATCH * 3 * SEGMENTS * SIZE * SIZE * 4
QUIET = ["--workers", "1", "--no-progress"]


def cli(args, **kwargs):
    return run_cli([str(arg) for arg in args], **kwargs)


TOTAL_LINE = re.compile(r"^Total data: (\d+), top1 accuracy: (\S+), top5 accuracy: (\S+)\.$", re.M)


@pytest.fixture(scope="module")
def data(tiny_eco_data, module_mktemp):
    """The session's tiny ECO-lite data (read-only) and this module's checkpoint and exports, in a folder of its own."""
    import mindspore as ms
    from src.eco_lite import ECOLite
    from src.engine.checkpoint_io import save_checkpoint

    root = module_mktemp("eco_infer")
    lists = tiny_eco_data
    ms.set_seed(7)
    checkpoint = root / "eco.ckpt"
    save_checkpoint(ECOLite(3, SEGMENTS), checkpoint)
    models = root / "models"
    cli(["export.py", "--dataset", "ucf101", "--checkpoint_path", checkpoint, "--file_format", "ONNX",
             "--file_name", models / "eco", "--batch-size", BATCH, "--input_size", SIZE, "--num_classes", 3,
             "--device_target", "CPU"])
    (models / "eco.mindir").write_bytes(b"stand-in: this machine has no Ascend")
    return {"root": root, "val": lists["val"], "checkpoint": checkpoint,
            "onnx": models / "eco.onnx", "mindir": models / "eco.mindir"}


@pytest.fixture(scope="module")
def reference(data):
    """eval.py's ECO-lite evaluation of the same checkpoint, with per-video scores."""
    scores = data["root"] / "eval.npz"
    result = cli(["eval.py", "--val_list", data["val"], "--resume", data["checkpoint"], "--input_size", SIZE,
                      "--batch-size", BATCH, "--num_classes", 3, "--device_target", "CPU", "--scores_path", scores,
                      *QUIET])
    top1 = re.search(r"'Top1-Acc': (\S+?),", result.stdout).group(1)
    return {"scores": load_scores(scores)[0], "top1": top1}


def run_script(args, cwd, build_dir, check=True):
    env = dict(os.environ, PYTHONPATH="", PYTHON_BIN=sys.executable, INFER_BUILD_DIR=str(build_dir))
    result = subprocess.run(["bash", str(REPO_ROOT / "scripts/run_310_infer.sh"), *map(str, args)], cwd=cwd,
                            capture_output=True, text=True, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"run_310_infer.sh failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def inference(data, build_dir, module_mktemp):
    """run_310_infer.sh with relative paths (model and data folder) and the .mindir whose .onnx sibling runs."""
    cwd = module_mktemp("work")
    run = run_script([os.path.relpath(data["mindir"], cwd), "eval_data", 2, BATCH, "--val_list", data["val"],
                      "--input_size", SIZE, "--num_classes", 3], cwd, build_dir)
    return {"cwd": cwd, "run": run, "out": cwd / "infer_result/eco_lite"}


def test_bins_labels_and_results_in_the_seed_naming(inference):
    cwd, out = inference["cwd"], inference["out"]
    bins = sorted(p.name for p in (cwd / "eval_data").glob("*.bin"))
    assert bins == ["eval_data_0_.bin", "eval_data_1_.bin"]
    assert all((cwd / "eval_data" / name).stat().st_size == BIN_BYTES for name in bins)
    labels = np.load(cwd / "eval_data/label/eval_label_bs4.npy", allow_pickle=False)
    assert labels.dtype == np.int32 and labels.shape == (2, BATCH) and list(labels[1, 2:]) == [-1, -1]
    info = json.loads((cwd / "eval_data/label/preprocess_info.json").read_text())
    assert (info["num_samples"], info["last_batch_size"], info["input_shape"]) == (6, 2, [BATCH, 12, SIZE, SIZE])
    assert sorted(p.name for p in (out / "result_Files").iterdir()) == ["eval_predict_0_.bin", "eval_predict_1_.bin"]
    assert "no Ascend device here; running" in inference["run"].stderr
    assert "note: --device_id=2 is ignored" in (cwd / "infer_eco_lite.log").read_text()


def test_app_logits_and_top1_equal_eval_py(inference, reference):
    out = inference["out"]
    logits = np.concatenate([np.fromfile(out / f"result_Files/eval_predict_{i}_.bin", np.float32).reshape(BATCH, 3)
                             for i in (0, 1)])[:6]
    expected = reference["scores"]
    assert np.abs(logits - expected.scores).max() < 1e-4
    saved = load_scores(out / "scores.npz")[0]
    assert saved.keys == expected.keys and np.abs(saved.scores - expected.scores).max() < 1e-4
    acc = (inference["cwd"] / "acc_eco_lite.log").read_text()
    total, top1, _ = TOTAL_LINE.search(acc).groups()
    assert total == "6" and top1 == reference["top1"]
    assert acc.splitlines()[-1] == inference["run"].stdout.splitlines()[-1]


def test_postprocess_takes_the_seed_flags_and_the_class_count_from_the_results(inference, reference):
    cwd = inference["cwd"]
    for label_path in ("eval_data/label/", "eval_data/label"):
        result = cli([REPO_ROOT / "postprocess.py", "--result_path", "infer_result/eco_lite/result_Files",
                      "--label_path", label_path, "--batch_size", BATCH], cwd=cwd)
        assert TOTAL_LINE.fullmatch(result.stdout.strip()).group(2) == reference["top1"]
    wrong = cli([REPO_ROOT / "postprocess.py", "--result_path", "infer_result/eco_lite/result_Files",
                 "--label_path", "eval_data/label/", "--num_classes", 5], cwd=cwd, check=False)
    assert wrong.returncode == 1 and "eval_predict_0_.bin: expected" in wrong.stderr


def test_rerun_resumes_and_other_batch_is_refused(inference, data):
    cwd = inference["cwd"]
    args = [REPO_ROOT / "get_310_eval_dataset.py", "ucf101", "RGB", data["val"], cwd / "eval_data",
            "--input_size", SIZE, "--num_classes", 3, *QUIET]
    again = cli(args + ["-b", BATCH], cwd=cwd)
    assert "wrote 0 file(s), 2 already complete" in again.stdout
    other = cli(args + ["-b", 2], cwd=cwd, check=False)
    assert other.returncode == 1 and "other options or data" in other.stderr
    assert sorted(p.name for p in (cwd / "eval_data").glob("*.bin")) == ["eval_data_0_.bin", "eval_data_1_.bin"]


def test_app_names_an_input_file_of_the_wrong_size(inference, data, build_dir, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    shutil.copy(inference["cwd"] / "eval_data/eval_data_0_.bin", inputs)
    (inputs / "eval_data_1_.bin").write_bytes(b"\0" * 1000)
    result = subprocess.run([str(build_dir / "main"), f"--mindir_path={data['onnx']}", f"--input0_path={inputs}",
                             "--result_name=predict"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1
    assert f"{inputs / 'eval_data_1_.bin'}: expected {BIN_BYTES} bytes (float32 [4, 12, 64, 64]), got 1000 bytes" \
        in result.stderr
    assert not (tmp_path / "result_Files").exists()
    # absolute paths; a batch size other than the model's: the files are written with it and the app names them
    script = run_script([data["onnx"], inputs, 0, 3, "--val_list", data["val"], "--input_size", SIZE,
                         "--num_classes", 3], tmp_path, build_dir, check=False)
    assert script.returncode == 1 and "(float32 [4, 12, 64, 64]), got 589824 bytes" in script.stdout
    assert "error: the inference app failed" in script.stderr
