"""The README's main command, scripts/quickstart.sh, run whole at a tiny size: sample videos -> frames, flow,
annotations -> I3D rgb and flow training, rgb fine-tuning from the Kinetics-400 weights -> joint evaluation -> MINDIR
and ONNX export -> ONNX evaluation -> ECO-lite training, evaluation and export -> results table with the
ONNX-equals-MindSpore check and the training runs; then run again, which must skip the finished work."""
import os
import re
import subprocess

import pytest

from src.evaluation import load_scores
from tests.helpers import REPO_ROOT

pytestmark = pytest.mark.slow  # the whole quick start, twice: minutes

TINY = {"SAMPLE_DATASET_ARGS": "--num_classes 3 --groups 3 --clips 2 --num_frames 10 --width 48 --height 32",
        "SAMPLE_FRAME_SIZE": "32", "QUICKSTART_EPOCHS": "1", "QUICKSTART_ECO_EPOCHS": "1", "QUICKSTART_BATCH": "4",
        "QUICKSTART_K400_EPOCHS": "1", "QUICKSTART_K400_CROP": "32", "DEVICE_TARGET": "CPU"}


def run_quickstart(work):
    result = subprocess.run(["bash", str(REPO_ROOT / "scripts/quickstart.sh"), str(work)], capture_output=True,
                            text=True, env=dict(os.environ, PYTHONPATH="", **TINY))
    assert result.returncode == 0, f"quickstart failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def quickstart(module_mktemp):
    if not (REPO_ROOT / ".venv/bin/python").exists():
        pytest.skip("the quick start runs in .venv (bash scripts/run_tests.sh creates it)")
    work = module_mktemp("quickstart")
    return work, run_quickstart(work)


def test_quickstart_runs_the_whole_chain(quickstart):
    work, stdout = quickstart
    for mode in ("rgb", "flow"):
        run = work / f"i3d/ucf101_{mode}"
        assert list((run / "checkpoints").glob("i3d-1_*.ckpt")), f"no final {mode} checkpoint"
        assert (run / "train_log.jsonl").read_text().count("\n") == 1
        for suffix in ("mindir", "onnx"):
            assert (work / f"export/i3d_{mode}.{suffix}").stat().st_size > 1_000_000
    assert list((work / "eco_lite/ecolite_ucf101/checkpoints").glob("eco-1_*.ckpt"))
    assert list((work / "i3d_kinetics400/ucf101_rgb/checkpoints").glob("i3d-1_*.ckpt"))
    assert "=> loaded " in stdout and "rgb_kinetics400.ckpt (i3d naming, rgb, 400 classes); its head is replaced by " \
                                     "a new 3-class one" in stdout
    for suffix in ("mindir", "onnx"):
        assert (work / f"export/ecolite.{suffix}").stat().st_size > 1_000_000
    assert re.search(r"^\{'Loss': [0-9.]+, 'Top1-Acc': [0-9.]+, 'Top5-Acc': [0-9.]+\}$", stdout, re.MULTILINE)
    results = work / "results"
    for name in ("demo.gif", "ucf101_rgb_curves.png", "ucf101_flow_curves.png", "ecolite_ucf101_curves.png",
                 "report/joint_confusion_matrix.png", "report/joint_per_class_accuracy.csv"):
        assert (results / name).stat().st_size > 0, name
    assert "MoveUp" in stdout.split("Demo:")[1]  # the demo's top-5 table names the classes
    table = (work / "results/results.md").read_text()
    assert table in stdout
    rows = re.findall(r"^\| (MindSpore|ONNX) \| (rgb|flow|joint) \| 6 \| ", table, re.MULTILINE)
    assert len(rows) == 6
    assert re.search(r"^\| ECO-lite \| rgb \| 6 \| ", table, re.MULTILINE)
    assert re.search(r"^\| MindSpore, from Kinetics-400 \| rgb \| 6 \| ", table, re.MULTILINE)
    runs = re.findall(r"^\| (I3D rgb, from scratch|I3D rgb, from Kinetics-400|I3D flow, from scratch|"
                      r"ECO-lite, from scratch) \| 1 \| [0-9.]+ \| [0-9.]+ \|$", table, re.MULTILINE)
    assert len(runs) == 4
    assert len(re.findall(r"^- (rgb|flow|joint): 6/6 videos predicted the same class", table, re.MULTILINE)) == 3


def test_quickstart_scores_agree_between_backends(quickstart):
    work, _ = quickstart
    for stream in ("rgb", "flow", "joint"):
        mindspore, _ = load_scores(work / f"results/mindspore_scores_{stream}.npz")
        onnx, _ = load_scores(work / f"results/onnx_scores_{stream}.npz")
        assert mindspore.keys == onnx.keys
        assert abs(mindspore.scores - onnx.scores).max() < 1e-3


def test_quickstart_rerun_skips_finished_work(quickstart):
    work, _ = quickstart
    checkpoints = sorted((work / "i3d").rglob("*.ckpt")) + sorted((work / "i3d_kinetics400").rglob("*.ckpt"))
    stamps = [path.stat().st_mtime_ns for path in checkpoints]
    stdout = run_quickstart(work)
    assert stdout.count("Nothing to do: already trained 1 of 1 epochs") == 4
    assert [path.stat().st_mtime_ns for path in checkpoints] == stamps
