"""Training and export under faults: kill -9 and resume, two runs at once, refused and changed resumes, a corrupt
newest checkpoint, full and read-only disks, and bad frame folders, for I3D and ECO-lite (docs/reliability.md).

Every kill is followed by the rerun the README gives (I3D `--resume`, ECO-lite `--continue_training True`), and the
final checkpoints must equal an uninterrupted run's, with the default dropout.
"""
import json
import shutil
import time

import mindspore as ms
import numpy as np
import pytest

from tests.reliability.faults import (kill_after, kill_group, kill_points, python_command, run, run_on_restricted_disk,
                                      start, wait_group_gone)

pytestmark = pytest.mark.fault_injection

I3D_TINY = ["--device_target", "CPU", "--spatial_size", "32", "--train_sample_duration", "8", "--test_sample_duration",
            "8", "--batch_size", "4", "--num_workers", "2", "--no-progress"]
I3D_EPOCHS = 4


def i3d_command(data, save_dir, *extra, epochs=I3D_EPOCHS):
    return python_command("train.py", "--dataset", "ucf101", "--mode", "rgb", "--video_path", data["rgb"],
                          "--annotation_path", data["annotation"], "--save_dir", save_dir,
                          "--num_epochs", epochs, *I3D_TINY, *extra)


def eco_command(data, save_dir, *extra, epochs=3):
    return python_command("train.py", "--train_list", data["train"], "--val_list", data["val"], "--input_size", "32",
                          "--batch-size", "4", "--num_classes", "3", "--num_workers", "2", "--resume", "",
                          "--save_dir", save_dir, "--epochs", epochs, "--no-progress", *extra)


MODELS = {
    "i3d": {"command": i3d_command, "resume": ["--resume"], "run": "ucf101_rgb", "prefix": "i3d",
            "best": lambda save_dir: save_dir / "ucf101_rgb/checkpoints/i3d-best.ckpt"},
    "eco_lite": {"command": eco_command, "resume": ["--continue_training", "True"], "run": "ecolite_ucf101",
                 "prefix": "eco", "best": lambda save_dir: save_dir / "ucf101bestacc.ckpt"},
}


def checked(result):
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def weights(path):
    return {name: value.asnumpy() for name, value in ms.load_checkpoint(str(path)).items()}


def assert_same_checkpoint(a, b):
    first, second = weights(a), weights(b)
    assert sorted(first) == sorted(second)
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=f"{name} of {a} and {b}")


def final_checkpoint(save_dir, model):
    spec = MODELS[model]
    found = sorted((save_dir / spec["run"] / "checkpoints").glob(f"{spec['prefix']}-*_*.ckpt"),
                   key=lambda path: int(path.name.split("-")[1].split("_")[0]))
    return found[-1]


