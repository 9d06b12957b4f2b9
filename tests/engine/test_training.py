"""train.py and its launchers on a tiny generated dataset: checkpoints, logs, resume, distributed ranks."""
import json
import os
import re
import sys

import mindspore as ms
import numpy as np
import pytest

from src.tools import convert_rgb_to_flow, generate_n_frames, generate_rgb_jpgs, make_sample_dataset, ucf101_json
from tests.helpers import REPO_ROOT, run_cli

QUIET = ["--workers", "1", "--no-progress"]
TINY = ["--device_target", "CPU", "--spatial_size", "32", "--train_sample_duration", "8", "--test_sample_duration",
        "8", "--batch_size", "4", "--num_workers", "2", "--lr", "0.001", "--no-progress"]


@pytest.fixture(scope="module")
def data(module_mktemp):
    root = module_mktemp("train_data")
    assert make_sample_dataset.main([str(root / "raw"), "--num_classes", "3", "--groups", "3", "--clips", "2",
                                     "--num_frames", "10", "--width", "48", "--height", "36", "--datasets",
                                     "ucf101", *QUIET]) == 0
    rgb, flow = root / "rgb", root / "flow"
    assert generate_rgb_jpgs.main([str(root / "raw/ucf101/videos"), str(rgb), "ucf101", "--size", "36", *QUIET]) == 0
    assert convert_rgb_to_flow.main(["--rgb_path", str(rgb), "--flow_path", str(flow), *QUIET]) == 0
    for frames in (rgb, flow):
        assert generate_n_frames.main([str(frames), *QUIET]) == 0
    assert ucf101_json.main([str(root / "raw/ucf101/splits"), str(rgb), str(root / "annotation"), "--splits",
                             "1"]) == 0
    return root


def train(data, save_dir, *extra, mode="rgb", check=True):
    return run_cli(["train.py", "--dataset", "ucf101", "--mode", mode, "--video_path", str(data / mode),
                    "--annotation_path", str(data / "annotation/ucf101_01.json"), "--save_dir", str(save_dir),
                    *TINY, *extra], check=check)


def trainable_weights(path):
    params = ms.load_checkpoint(str(path))
    return {name: p.asnumpy() for name, p in params.items()
            if not name.startswith(("moment", "beta", "global_step", "learning_rate")) and "moving_" not in name}


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_training_writes_checkpoints_logs_and_config(data, tmp_path):
    result = train(data, tmp_path, "--num_epochs", "2", "--no_eval", "--checkpoints_num_keep", "2")
    run = tmp_path / "ucf101_rgb"
    assert "epoch: 2 step: 3, loss is" in result.stdout and "Finished training." in result.stdout
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["i3d-2_3.ckpt"]  # rgb keeps half of 2
    entries = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in entries] == [1, 2] and entries[0]["lr"] == 0.001
    assert json.loads((run / "config.json").read_text())["mode"] == "rgb"
    assert "loss is" in (run / "train_log.txt").read_text()


@pytest.mark.slow  # end-to-end: runs the entry points in subprocesses
def test_existing_run_needs_resume(data, tmp_path):
    train(data, tmp_path, "--num_epochs", "1", "--no_eval")
    result = train(data, tmp_path, "--num_epochs", "1", "--no_eval", check=False)
    assert result.returncode != 0 and "already holds checkpoints (i3d-1_3.ckpt); pass --resume" in result.stderr


