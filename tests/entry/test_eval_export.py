"""eval.py, export.py, eval_onnx.py and the evaluation scripts end to end on a tiny generated dataset
(6 validation videos of 8 frames, 3 classes, 32-pixel crops) with random-init checkpoints."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from src.evaluation import fuse_saved_scores, load_scores
from tests.helpers import REPO_ROOT, run_cli

TINY = ["--test_sample_duration=8", "--spatial_size=32", "--num_workers=1"]
BATCH = 4  # 6 videos: the last batch is padded
SCRIPTS = REPO_ROOT / "scripts"


def run_script(name, args, cwd, check=True):
    env = dict(os.environ, PYTHONPATH="", PYTHON_BIN=sys.executable, DEVICE_TARGET="CPU")
    result = subprocess.run(["bash", str(SCRIPTS / name), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                            env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"{name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def metric_lines(text, names=("rgb", "flow", "joint")):
    """The accuracy lines of the given streams, in order."""
    pattern = re.compile(rf"^({'|'.join(names)}) (top5 |mean class )?accuracy: \d\.\d{{4}}$")
    return [line for line in text.splitlines() if pattern.match(line)]


@pytest.fixture(scope="module")
def data(tiny_i3d_data):
    """The session's tiny I3D data (tests/conftest.py), read-only."""
    return tiny_i3d_data


@pytest.fixture(scope="module")
def checkpoints(random_i3d_checkpoints):
    """The session's random-init rgb and flow checkpoints (seed 3), read-only."""
    return random_i3d_checkpoints


@pytest.fixture(scope="module")
def joint_run(data, checkpoints, module_mktemp):
    """run_joint_eval.sh with --scores_path and --backend=mindspore: the MindSpore reference for the other tests."""
    cwd = module_mktemp("joint_run")
    result = run_script("run_joint_eval.sh", [0, "ucf101", data["rgb"], data["flow"], data["annotation"],
                                              data["annotation"], checkpoints["rgb"], checkpoints["flow"], *TINY,
                                              f"--batch_size={BATCH}", "--scores_path=scores/ms.npz",
                                              "--backend=mindspore"], cwd)
    assert result.stdout.count("backend: mindspore") == 2
    return {"stdout": result.stdout, "cwd": cwd, **{s: cwd / f"scores/ms_{s}.npz" for s in ("rgb", "flow", "joint")}}