def epoch_records(save_dir, model):
    lines = (save_dir / MODELS[model]["run"] / "train_log.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "epoch_time_s"} for line in lines]


def assert_same_run(save_dir, reference, model):
    assert final_checkpoint(save_dir, model).name == final_checkpoint(reference, model).name
    assert_same_checkpoint(final_checkpoint(save_dir, model), final_checkpoint(reference, model))
    assert_same_checkpoint(MODELS[model]["best"](save_dir), MODELS[model]["best"](reference))
    assert epoch_records(save_dir, model) == epoch_records(reference, model)
    state = json.loads((save_dir / MODELS[model]["run"] / "train_state.json").read_text())
    expected = json.loads((reference / MODELS[model]["run"] / "train_state.json").read_text())
    assert (state["best_top1"], state["best_epoch"]) == (expected["best_top1"], expected["best_epoch"])


@pytest.fixture(scope="module")
def datasets(tiny_i3d_data, tiny_eco_data):
    return {"i3d": tiny_i3d_data, "eco_lite": tiny_eco_data}


@pytest.fixture(scope="module")
def uninterrupted(datasets, module_mktemp):
    """{model: (save_dir, seconds)} of one uninterrupted run each, the reference of every recovery test."""
    runs = {}
    for model, spec in MODELS.items():
        save_dir = module_mktemp(f"{model}_reference")
        started = time.time()
        checked(run(spec["command"](datasets[model], save_dir), cwd=save_dir))
        runs[model] = (save_dir, time.time() - started)
    return runs


@pytest.mark.parametrize("model, seed", [("i3d", 1), ("eco_lite", 2)])
def test_kill_9_then_resume_equals_an_uninterrupted_run(model, seed, datasets, uninterrupted, tmp_path):
    """Three kills at seeded moments of the reference run's duration (start-up, mid-epoch, evaluation or a checkpoint
    save), each followed by the README's resume command, then one resume to the end."""
    reference, seconds = uninterrupted[model]
    spec = MODELS[model]
    command = spec["command"](datasets[model], tmp_path)
    for delay in sorted(kill_points(seed, 3, 0.3 * seconds, 0.95 * seconds)):
        finished, _, stderr, pgid = kill_after(command + spec["resume"], delay, cwd=tmp_path)
        assert wait_group_gone(pgid), "a process of the killed training is still alive"
        assert finished in (None, 0), stderr[-2000:]
    checked(run(command + spec["resume"], cwd=tmp_path))
    assert_same_run(tmp_path, reference, model)
    assert not list(tmp_path.rglob("*.partial*")) and not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("model", MODELS)
def test_stop_between_state_and_checkpoint_keeps_the_best_score(model, datasets, uninterrupted, tmp_path):
    """The newest checkpoint lost after train_state.json took its epoch (the moment a kill can fall between the two
    writes): the resume starts from the checkpoint before with that checkpoint's best score and ends identical."""
    reference, _ = uninterrupted[model]
    spec = MODELS[model]
    command = spec["command"](datasets[model], tmp_path)
    checked(run(command, cwd=tmp_path))
    final_checkpoint(tmp_path, model).unlink()
    checked(run(command + spec["resume"], cwd=tmp_path))
    assert_same_run(tmp_path, reference, model)


@pytest.mark.parametrize("model", MODELS)
def test_corrupt_newest_checkpoint_falls_back_to_the_one_before(model, datasets, uninterrupted, tmp_path):
    reference, _ = uninterrupted[model]
    spec = MODELS[model]
    command = spec["command"](datasets[model], tmp_path)
    checked(run(command, cwd=tmp_path))
    newest = final_checkpoint(tmp_path, model)
    newest.write_bytes(newest.read_bytes()[:4096])
    result = checked(run(command + spec["resume"], cwd=tmp_path))
    assert f"warning: {newest} is unreadable" in result.stderr and f"{newest.name}.corrupt" in result.stderr
    assert_same_run(tmp_path, reference, model)


def test_second_training_into_the_same_run_is_refused_while_the_first_lives(datasets, uninterrupted, tmp_path):
    reference, _ = uninterrupted["i3d"]
    command = i3d_command(datasets["i3d"], tmp_path)
    first = start(command, cwd=tmp_path)
    try:
        lock = tmp_path / "ucf101_rgb/.lock"
        deadline = time.time() + 120
        while not (lock.is_file() and lock.stat().st_size) and time.time() < deadline:
            time.sleep(0.05)
        second = run(command + ["--resume"], cwd=tmp_path)
        out, err = first.communicate(timeout=600)
    finally:
        kill_group(first.pid)
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert f"this training run is in use by pid {first.pid}" in second.stderr
    assert first.returncode == 0, err[-2000:]
    assert_same_run(tmp_path, reference, "i3d")


@pytest.mark.parametrize("model", MODELS)
def test_refused_run_writes_nothing(model, datasets, tmp_path):
    spec = MODELS[model]
    checked(run(spec["command"](datasets[model], tmp_path, epochs=1), cwd=tmp_path))
    run_dir = tmp_path / spec["run"]
    before = {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file() and path.name != ".lock"}
    result = run(spec["command"](datasets[model], tmp_path, "--lr", "0.5", epochs=1), cwd=tmp_path)
    assert result.returncode == 1 and "already holds checkpoints" in result.stderr
    assert "Traceback" not in result.stderr
    after = {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file() and path.name != ".lock"}
    assert after == before


@pytest.mark.parametrize("model", MODELS)
def test_resume_with_options_that_change_the_result_is_refused(model, datasets, tmp_path):
    spec = MODELS[model]
    checked(run(spec["command"](datasets[model], tmp_path, epochs=1), cwd=tmp_path))
    config = (tmp_path / spec["run"] / "config.json").read_bytes()
    refused = run(spec["command"](datasets[model], tmp_path, "--lr", "0.5", epochs=2) + spec["resume"], cwd=tmp_path)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "error: cannot resume" in refused.stderr and "lr" in refused.stderr and "-> 0.5" in refused.stderr
    assert (tmp_path / spec["run"] / "config.json").read_bytes() == config
    accepted = checked(run(spec["command"](datasets[model], tmp_path, "--num_workers", "1", epochs=2) + spec["resume"],
                           cwd=tmp_path))
    assert "note: resuming with changed options that do not change the result: " in accepted.stdout
    assert "num_workers 2 -> 1" in accepted.stdout


@pytest.mark.parametrize("kind, message", [
    ("full", "No space left on device (the disk is full"),
    ("readonly", "Read-only file system (the file system is read-only"),
])
def test_full_or_read_only_disk_is_one_clear_error_and_leaves_no_partial_file(kind, message, datasets, tmp_path):
    save_dir = tmp_path / "out"
    result, listing = run_on_restricted_disk(i3d_command(datasets["i3d"], save_dir, epochs=2), save_dir, kind,
                                             size_kb=20 * 1024, cwd=tmp_path)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0] and str(save_dir) in errors[0]
    assert not [name for name in listing if "partial" in name or name.endswith(".tmp")], listing