@pytest.mark.slow  # three train.py runs (~20 s); tests/engine/test_fit.py checks the same in process
def test_resume_continues_as_an_uninterrupted_run(data, tmp_path):
    """Same data order, augmentation, dropout masks and LR schedule: 1 epoch + resume to 2 equals 2 epochs straight."""
    train(data, tmp_path / "straight", "--num_epochs", "2", "--no_eval", mode="flow")
    train(data, tmp_path / "resumed", "--num_epochs", "1", "--no_eval", mode="flow")
    result = train(data, tmp_path / "resumed", "--num_epochs", "2", "--resume", "--no_eval", mode="flow")
    assert "Resuming from" in result.stdout
    straight = trainable_weights(tmp_path / "straight/ucf101_flow/checkpoints/i3d-2_3.ckpt")
    resumed = trainable_weights(tmp_path / "resumed/ucf101_flow/checkpoints/i3d-2_3.ckpt")
    assert straight.keys() == resumed.keys()
    for name in straight:
        np.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)
    log = (tmp_path / "resumed/ucf101_flow/train_log.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in log] == [1, 2]


@pytest.mark.slow  # msrun: two MindSpore worker processes
def test_distributed_training_on_two_cpu_workers(data, tmp_path):
    """msrun with 2 ranks: disjoint shards, averaged gradients, identical weights at the end, logs per rank."""
    env = dict(os.environ, DEVICE_TARGET="CPU", MASTER_PORT=str(8200 + os.getpid() % 500))
    result = run_cli_bash(["scripts/run_distribute_train.sh", "2", "none", "ucf101", "rgb", "1", str(data / "rgb"),
                           str(data / "annotation/ucf101_01.json"), "", "--no_eval", *TINY[2:]], tmp_path, env)
    assert result.returncode == 0, result.stdout + result.stderr
    logs = tmp_path / "output_distribute/ucf101_rgb_logs"
    checksums = [re.search(r"rank \d weights checksum: (\S+)", (logs / f"worker_{r}.log").read_text()).group(1)
                 for r in (0, 1)]
    assert checksums[0] == checksums[1]
    assert (tmp_path / "output_distribute/ucf101_rgb_device0/checkpoints/i3d-1_1.ckpt").is_file()  # 12 videos / 2 ranks / 4


def start_node(data, cwd, node_rank, port, epochs, extra_env=None):
    """One launcher invocation as node `node_rank` of two on the loopback address, one worker each."""
    import subprocess

    cwd.mkdir()
    env = dict(os.environ, DEVICE_TARGET="CPU", NNODES="2", NODE_RANK=str(node_rank), MASTER_ADDR="127.0.0.1",
               MASTER_PORT=str(port), PYTHON_BIN=sys.executable, **(extra_env or {}))
    return subprocess.Popen(["bash", str(REPO_ROOT / "scripts/run_distribute_train.sh"), "2", "none", "ucf101", "rgb",
                             str(epochs), str(data / "rgb"), str(data / "annotation/ucf101_01.json"), "", "--no_eval",
                             *TINY[2:]], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def checksum_of(log):
    return re.search(r"rank \d weights checksum: (\S+)", log.read_text()).group(1)


@pytest.mark.slow  # msrun: two launcher invocations, one worker each
def test_two_nodes_on_the_loopback_address_train_as_one_node_with_two_workers(data, tmp_path):
    port = 8300 + os.getpid() % 400
    single = run_cli_bash(["scripts/run_distribute_train.sh", "2", "none", "ucf101", "rgb", "1", str(data / "rgb"),
                           str(data / "annotation/ucf101_01.json"), "", "--no_eval", *TINY[2:]], tmp_path,
                          dict(os.environ, DEVICE_TARGET="CPU", MASTER_PORT=str(port)))
    assert single.returncode == 0, single.stdout + single.stderr
    expected = checksum_of(tmp_path / "output_distribute/ucf101_rgb_logs/worker_0.log")
    nodes = [start_node(data, tmp_path / f"node{rank}", rank, port + 1, 1) for rank in (0, 1)]
    outputs = [node.communicate(timeout=300)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs
    logs = [tmp_path / f"node{rank}/output_distribute/ucf101_rgb_logs/worker_{rank}.log" for rank in (0, 1)]
    assert [checksum_of(log) for log in logs] == [expected, expected]
    assert not (tmp_path / "node1/output_distribute/ucf101_rgb_logs/scheduler.log").exists()  # node 0 hosts it
    assert (tmp_path / "node0/output_distribute/ucf101_rgb_device0/checkpoints/i3d-1_1.ckpt").is_file()


@pytest.mark.slow  # msrun: two launcher invocations, one of them killed
def test_a_dead_node_stops_the_other_in_bounded_time_and_leaves_no_process(data, tmp_path):
    import time

    import psutil

    port = 8800 + os.getpid() % 400
    nodes = [start_node(data, tmp_path / f"node{rank}", rank, port, 200, {"MSRUN_ARGS": "--cluster_time_out 30"})
             for rank in (0, 1)]
    log = tmp_path / "node1/output_distribute/ucf101_rgb_logs/worker_1.log"
    deadline = time.time() + 120
    while time.time() < deadline and not (log.is_file() and "epoch: 1 step" in log.read_text()):
        time.sleep(1)
    assert log.is_file() and "epoch: 1 step" in log.read_text(), "node 1 never started training"
    processes = {rank: [psutil.Process(node.pid)] + psutil.Process(node.pid).children(recursive=True)
                 for rank, node in enumerate(nodes)}
    for process in processes[1]:
        process.kill()
    killed_at = time.time()
    nodes[0].communicate(timeout=240)
    assert nodes[0].returncode != 0 and time.time() - killed_at < 180
    nodes[1].wait(timeout=10)
    time.sleep(2)
    assert not [p.pid for p in processes[0] + processes[1] if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_distributed_failure_exits_non_zero(data, tmp_path):
    env = dict(os.environ, DEVICE_TARGET="CPU", MASTER_PORT=str(8700 + os.getpid() % 500))
    result = run_cli_bash(["scripts/run_distribute_train.sh", "2", "none", "ucf101", "rgb", "1",
                           str(tmp_path / "missing"), str(data / "annotation/ucf101_01.json"), ""], tmp_path, env)
    assert result.returncode != 0


def test_launcher_usage(tmp_path):
    for script in ("run_standalone_train.sh", "run_distribute_train.sh"):
        result = run_cli_bash([f"scripts/{script}", "1"], tmp_path, dict(os.environ))
        assert result.returncode == 1 and "Usage:" in result.stderr


def run_cli_bash(args, cwd, env):
    import subprocess

    args = [str(REPO_ROOT / args[0]), *args[1:]]
    return subprocess.run(["bash", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