@pytest.fixture(scope="module")
def onnx_models(checkpoints, module_mktemp):
    """ONNX exports with different fixed batches: rgb 4 (= --batch_size), flow 2 (adopted with a note)."""
    out = module_mktemp("onnx")
    for mode, batch in (("rgb", BATCH), ("flow", 2)):
        result = run_cli(["export.py", f"--checkpoint_path={checkpoints[mode]}", f"--mode={mode}", "--num_classes=3",
                          "--file_format=ONNX", f"--file_name={out / mode}", f"--batch_size={batch}",
                          "--sample_duration=8", "--spatial_size=32", "--device_target=CPU"])
        assert result.stdout.splitlines()[:2] == ["Start export", "Finish export"]
        assert f"to {out / mode}.onnx" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["flow.onnx", "rgb.onnx"]  # no partial files left
    return {"rgb": out / "rgb.onnx", "flow": out / "flow.onnx"}


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_joint_eval_prints_the_seed_lines_and_matches_offline_fusion(joint_run, checkpoints, capsys):
    lines = joint_run["stdout"].splitlines()
    assert lines.count("Found 6 validation examples") == 2
    assert f"checkpoint: {checkpoints['rgb']}" in lines and f"checkpoint: {checkpoints['flow']}" in lines
    assert len(metric_lines(joint_run["stdout"])) == 9
    joint_accuracy = re.search(r"^joint accuracy: (\S+)$", joint_run["stdout"], re.M).group(1)
    assert f"accuracy of use rgb targerts: {joint_accuracy}    accuracy of use flow targerts: {joint_accuracy}" \
        in lines
    assert re.search(r"^total_time: [\d.]+ s$", joint_run["stdout"], re.M)
    assert (joint_run["cwd"] / "joint_eval_log.txt").read_text().splitlines()[-1] == lines[-1]

    offline = fuse_saved_scores(joint_run["rgb"], joint_run["flow"])
    saved, class_names = load_scores(joint_run["joint"])
    assert class_names == ["MoveUp", "MoveDown", "MoveSideways"] and len(saved.keys) == 6
    np.testing.assert_array_equal(offline.scores, saved.scores)
    assert metric_lines(capsys.readouterr().out) == metric_lines(joint_run["stdout"])


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_single_stream_eval_equals_that_stream_in_joint_mode(data, checkpoints, joint_run, tmp_path):
    result = run_cli(["eval.py", "--dataset=ucf101", "--test_mode=flow", f"--flow_path={checkpoints['flow']}",
                      f"--video_path={data['flow']}", f"--annotation_path={data['annotation']}", *TINY,
                      "--batch_size=5", "--device_target=CPU", "--context=py", "--no-progress",
                      f"--scores_path={tmp_path / 'flow.npz'}"])
    assert f"checkpoint: {checkpoints['flow']}" in result.stdout.splitlines()
    assert metric_lines(result.stdout) == metric_lines(joint_run["stdout"], ("flow",))
    single, reference = load_scores(tmp_path / "flow.npz")[0], load_scores(joint_run["flow"])[0]
    assert single.keys == reference.keys
    np.testing.assert_allclose(single.scores, reference.scores, atol=1e-5)  # other batch size and mode


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_onnx_eval_matches_mindspore(data, onnx_models, joint_run, tmp_path):
    result = run_script("run_eval_onnx.sh", ["joint", "CPU", 0, "ucf101", data["rgb"], data["flow"],
                                             data["annotation"], data["annotation"], onnx_models["rgb"],
                                             onnx_models["flow"], *TINY, f"--batch_size={BATCH}",
                                             "--scores_path=onnx.npz"], tmp_path)
    log = (tmp_path / "joint_onnx_eval.log").read_text()
    assert f"{onnx_models['flow']} has a fixed batch of 2; using --batch_size=2" in log
    assert metric_lines(result.stdout) == metric_lines(joint_run["stdout"])
    accuracies = {stream: re.search(rf"^{stream} accuracy: (\S+)$", result.stdout, re.M).group(1)
                  for stream in ("rgb", "flow", "joint")}
    assert (f"accuracy of rgb: {accuracies['rgb']}    accuracy of flow: {accuracies['flow']} accuracy of joint: "
            f"{accuracies['joint']}") in result.stdout.splitlines()
    for stream in ("rgb", "flow", "joint"):
        onnx_result, reference = load_scores(tmp_path / f"onnx_{stream}.npz")[0], load_scores(joint_run[stream])[0]
        assert onnx_result.keys == reference.keys
        assert np.abs(onnx_result.scores - reference.scores).max() < 1e-4
        np.testing.assert_array_equal(onnx_result.predictions, reference.predictions)


def assert_same_scores(expected_path, actual_path):
    """Same videos, same predictions, logits within 1e-4."""
    expected, _ = load_scores(expected_path)
    actual, _ = load_scores(actual_path)
    assert actual.keys == expected.keys
    np.testing.assert_array_equal(actual.predictions, expected.predictions)
    assert np.abs(actual.scores - expected.scores).max() < 1e-4


@pytest.mark.slow  # end-to-end: runs eval.py
def test_eval_defaults_to_onnxruntime_on_cpu_with_mindspores_scores(data, checkpoints, joint_run, tmp_path):
    result = run_cli(["eval.py", "--dataset=ucf101", "--test_mode=joint", f"--rgb_path={checkpoints['rgb']}",
                      f"--flow_path={checkpoints['flow']}", f"--video_path={data['rgb']}",
                      f"--annotation_path={data['annotation']}", f"--video_path_joint_flow={data['flow']}", *TINY,
                      f"--batch_size={BATCH}", "--device_target=CPU", f"--scores_path={tmp_path / 'ort.npz'}"])
    assert result.stdout.count("backend: onnxruntime") == 2  # the default on a CPU target
    for stream in ("rgb", "flow", "joint"):
        assert_same_scores(joint_run[stream], tmp_path / f"ort_{stream}.npz")
    assert metric_lines(result.stdout) == metric_lines(joint_run["stdout"])