@pytest.mark.parametrize("file_format", ["ONNX", "MINDIR"])
def test_export_on_a_full_disk_is_one_clear_error(file_format, random_i3d_checkpoints, tmp_path):
    out = tmp_path / "out"
    command = python_command("export.py", f"--checkpoint_path={random_i3d_checkpoints['rgb']}", "--mode=rgb",
                             "--num_classes=3", f"--file_format={file_format}", f"--file_name={out / 'i3d'}",
                             "--sample_duration=8", "--spatial_size=32", "--device_target=CPU")
    result, listing = run_on_restricted_disk(command, out, "full", size_kb=1024)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and str(out / "i3d") in errors[0], result.stderr[-2000:]
    assert "disk is full" in errors[0] or "MiB free" in errors[0]
    assert listing == {}


def copy_i3d_data(data, root):
    shutil.copytree(data["root"], root, ignore=shutil.ignore_patterns("raw"))
    return {"rgb": root / "rgb", "annotation": root / "annotation/ucf101_01.json"}


def first_video(frames_root):
    return sorted(path for path in frames_root.glob("*/*") if path.is_dir())[0]


def break_n_frames_smaller(video):
    (video / "n_frames").write_text("5\n")
    return "says 5, the folder holds 8"


def break_n_frames_larger(video):
    (video / "n_frames").write_text("12\n")
    return "says 12, the folder holds 8"


def break_gap(video):
    (video / "image_00003.jpg").unlink()
    return "frames missing, e.g. index [3] of 1..8"


def break_missing_folder(video):
    shutil.rmtree(video)
    return "is missing"


def break_validation_subset(data):
    annotation = json.loads(data["annotation"].read_text())
    annotation["database"] = {k: v for k, v in annotation["database"].items() if v["subset"] == "training"}
    data["annotation"].write_text(json.dumps(annotation))
    return "no videos of subset 'validation'"


def break_annotation_encoding(data):
    data["annotation"].write_bytes(data["annotation"].read_bytes() + b"\xff\n")
    return "is not UTF-8 text"


@pytest.mark.parametrize("damage", [break_n_frames_smaller, break_n_frames_larger, break_gap, break_missing_folder])
def test_bad_frame_folder_is_one_clear_error_before_training(damage, tiny_i3d_data, tmp_path):
    data = copy_i3d_data(tiny_i3d_data, tmp_path / "data")
    video = first_video(data["rgb"])
    expected = damage(video)
    result = run(i3d_command(data, tmp_path / "out", epochs=1), cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"error: rgb frames under {data['rgb']}" in result.stderr and str(video) in result.stderr
    assert expected in result.stderr and "(fix the frame folders or pass --skip_missing)" in result.stderr
    assert not (tmp_path / "out/ucf101_rgb/checkpoints").exists()


@pytest.mark.parametrize("damage", [break_validation_subset, break_annotation_encoding])
def test_bad_annotation_is_one_clear_error(damage, tiny_i3d_data, tmp_path):
    data = copy_i3d_data(tiny_i3d_data, tmp_path / "data")
    expected = damage(data)
    result = run(i3d_command(data, tmp_path / "out", epochs=1), cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and str(data["annotation"]) in errors[0] and expected in errors[0]


def test_frame_removed_mid_training_is_one_clear_error(tiny_i3d_data, tmp_path):
    data = copy_i3d_data(tiny_i3d_data, tmp_path / "data")
    log = tmp_path / "out/ucf101_rgb/train_log.txt"
    process = start(i3d_command(data, tmp_path / "out", epochs=50), cwd=tmp_path)
    try:
        deadline = time.time() + 120
        while not log.is_file() and time.time() < deadline and process.poll() is None:
            time.sleep(0.05)
        for frame in data["rgb"].glob("*/*/image_00004.jpg"):
            frame.unlink()
        _, stderr = process.communicate(timeout=300)
    finally:
        kill_group(process.pid)
    assert process.returncode == 1 and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("error: ") and "image_00004.jpg: frame is missing" in stderr


def eco_bad_list(data, root, edit):
    lines = data["train"].read_text().splitlines()
    frame_dir, n_frames, label = lines[0].rsplit(maxsplit=2)
    lines[0] = edit(frame_dir, int(n_frames), label)
    bad = root / "train.txt"
    bad.write_text("\n".join(lines) + "\n")
    return bad, frame_dir


@pytest.mark.parametrize("edit, expected", [
    (lambda d, n, label: f"{d} {n + 3} {label}", "the folder holds"),
    (lambda d, n, label: f"{d}_absent {n} {label}", "frame folder is missing"),
])
def test_eco_list_that_disagrees_with_the_frames_is_one_clear_error(edit, expected, tiny_eco_data, tmp_path):
    bad, frame_dir = eco_bad_list(tiny_eco_data, tmp_path, edit)
    command = eco_command(dict(tiny_eco_data, train=bad), tmp_path / "out", epochs=1)
    result = run(command, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"error: ECO list {bad}" in result.stderr and expected in result.stderr and frame_dir in result.stderr
    assert "--skip_missing" not in result.stderr  # ECO-lite's training has no such flag
