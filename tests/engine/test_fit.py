"""src/engine/loop.py's fit, in process, on a tiny Dense network: resume equals an uninterrupted run, the best
checkpoint follows validation top-1, only the newest N periodic checkpoints stay, and a finished run is not
overwritten without resume."""
import json

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn

from src.engine.loop import CheckpointManager, EpochSchedule, LoopSettings, TrainingError, fit

pytestmark = pytest.mark.usefixtures("pynative_mode")

SEED, STEPS, BATCH, FEATURES, CLASSES = 11, 3, 4, 4, 3
PREFIX = "fit"


def make_batches(epoch):
    """STEPS numpy batches (features, labels) that depend only on (SEED, epoch)."""
    rng = np.random.default_rng([SEED, epoch])
    for _ in range(STEPS):
        yield (rng.standard_normal((BATCH, FEATURES)).astype(np.float32),
               rng.integers(0, CLASSES, BATCH).astype(np.int32))


class HalvingSchedule(EpochSchedule):
    """Plateau-like: the rate halves after each evaluation without a better top-1; owns the optimizer's rate, so a
    resumed run is only equal when begin_epoch and the saved state are right."""

    def __init__(self, optimizer, lr=0.1):
        self.optimizer, self.lr, self.best = optimizer, lr, None

    def lr_for(self, epoch):
        return self.lr

    def begin_epoch(self, epoch):
        self.optimizer.learning_rate.set_data(ms.Tensor(self.lr, ms.float32))

    def observe(self, metrics):
        if self.best is not None and metrics["top1"] <= self.best:
            self.lr /= 2
        else:
            self.best = metrics["top1"]

    def state(self):
        return {"lr": self.lr, "best": self.best}

    def load_state(self, state):
        self.lr, self.best = state["lr"], state["best"]


class ScriptedEvaluate:
    """evaluate(network) -> {'top1': the next scripted value}; records a copy of the network's weights each call."""

    def __init__(self, top1s, first_epoch=0):
        self.top1s, self.epoch, self.weights = top1s, first_epoch, {}

    def __call__(self, network):
        self.epoch += 1
        self.weights[self.epoch] = weights(network)
        return {"top1": self.top1s[self.epoch - 1]}


def weights(cell):
    return {param.name: param.asnumpy().copy() for param in cell.trainable_params()}


def build():
    """A fresh Dense(4, 3) with fixed initial weights, momentum SGD and its train cell."""
    init = np.random.default_rng(0)
    net = nn.Dense(FEATURES, CLASSES,
                   weight_init=ms.Tensor(init.standard_normal((CLASSES, FEATURES)).astype(np.float32)),
                   bias_init=ms.Tensor(np.zeros(CLASSES, np.float32)))
    optimizer = nn.Momentum(net.trainable_params(), learning_rate=0.1, momentum=0.9)
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    train_cell = nn.TrainOneStepCell(nn.WithLossCell(net, loss), optimizer)
    return net, optimizer, train_cell


def run(run_dir, num_epochs, evaluate=None, resume=False, keep=10):
    """fit with a fresh network (initial weights, or the checkpoint's with resume); returns (network, state)."""
    net, optimizer, train_cell = build()
    settings = LoopSettings(run_dir=run_dir, prefix=PREFIX, num_epochs=num_epochs, checkpoint_frequency=1,
                            keep_checkpoints=keep, resume=resume, progress=False)
    state = fit(train_cell, net, make_batches, STEPS, HalvingSchedule(optimizer), settings, evaluate=evaluate)
    return net, state


def periodic_names(run_dir):
    return sorted(p.name for p in (run_dir / "checkpoints").iterdir() if not p.name.endswith("-best.ckpt"))


TOP1 = [0.2, 0.5, 0.4, 0.5]  # best at epoch 2; epoch 4 ties it, which is no improvement


