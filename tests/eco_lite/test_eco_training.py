"""ECO-lite options, training, evaluation, export and launchers on a tiny generated dataset.

18 videos of 8 frames (48x32), 3 classes: 12 training, 6 validation videos; clips of 4 segments at 64x64, batch 2.
"""
import argparse
import json
import os
import re
import subprocess
import sys

import mindspore as ms
import numpy as np
import pytest
import yaml

import config as i3d_config
import src.eco_lite.config as eco_config
import src.cli as cli
from src.cli import ECO_ONLY_FLAGS, ECO_ONLY_FLAGS_BY_ENTRY, select_model
from src.eco_lite.config import parse_args, parse_export_args
from src.eco_lite.schedule import PlateauSchedule
from src.evaluation import cross_entropy, load_scores
from tests.helpers import REPO_ROOT

SCRIPTS = REPO_ROOT / "scripts"  # the original README's paths: ECO-lite's argument shapes reach scripts/eco_lite/
SEED_LINE = re.compile(r"^\{'Loss': (\S+), 'Top1-Acc': (\S+), 'Top5-Acc': (\S+)\}$", re.M)


@pytest.fixture(autouse=True)
def cpu_machine(monkeypatch):
    """No launcher environment and no accelerator, unless a test says otherwise."""
    for name in ("DEVICE_ID", "RANK_SIZE", "RANK_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli, "detect_device_target", lambda allowed=None: "CPU")


@pytest.fixture(scope="module")
def data(tiny_eco_data):
    """The session's tiny ECO-lite data (tests/conftest.py), read-only."""
    return tiny_eco_data


def lists(data):
    return ["--train_list", str(data["train"]), "--val_list", str(data["val"])]


def tiny(data):
    """Flags that make a run small, dropout off."""
    return [*lists(data), "--input_size", "64", "--batch-size", "2", "--num_classes", "3", "--num_workers", "2",
            "--dropout", "1.0", "--resume", ""]


def run_script(name, args, cwd, env=None, check=True):
    env = dict(os.environ, PYTHONPATH="", PYTHON_BIN=sys.executable, DEVICE_TARGET="CPU", **(env or {}))
    result = subprocess.run(["bash", str(SCRIPTS / name), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                            env=env, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"{name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def run_python(args, cwd, check=True):
    result = subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=""), timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def user_error(capsys, parse, argv, **kwargs):
    """Run a parse that must fail with status 1; returns its stderr."""
    with pytest.raises(SystemExit) as failure:
        parse(argv, **kwargs)
    assert failure.value.code == 1
    return capsys.readouterr().err


def network_weights(path):
    """The network's trainable tensors of a checkpoint (no optimizer state, no BatchNorm moving statistics)."""
    return {name: value.asnumpy() for name, value in ms.load_checkpoint(str(path)).items()
            if name.startswith(("base_model.", "new_fc.")) and "moving_" not in name}


# ------------------------------------------------------------------------------------------------- options

def test_yaml_defaults_are_the_seed_values(data):
    args = parse_args([*lists(data), "--resume", ""])
    expected = {"dataset": "ucf101", "modality": "RGB", "arch": "ECO", "num_segments": 4, "consensus_type": "identity",
                "dropout": 0.7, "epochs": 40, "batch_size": 16, "lr": 0.001, "momentum": 0.9, "nesterov": True,
                "no_partialbn": True, "weight_decay": 0.0005, "num_saturate": 5, "rgb_prefix": "img_",
                "eval_freq": 1, "run_distribute": False, "evaluate": False, "input_size": 224, "clip_gradient": 20.0,
                "num_classes": 101, "save_dir": "./", "seed": 520, "continue_training": False,
                "device_target": "CPU", "device_id": 0, "backend": "auto"}
    assert {key: getattr(args, key) for key in expected} == expected
    for key in eco_config.MODELARTS_KEYS + eco_config.EXPORT_KEYS:
        assert not hasattr(args, key), key


def test_seed_launcher_command_line_parses(data, tmp_path):
    pretrained = tmp_path / "ms_model_kinetics_checkpoint0720.ckpt"
    pretrained.write_bytes(b"stub")
    command = (f"--dataset ucf101 --modality RGB --train_list {data['train']} --val_list {data['val']} --arch ECO "
               f"--num_segments 4 --lr 0.001 --num_saturate 5 --epochs 60 --batch-size 16 --dropout 0.7 "
               f"--consensus_type identity --rgb_prefix img_ --no_partialbn True --nesterov True --resume {pretrained} "
               f"--device_id 3 --run_distribute=True")
    args = parse_args(command.split())
    assert (args.epochs, args.batch_size, args.no_partialbn, args.run_distribute, args.device_id) == (60, 16, True,
                                                                                                       True, 3)
    assert args.resume == str(pretrained)


def test_config_file_then_command_line_override_the_defaults(data, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("batch-size: 8\nlr: 0.01\nworkers: 3\nno_partialbn: False\nepochs: 7\n---\nlr: help text\n")
    args = parse_args(["--config_path", str(path), *lists(data), "--resume", "", "--epochs", "9"])
    assert (args.batch_size, args.lr, args.num_workers, args.no_partialbn, args.epochs) == (8, 0.01, 3, False, 9)
    assert args.num_segments == 4                                          # not in the file: the packaged default


@pytest.mark.parametrize("flags", [["--batch-size", "4"], ["--batch_size", "4"], ["--batch-size=4"],
                                   ["--batch_size=4"]])
def test_both_batch_size_spellings(data, flags):
    assert parse_args([*lists(data), "--resume", "", *flags]).batch_size == 4


@pytest.mark.parametrize("flags, expected", [
    (["--no_partialbn", "False"], False), (["--no_partialbn", "True"], True), (["--no_partialbn=false"], False),
    (["--npb", "0"], False), (["--no_partialbn"], True), ([], True)])
def test_booleans(data, flags, expected):
    assert parse_args([*lists(data), "--resume", "", *flags]).no_partialbn is expected


def test_invalid_boolean_is_an_error_naming_the_flag(data, capsys):
    err = user_error(capsys, parse_args, [*lists(data), "--resume", "", "--nesterov", "yes"])
    assert "--nesterov" in err and "invalid boolean 'yes'" in err and "Traceback" not in err


def test_device_id_from_flag_then_env_then_file(data, tmp_path, monkeypatch):
    base = [*lists(data), "--resume", ""]
    assert parse_args(base).device_id == 0
    monkeypatch.setenv("DEVICE_ID", "5")
    assert parse_args(base).device_id == 5
    assert parse_args([*base, "--device_id", "2"]).device_id == 2
    path = tmp_path / "device.yaml"
    path.write_text("device_id: 6\ndevice_target: GPU\n")
    assert parse_args([*base, "--config_path", str(path)]).device_id == 5  # env beats the file
    monkeypatch.delenv("DEVICE_ID")
    args = parse_args([*base, "--config_path", str(path)])
    assert (args.device_id, args.device_target) == (6, "GPU")


@pytest.mark.parametrize("extra, message", [
    (["--train_list", "/nowhere/train.txt"], "--train_list: /nowhere/train.txt: list file not found"),
    (["--dataset", "jhmdb"], "invalid choice 'jhmdb'"),
    (["--backend", "tensorrt"], "argument --backend: invalid choice 'tensorrt' (choose from auto, mindspore, "
                                "onnxruntime)"),
    (["--num_classes", "2"], "has label(s) 2 outside 0..1"),
    (["--modality", "Flow"], "--modality 'Flow': only RGB is supported"),
    (["--arch", "resnet101"], "only ECO is supported"),
    (["--enable_modelarts", "True"], "ModelArts/OBS syncing is not supported"),
    (["--input_size", "16"], "must be at least 32"),
    (["--resume", "/nowhere/pretrained.ckpt"], "--resume: checkpoint not found: /nowhere/pretrained.ckpt"),
    (["--lr", "0"], "must be a positive number"),
])
def test_validation_errors_name_the_problem(data, capsys, extra, message):
    err = user_error(capsys, parse_args, [*lists(data), "--resume", "", *extra])
    assert message in err and "Traceback" not in err


def test_default_pretrained_checkpoint_must_exist(data, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    err = user_error(capsys, parse_args, lists(data))
    assert "ms_model_kinetics_checkpoint0720.ckpt" in err and "--resume ''" in err


def test_config_file_errors_name_the_file_and_key(data, capsys, tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("bacth_size: 8\n")
    assert f"{path}: unknown key 'bacth_size'" in user_error(capsys, parse_args, ["--config_path", str(path)])
    path.write_text("epochs: many\n")
    assert "'epochs: many'" in user_error(capsys, parse_args, ["--config_path", str(path)])
    path.write_text("save_dir:\n")
    assert "'save_dir' needs a value" in user_error(capsys, parse_args, ["--config_path", str(path)])
    assert "file not found" in user_error(capsys, parse_args, ["--config_path", str(tmp_path / "absent.yaml")])
    path.write_text("backend: tensorrt\n")
    assert f"{path}: 'backend: tensorrt': invalid choice 'tensorrt' (choose from auto, mindspore, onnxruntime)" in \
        user_error(capsys, parse_args, ["--config_path", str(path)])


def test_packaged_yaml_lists_every_option_once():
    keys = list(yaml.safe_load(eco_config.DEFAULT_CONFIG_PATH.read_text()))
    assert {eco_config.KEY_ALIASES.get(key, key) for key in keys} == set(eco_config.OPTIONS)
    assert len(keys) == len(eco_config.OPTIONS)


def test_evaluation_needs_an_existing_checkpoint(data, capsys, tmp_path):
    err = user_error(capsys, parse_args, ["--val_list", str(data["val"]), "--evaluate", "True", "--resume",
                                          str(tmp_path / "gone.ckpt")], training=False)
    assert f"--resume: checkpoint not found: {tmp_path / 'gone.ckpt'}" in err
    assert "give the checkpoint" in user_error(capsys, parse_args, ["--val_list", str(data["val"]), "--resume", ""],
                                               training=False)


def test_export_flags_parse_without_no_partialbn(tmp_path):
    checkpoint = tmp_path / "ucf101bestacc.ckpt"
    checkpoint.write_bytes(b"stub")
    args = parse_export_args(["--dataset", "hmdb51", "--checkpoint_path", str(checkpoint)])
    assert (args.num_classes, args.batch_size, args.no_partialbn, args.file_name, args.file_format,
            args.input_size) == (51, 32, True, "ecolite", "MINDIR", 224)
    args = parse_export_args(["--dataset", "ucf101", "--modality", "RGB", "--arch", "ECO", "--num_segments", "4",
                              "--batch-size", "16", "--no_partialbn", "True", "--checkpoint_path", str(checkpoint),
                              "--file_name", "x", "--file_format", "ONNX", "--device_id", "0", "--do", "0.5",
                              "--device_target", "GPU"])
    assert (args.batch_size, args.dropout, args.file_format, args.device_target) == (16, 0.5, "ONNX", "GPU")


# ------------------------------------------------------------------------------------------- model choice

@pytest.mark.parametrize("entry, argv, model", [
    ("train", ["--dataset", "ucf101", "--mode", "rgb", "--video_path", "v"], "i3d"),
    ("train", ["--dataset", "ucf101", "--arch", "ECO"], "eco_lite"),
    ("train", ["--train_list=x.txt"], "eco_lite"),
    ("train", ["--model", "i3d", "--num_segments", "4"], "i3d"),
    ("eval", ["--evaluate", "True", "--resume", "a.ckpt"], "eco_lite"),
    ("eval", ["--test_mode", "rgb", "--dataset", "hmdb51"], "i3d"),
    ("export", ["--dataset", "ucf101", "--checkpoint_path", "c"], "eco_lite"),
    ("export", ["--mode", "rgb", "--checkpoint_path", "c"], "i3d"),
    ("export", ["--model=eco_lite", "--checkpoint_path", "c"], "eco_lite"),
])
def test_select_model(entry, argv, model):
    chosen, rest = select_model(argv, entry)
    expected = [token for token in argv if not token.startswith("--model")]
    if "--model" in argv:
        expected.remove(argv[argv.index("--model") + 1])
    assert chosen == model and rest == expected



def test_eco_only_flags_are_no_i3d_flags():
    def flags(parser):
        return {flag for action in parser._actions for flag in action.option_strings}
    for parser in (i3d_config.train_parser(), i3d_config.eval_parser()):
        assert not ECO_ONLY_FLAGS & flags(parser)
    assert not ECO_ONLY_FLAGS_BY_ENTRY["export"] & flags(i3d_config.export_parser())


# ------------------------------------------------------------------------------------------ pure pieces

def test_plateau_rule_divides_by_ten_after_num_saturate_evaluations_without_a_better_top1():
    applied = []
    schedule = PlateauSchedule(0.1, num_saturate=2, apply=applied.append)
    history = []
    for top1 in (0.2, 0.3, 0.3, 0.25, 0.4, 0.1, 0.1, 0.1, 0.1):         # a tie is no improvement
        schedule.begin_epoch(len(history))
        history.append(schedule.lr_for(len(history)))
        schedule.observe({"top1": top1})
    assert np.allclose(history, [0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001])
    assert applied == history
    assert np.isclose(schedule.lr, 1e-4)
    state = json.loads(json.dumps(schedule.state()))
    restored = PlateauSchedule(0.1, num_saturate=2)
    restored.load_state(state)
    assert restored.state() == schedule.state()


def test_cross_entropy_is_the_mean_over_rows():
    scores = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 1000.0]])
    labels = np.array([0, 1])
    expected = (np.log(np.exp([2.0, 1.0, 0.0]).sum()) - 2.0 + 1000.0) / 2
    assert np.isclose(cross_entropy(scores, labels), expected)


def test_input_size_sets_the_crop_and_the_evaluation_scale(data):
    from src.data.eco_dataset import ECOSegmentDataset, eval_scale_size

    assert (eval_scale_size(224), eval_scale_size(112), eval_scale_size(64)) == (256, 128, 73)
    for train in (True, False):
        clip = ECOSegmentDataset(data["val"], train=train, input_size=64)[0][0]
        assert clip.shape == (12, 64, 64)


@pytest.mark.parametrize("no_partialbn, sizes", [(True, (33, 93)), (False, (33, 35))])
def test_partial_bn_flag_reaches_the_optimizer_groups(no_partialbn, sizes, capsys):
    from src.eco_lite import ECOLite
    from src.eco_lite.recipe import ECOLiteRecipe

    net = ECOLite(3)
    options = argparse.Namespace(no_partialbn=no_partialbn, weight_decay=5e-4, lr=0.01, momentum=0.9, nesterov=True,
                                 clip_gradient=20.0, num_saturate=5)
    optimizer, _ = ECOLiteRecipe(options).build_optimizer(net, None, 1)
    names = [param.name for param in optimizer.parameters]
    decay = dict(zip(names, optimizer.group_weight_decay))
    assert len(names) == sum(sizes) and sum(value > 0 for value in decay.values()) == sizes[0]
    assert all((value > 0) == name.endswith(".weight") for name, value in decay.items())
    assert ("base_model.conv2.bn2d.gamma" in names) == no_partialbn and "base_model.conv1.bn2d.gamma" in names
    assert optimizer.nesterov and np.isclose(float(optimizer.learning_rate.asnumpy()), 0.01)


# ------------------------------------------------------------------------------- training, eval, export

@pytest.fixture(scope="module")
def trained(data, module_mktemp):
    """Two epochs through the standalone launcher (the seed's flags, then ours)."""
    cwd = module_mktemp("eco_standalone")
    result = run_script("run_standalone_train.sh", ["", 0, *tiny(data), "--epochs", "2"], cwd)
    return {"cwd": cwd, "stdout": result.stdout, "run": cwd / "ecolite_ucf101", "best": cwd / "ucf101bestacc.ckpt"}


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_training_writes_best_and_periodic_checkpoints_logs_and_config(trained):
    run = trained["run"]
    assert "=> Train from scratch" in trained["stdout"] and "epoch: 2 step: 6, loss is" in trained["stdout"]
    # the original README's `grep "loss is " log.txt`: one line per step
    steps = re.findall(r"^epoch: (\d) step: (\d), loss is [0-9.]+$", (trained["cwd"] / "log.txt").read_text(), re.M)
    assert steps == [(str(epoch), str(step)) for epoch in (1, 2) for step in range(1, 7)]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["eco-1_6.ckpt", "eco-2_6.ckpt"]
    entries = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in entries] == [1, 2]
    assert all("val_top1" in e and "val_loss" in e for e in entries)      # the last epoch is evaluated too
    assert entries[0]["lr"] == 0.001
    assert "loss is" in (run / "train_log.txt").read_text()
    saved = json.loads((run / "config.json").read_text())
    assert saved["epochs"] == 2 and saved["lr"] == 0.001 and "data_url" not in saved
    state = json.loads((run / "train_state.json").read_text())
    assert state["epoch"] == 2 and state["schedule"]["lr"] == 0.001
    best = ms.load_checkpoint(str(trained["best"]))
    assert "new_fc.weight" in best and not any(name.startswith("moments.") for name in best)
    assert (trained["cwd"] / "ecolite_logs/train_standalone_device0.log").read_text() in trained["stdout"]


@pytest.mark.slow  # three launcher runs (~25 s); tests/engine/test_fit.py checks the same in process
def test_continue_training_equals_an_uninterrupted_run(data, trained, tmp_path):
    run_script("run_standalone_train.sh", ["", 0, *tiny(data), "--epochs", "1"], tmp_path)
    refused = run_script("run_standalone_train.sh", ["", 0, *tiny(data), "--epochs", "2"], tmp_path, check=False)
    assert refused.returncode == 1 and "pass --continue_training True to continue that run" in refused.stdout
    resumed = run_script("run_standalone_train.sh", ["", 0, *tiny(data), "--epochs", "2", "--continue_training",
                                                     "True"], tmp_path)
    assert "Resuming from" in resumed.stdout
    straight = network_weights(trained["run"] / "checkpoints/eco-2_6.ckpt")
    continued = network_weights(tmp_path / "ecolite_ucf101/checkpoints/eco-2_6.ckpt")
    assert straight.keys() == continued.keys() and len(straight) == 126
    for name in straight:
        np.testing.assert_allclose(continued[name], straight[name], rtol=1e-5, atol=1e-7, err_msg=name)
    log = (tmp_path / "ecolite_ucf101/train_log.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in log] == [1, 2]


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_eval_scores_every_video_and_prints_the_seed_line(data, trained, tmp_path):
    scores = tmp_path / "scores.npz"
    result = run_script("run_eval.sh", [trained["best"], 0, "--val_list", data["val"], "--input_size", "64",
                                        "--num_classes", "3", "--batch-size", "4", "--scores_path", scores], tmp_path)
    assert "Found 6 validation examples" in result.stdout                # 6 videos, batch 4: none dropped
    loss, top1, top5 = map(float, SEED_LINE.search(result.stdout).groups())
    saved, _ = load_scores(scores)
    assert len(saved.keys) == 6 and np.isclose(top1, saved.top1) and top5 == saved.top5
    assert np.isclose(loss, cross_entropy(saved.scores, saved.labels))
    assert re.search(r"^Mean class accuracy: \d\.\d{4}$", result.stdout, re.M)
    acc_lines = [line for line in (tmp_path / "log.txt").read_text().splitlines() if "Acc:" in line]  # README's grep
    assert acc_lines == [f"Acc: top-1 {top1:.4f}, top-5 {top5:.4f} over 6 videos"]
    best_epoch = json.loads((trained["run"] / "train_state.json").read_text())["best_epoch"]
    best_entry = [json.loads(line) for line in (trained["run"] / "train_log.jsonl").read_text().splitlines()][
        best_epoch - 1]
    assert np.isclose(top1, best_entry["val_top1"]) and np.isclose(loss, best_entry["val_loss"], rtol=1e-4)


def test_eval_of_a_missing_checkpoint_fails(data, tmp_path):
    result = run_script("run_eval.sh", [tmp_path / "gone.ckpt", 0, "--val_list", data["val"]], tmp_path, check=False)
    assert result.returncode == 1 and "checkpoint not found" in result.stdout and "Traceback" not in result.stdout
    assert "checkpoint not found" in (tmp_path / "ecolite_logs/eval_device0.log").read_text()


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_export_mindir_and_onnx_reproduce_the_checkpoint_network(trained, tmp_path):
    import onnxruntime

    from src.eco_lite import ECOLite, load_eco_checkpoint

    common = ["export.py", "--dataset", "ucf101", "--num_classes", "3", "--checkpoint_path", trained["best"],
              "--batch-size", "2", "--num_segments", "4", "--input_size", "64", "--device_target", "CPU"]
    run_python([*common, "--file_format", "MINDIR", "--file_name", tmp_path / "ecolite"], REPO_ROOT)
    run_python([*common, "--file_format", "ONNX", "--file_name", tmp_path / "ecolite", "--npb", "False"], REPO_ROOT)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ecolite.mindir", "ecolite.onnx"]

    net = ECOLite(3, 4)
    load_eco_checkpoint(net, trained["best"])
    net.set_train(False)
    clips = np.random.default_rng(0).uniform(-128, 128, (2, 12, 64, 64)).astype(np.float32)
    expected = net(ms.Tensor(clips)).asnumpy()
    session = onnxruntime.InferenceSession(str(tmp_path / "ecolite.onnx"))
    onnx_out = session.run(None, {session.get_inputs()[0].name: clips})[0]
    mindir_out = ms.nn.GraphCell(ms.load(str(tmp_path / "ecolite.mindir")))(ms.Tensor(clips)).asnumpy()
    scale = np.abs(expected).max()
    assert onnx_out.shape == expected.shape == (2, 3)
    assert np.abs(onnx_out - expected).max() <= 1e-4 * scale and np.abs(mindir_out - expected).max() <= 1e-5 * scale


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_air_export_off_ascend_is_refused(trained, tmp_path):
    result = run_python(["export.py", "--dataset", "ucf101", "--checkpoint_path", trained["best"], "--file_format",
                         "AIR", "--file_name", tmp_path / "ecolite", "--device_target", "CPU"], REPO_ROOT, check=False)
    assert result.returncode == 1 and "AIR files only on Ascend" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------------ launchers

@pytest.mark.slow  # msrun: two MindSpore worker processes
def test_distributed_launcher_on_two_cpu_workers(data, tmp_path):
    """msrun with 2 ranks: disjoint shards, averaged gradients, the same LR decisions, identical weights at the end."""
    port = str(8300 + os.getpid() % 500)
    run_script("run_distribute_train.sh", ["none", 2, *tiny(data), "--epochs", "1", "--num_workers", "1"], tmp_path,
               env={"MASTER_PORT": port})
    logs = tmp_path / "ecolite_logs/distribute"
    texts = [(logs / f"worker_{rank}.log").read_text() for rank in (0, 1)]
    checksums = [re.search(r"rank \d weights checksum: (\S+)", text).group(1) for text in texts]
    assert checksums[0] == checksums[1]
    assert [re.findall(r"^val .*$", text, re.M) for text in texts][0] == re.findall(r"^val .*$", texts[1], re.M)
    assert (tmp_path / "ecolite_ucf101/checkpoints/eco-1_3.ckpt").is_file()   # 12 videos / 2 ranks / batch 2
    assert (tmp_path / "ucf101bestacc.ckpt").is_file()


@pytest.mark.parametrize("script, args", [("run_standalone_train.sh", ["x.ckpt"]), ("run_eval.sh", []),
                                          ("run_distribute_train.sh", ["none"]),
                                          ("run_distribute_train.sh", ["none", "two"])])
def test_launchers_refuse_too_few_or_bad_arguments(script, args, tmp_path):
    result = run_script(script, args, tmp_path, check=False)
    assert result.returncode == 1 and ("Usage: bash" in result.stderr or "DEVICE_NUM" in result.stderr)
    assert list(tmp_path.iterdir()) == []