@pytest.mark.slow  # end-to-end: runs eval.py
@pytest.mark.parametrize("online", ["False", "True"])
def test_eco_lite_eval_on_onnxruntime_gives_mindspores_scores(tiny_eco_data, online, tmp_path):
    import mindspore as ms
    from src.eco_lite import ECOLite
    from src.engine.checkpoint_io import save_checkpoint

    ms.set_seed(7)
    save_checkpoint(ECOLite(3, 4), tmp_path / "eco.ckpt")
    for backend in ("mindspore", "onnxruntime"):
        result = run_cli(["eval.py", "--model", "eco_lite", "--val_list", tiny_eco_data["val"], "--resume",
                          tmp_path / "eco.ckpt", "--num_classes", "3", "--input_size", "32", "--batch-size", "4",
                          "--run_online", online, "--backend", backend, "--device_target", "CPU", "--no-progress",
                          "--scores_path", tmp_path / f"{backend}.npz"])
        assert f"backend: {backend}" in result.stdout.splitlines()
    assert_same_scores(tmp_path / "mindspore.npz", tmp_path / "onnxruntime.npz")


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_onnx_eval_reports_a_shape_mismatch_clearly(data, onnx_models):
    result = run_cli(["eval_onnx.py", "--dataset=ucf101", "--test_mode=rgb", f"--rgb_path={onnx_models['rgb']}",
                      f"--video_path={data['rgb']}", f"--annotation_path={data['annotation']}",
                      "--test_sample_duration=16", "--spatial_size=32", "--device_target=CPU"], check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "does not fit --test_sample_duration=16; pass --test_sample_duration=8" in result.stderr


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_mindir_export_reproduces_the_checkpoint_network(checkpoints, tmp_path):
    run_cli(["export.py", f"--checkpoint_path={checkpoints['rgb']}", "--mode=rgb", "--num_class=3",
             f"--file_name={tmp_path / 'i3d'}", "--batch_size=2", "--sample_duration=8", "--spatial_size=32",
             "--device=CPU"])
    assert [p.name for p in tmp_path.iterdir()] == ["i3d.mindir"]
    check = f"""
import src.runtime, numpy as np, mindspore as ms
from src.i3d import InceptionI3D, load_i3d_checkpoint
net = InceptionI3D(3, 'rgb'); load_i3d_checkpoint(net, {str(checkpoints['rgb'])!r}); net.set_train(False)
clips = ms.Tensor(np.random.default_rng(0).uniform(-1, 1, (2, 3, 8, 32, 32)).astype(np.float32))
graph = ms.nn.GraphCell(ms.load({str(tmp_path / 'i3d.mindir')!r}))
print(np.abs(graph(clips).asnumpy() - net(clips).asnumpy()).max())
"""
    assert float(run_cli(["-c", check]).stdout.split()[-1]) < 1e-4


def test_air_export_off_ascend_is_refused_before_anything_is_written(checkpoints, tmp_path):
    result = run_cli(["export.py", f"--checkpoint_path={checkpoints['rgb']}", "--mode=rgb", "--num_classes=3",
                      "--file_format=AIR", f"--file_name={tmp_path / 'i3d'}", "--device_target=CPU"], check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "AIR files only on Ascend" in result.stderr and "runs on CPU" in result.stderr
    assert "--file_format=MINDIR" in result.stderr and "--file_format=ONNX" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_run_single_eval_script_end_to_end_and_its_failure_status(data, checkpoints, joint_run, tmp_path):
    args = [0, "rgb", "ucf101", checkpoints["rgb"], data["rgb"], data["annotation"], *TINY, f"--batch_size={BATCH}"]
    result = run_script("run_single_eval.sh", args, tmp_path)
    log = (tmp_path / "single_eval_rgb_log.txt").read_text()
    assert f"checkpoint: {checkpoints['rgb']}" in log.splitlines()
    assert metric_lines(log) == metric_lines(result.stdout) == metric_lines(joint_run["stdout"], ("rgb",))

    args[3] = checkpoints["flow"]  # a flow checkpoint for the rgb stream
    failed = run_script("run_single_eval.sh", args, tmp_path, check=False)
    assert failed.returncode == 1
    assert "holds flow weights" in (tmp_path / "single_eval_rgb_log.txt").read_text()
    assert "Traceback" not in failed.stdout


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_distributed_single_mode_eval_script_on_cpu(data, checkpoints, joint_run, tmp_path):
    ckpt_dir = tmp_path / "checkpoints"
    ckpt_dir.mkdir()
    for epoch in (33, 35):
        (ckpt_dir / f"i3d-{epoch}_56.ckpt").write_bytes(checkpoints["rgb"].read_bytes())
    (tmp_path / "output_eval").mkdir()
    (tmp_path / "output_eval/earlier_run.txt").write_text("kept\n")
    result = run_script("run_distributed_single-mode_eval.sh",
                        [33, "rgb", "ucf101", data["annotation"], data["rgb"], ckpt_dir, 56, *TINY,
                         f"--batch_size={BATCH}"], tmp_path)
    assert "missing in" in result.stderr and "i3d-34_56.ckpt" in result.stderr and "i3d-40_56.ckpt" in result.stderr
    accuracy = metric_lines(joint_run["stdout"], ("rgb",))[0]
    summary = (tmp_path / "output_eval/summary.txt").read_text().splitlines()
    assert summary == [f"checkpoint: {ckpt_dir}/i3d-33_56.ckpt", accuracy, f"checkpoint: {ckpt_dir}/i3d-35_56.ckpt",
                       accuracy]
    assert sorted(p.name for p in (tmp_path / "output_eval").iterdir()) == [
        "earlier_run.txt", "eval_rgb_i3d-33_56_log.txt", "eval_rgb_i3d-35_56_log.txt", "summary.txt",
        "summary_rgb_i3d-33-40_56.txt"]


@pytest.mark.parametrize("script, args", [
    ("run_single_eval.sh", [0, "rgb", "ucf101", "c.ckpt", "v"]),
    ("run_joint_eval.sh", [0, "ucf101", "v", "vf", "a", "af", "r.ckpt"]),
    ("run_distributed_single-mode_eval.sh", [33, "rgb", "ucf101", "a", "v", "ckpts"]),
    ("run_eval_onnx.sh", []),
    ("run_eval_onnx.sh", ["joint", "CPU", 0, "ucf101", "v", "vf", "a", "af", "r.onnx"]),
    ("run_eval_onnx.sh", ["rgb", "CPU", 0, "ucf101", "v", "a"]),
])
def test_scripts_print_their_usage_on_too_few_arguments(script, args, tmp_path):
    result = run_script(script, args, tmp_path, check=False)
    assert result.returncode == 1 and "Usage: bash" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_onnx_script_refuses_an_unknown_mode(tmp_path):
    result = run_script("run_eval_onnx.sh", ["both", "CPU", 0, "ucf101", "v", "a", "m.onnx"], tmp_path, check=False)
    assert result.returncode == 1 and "illegal eval mode" in result.stderr


def test_export_with_another_class_count_says_which_num_classes(checkpoints, tmp_path):
    result = run_cli(["export.py", f"--checkpoint_path={checkpoints['rgb']}", "--mode=rgb", "--num_classes=51",
                      f"--file_name={tmp_path / 'i3d'}", "--device_target=CPU"], check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "has a 3-class head, not --num_classes=51: pass --num_classes=3" in result.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_onnx_eval_takes_the_clip_size_from_the_model_when_not_given(data, onnx_models, joint_run):
    result = run_cli(["eval_onnx.py", "--dataset=ucf101", "--test_mode=rgb", f"--rgb_path={onnx_models['rgb']}",
                      f"--video_path={data['rgb']}", f"--annotation_path={data['annotation']}", "--num_workers=1",
                      "--device_target=CPU"])
    assert f"note: --test_sample_duration not given; using 8, the input shape of {onnx_models['rgb']}" in result.stderr
    assert f"note: --spatial_size not given; using 32, the input shape of {onnx_models['rgb']}" in result.stderr
    assert metric_lines(result.stdout, ("rgb",)) == metric_lines(joint_run["stdout"], ("rgb",))