def test_resume_ends_with_the_weights_of_an_uninterrupted_run(tmp_path):
    straight, straight_state = run(tmp_path / "straight", 4, ScriptedEvaluate(TOP1))

    run(tmp_path / "resumed", 2, ScriptedEvaluate(TOP1))
    resumed, resumed_state = run(tmp_path / "resumed", 4, ScriptedEvaluate(TOP1, first_epoch=2), resume=True)

    expected, got = weights(straight), weights(resumed)
    assert expected.keys() == got.keys()
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=0, atol=1e-7, err_msg=name)
    assert resumed_state == straight_state == {"epoch": 4, "best_top1": 0.5, "best_epoch": 2}
    log = [json.loads(line) for line in (tmp_path / "resumed/train_log.jsonl").read_text().splitlines()]
    assert [entry["epoch"] for entry in log] == [1, 2, 3, 4]
    assert [entry["lr"] for entry in log] == [0.1, 0.1, 0.1, 0.05]  # the schedule's state survived the resume
    saved = json.loads((tmp_path / "resumed/train_state.json").read_text())
    assert saved["schedule"] == {"lr": 0.025, "best": 0.5}
    assert saved == json.loads((tmp_path / "straight/train_state.json").read_text())
    assert periodic_names(tmp_path / "resumed") == periodic_names(tmp_path / "straight")


def test_resume_of_a_finished_run_does_nothing(tmp_path, capsys):
    done, _ = run(tmp_path, 2)
    again, state = run(tmp_path, 2, resume=True)
    assert state["epoch"] == 2 and "Nothing to do: already trained 2 of 2 epochs" in capsys.readouterr().out
    for name, value in weights(done).items():
        np.testing.assert_array_equal(weights(again)[name], value)


def test_best_checkpoint_is_written_when_top1_improves_and_kept_otherwise(tmp_path):
    evaluate = ScriptedEvaluate(TOP1)
    net, state = run(tmp_path, 4, evaluate)
    assert (state["best_top1"], state["best_epoch"]) == (0.5, 2)

    best = {name: value.asnumpy() for name, value in ms.load_checkpoint(
        str(tmp_path / f"checkpoints/{PREFIX}-best.ckpt")).items()}
    at_best, at_end = evaluate.weights[2], weights(net)
    assert best.keys() == at_best.keys()
    for name in at_best:
        np.testing.assert_array_equal(best[name], at_best[name])
        assert not np.array_equal(best[name], at_end[name]), name  # epochs 3 and 4 trained on, best stayed
    for later in (3, 4):
        assert not np.array_equal(best["weight"], evaluate.weights[later]["weight"])
    assert json.loads((tmp_path / "train_state.json").read_text())["best_epoch"] == 2


def test_best_checkpoint_goes_to_settings_best_path(tmp_path):
    net, optimizer, train_cell = build()
    settings = LoopSettings(run_dir=tmp_path / "run", prefix=PREFIX, num_epochs=1, checkpoint_frequency=1,
                            keep_checkpoints=1, progress=False, best_path=tmp_path / "best.ckpt")
    fit(train_cell, net, make_batches, STEPS, lambda epoch: 0.1, settings, evaluate=ScriptedEvaluate([0.3]))
    assert (tmp_path / "best.ckpt").is_file()
    assert sorted(p.name for p in (tmp_path / "run/checkpoints").iterdir()) == [f"{PREFIX}-1_{STEPS}.ckpt"]


def test_only_the_newest_keep_periodic_checkpoints_remain(tmp_path):
    run(tmp_path, 4, keep=2)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [f"{PREFIX}-3_{STEPS}.ckpt",
                                                                            f"{PREFIX}-4_{STEPS}.ckpt"]
    manager = CheckpointManager(tmp_path / "checkpoints", PREFIX, 2)
    assert [epoch for epoch, _ in manager.periodic()] == [3, 4]
    train_cell_names = set(ms.load_checkpoint(str(tmp_path / f"checkpoints/{PREFIX}-4_{STEPS}.ckpt")))
    assert {"weight", "bias"} <= train_cell_names and any(name.startswith("moments.") for name in train_cell_names)


def test_a_second_run_into_the_same_folder_without_resume_is_refused(tmp_path):
    run(tmp_path, 1)
    before = {p.name: p.read_bytes() for p in (tmp_path / "checkpoints").iterdir()}
    with pytest.raises(TrainingError, match=rf"already holds checkpoints \({PREFIX}-1_{STEPS}\.ckpt\)"):
        run(tmp_path, 2)
    assert {p.name: p.read_bytes() for p in (tmp_path / "checkpoints").iterdir()} == before


@pytest.mark.parametrize("interval, logged", [(0, [3]), (1, [1, 2, 3]), (2, [2, 3])])
def test_log_interval_adds_the_original_step_lines(tmp_path, interval, logged):
    net, optimizer, train_cell = build()
    settings = LoopSettings(run_dir=tmp_path, prefix=PREFIX, num_epochs=1, checkpoint_frequency=1,
                            keep_checkpoints=1, progress=False, log_interval=interval)
    fit(train_cell, net, make_batches, STEPS, HalvingSchedule(optimizer), settings)
    lines = (tmp_path / "train_log.txt").read_text().splitlines()
    steps = [int(line.split()[3].rstrip(",")) for line in lines if line.startswith("epoch: 1 step: ")]
    assert steps == logged  # the last step is the epoch's own line, never twice


def test_stop_between_state_and_checkpoint_resumes_with_the_checkpoint_before_and_its_best(tmp_path):
    """train_state.json is written before each checkpoint: losing the newest checkpoint (a stop between the two
    writes) resumes from the one before with that epoch's best score, and the logs lose their extra record."""
    straight, straight_state = run(tmp_path / "straight", 4, ScriptedEvaluate(TOP1))
    run(tmp_path / "resumed", 3, ScriptedEvaluate(TOP1))
    (tmp_path / f"resumed/checkpoints/{PREFIX}-3_{STEPS}.ckpt").unlink()
    resumed, state = run(tmp_path / "resumed", 4, ScriptedEvaluate(TOP1, first_epoch=2), resume=True)
    assert state == straight_state == {"epoch": 4, "best_top1": 0.5, "best_epoch": 2}
    for name, value in weights(straight).items():
        np.testing.assert_allclose(weights(resumed)[name], value, rtol=0, atol=1e-7, err_msg=name)
    log = [json.loads(line) for line in (tmp_path / "resumed/train_log.jsonl").read_text().splitlines()]
    assert [entry["epoch"] for entry in log] == [1, 2, 3, 4]


def test_corrupt_newest_checkpoint_is_set_aside_and_the_one_before_resumes(tmp_path, capsys):
    straight, _ = run(tmp_path / "straight", 3)
    run(tmp_path / "resumed", 3)
    newest = tmp_path / f"resumed/checkpoints/{PREFIX}-3_{STEPS}.ckpt"
    newest.write_bytes(b"not a checkpoint")
    resumed, state = run(tmp_path / "resumed", 3, resume=True)
    assert f"warning: {newest} is unreadable" in capsys.readouterr().err
    assert newest.with_name(newest.name + ".corrupt").is_file() and state["epoch"] == 3
    for name, value in weights(straight).items():
        np.testing.assert_allclose(weights(resumed)[name], value, rtol=0, atol=1e-7, err_msg=name)


def test_no_restorable_checkpoint_is_an_error(tmp_path):
    run(tmp_path, 2)
    for path in (tmp_path / "checkpoints").glob(f"{PREFIX}-*_*.ckpt"):
        path.write_bytes(b"")
    with pytest.raises(TrainingError, match="none of the 2 checkpoint"):
        run(tmp_path, 3, resume=True)


def test_resume_refuses_options_that_change_the_result_and_notes_the_others(tmp_path, capsys):
    def with_options(resume, **options):
        net, optimizer, train_cell = build()
        settings = LoopSettings(run_dir=tmp_path, prefix=PREFIX, num_epochs=2 if resume else 1,
                                checkpoint_frequency=1, keep_checkpoints=2, resume=resume, progress=False,
                                options=dict({"lr": 0.1, "num_workers": 2}, **options),
                                neutral_options=frozenset({"num_workers"}))
        return fit(train_cell, net, make_batches, STEPS, HalvingSchedule(optimizer), settings)

    with_options(False)
    config = (tmp_path / "config.json").read_bytes()
    with pytest.raises(TrainingError, match=r"other options than it was trained with: lr 0\.1 -> 0\.5"):
        with_options(True, lr=0.5)
    assert (tmp_path / "config.json").read_bytes() == config
    assert with_options(True, num_workers=1)["epoch"] == 2
    assert "num_workers 2 -> 1" in capsys.readouterr().out
    assert json.loads((tmp_path / "config.json").read_text())["num_workers"] == 1
