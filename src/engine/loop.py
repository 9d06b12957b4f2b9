"""The training loop shared by the models: per-epoch deterministic data, checkpoints, resume, evaluation, logs.

One epoch = the batches made for that epoch (`make_batches(epoch)`), so augmentation and order depend only
on (seed, epoch) and a resumed run sees the same data as an uninterrupted one. The learning rate follows an
`EpochSchedule`: either a per-step list inside the optimizer (I3D: its step counter is saved in every checkpoint) or a
value the schedule sets at each epoch start and may change after each evaluation (ECO-lite's plateau rule: its state
goes into train_state.json with every checkpoint). Either way a resumed run continues exactly.
Checkpoints are `<prefix>-<epoch>_<steps>.ckpt` (network + optimizer state), written under a temporary name and
renamed; only the newest `keep` are kept, plus the best-validation-top-1 network (`<prefix>-best.ckpt` unless
settings.best_path says otherwise). Only rank 0 writes.
"""
import json
import math
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import mindspore as ms
from tqdm import tqdm

from src.data.atomic import atomic_write_text
from src.engine.checkpoint_io import save_checkpoint

STATE_FILE = "train_state.json"


class TrainingError(Exception):
    """A training run that cannot start or continue; the message says what to change."""


class RunExistsError(TrainingError):
    """The run folder already holds checkpoints and the run was not asked to continue them."""


class EpochSchedule:
    """The learning rate of each epoch, for fit.

    lr_for(epoch) is the rate in force during that 0-based epoch; begin_epoch(epoch) runs before it trains (a schedule
    that owns the optimizer's rate sets it there); observe(metrics) runs after each evaluation; state()/load_state()
    carry whatever observe changed across a resume.
    """

    def lr_for(self, epoch):
        raise NotImplementedError

    def begin_epoch(self, epoch):
        pass

    def observe(self, metrics):
        pass

    def state(self):
        return {}

    def load_state(self, state):
        pass


class FunctionSchedule(EpochSchedule):
    """A fixed rate per epoch (e.g. reported from a per-step list that lives in the optimizer)."""

    def __init__(self, lr_of_epoch):
        self.lr_of_epoch = lr_of_epoch

    def lr_for(self, epoch):
        return self.lr_of_epoch(epoch)


@dataclass
class LoopSettings:
    run_dir: Path
    prefix: str
    num_epochs: int
    checkpoint_frequency: int
    keep_checkpoints: int
    resume: bool = False
    rank: int = 0
    progress: bool = True
    best_path: Path = None          # default: <run_dir>/checkpoints/<prefix>-best.ckpt
    eval_frequency: int = 1         # evaluate after every n-th epoch, and after the last
    log_interval: int = 0           # also log the loss every n steps (the original's LossMonitor); 0: per epoch only


class CheckpointManager:
    """Periodic checkpoints named as the original's ModelCheckpoint did, pruned to the newest `keep`."""

    def __init__(self, directory, prefix, keep):
        self.directory, self.prefix, self.keep = Path(directory), prefix, keep
        self.pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)_(\d+)\.ckpt$")

    def periodic(self):
        """[(epoch, path)] sorted by epoch."""
        if not self.directory.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.directory.iterdir() if (m := self.pattern.match(p.name))]
        return sorted(found)

    @property
    def best_path(self):
        return self.directory / f"{self.prefix}-best.ckpt"

    def save_epoch(self, cell, epoch, steps):
        save_checkpoint(cell, self.directory / f"{self.prefix}-{epoch}_{steps}.ckpt")
        for _, old in self.periodic()[:-self.keep]:
            old.unlink()


def restore(train_cell, path):
    """Load network and optimizer state; every parameter of the train cell must be in the checkpoint.

    The per-step learning-rate list is not restored: it is rebuilt from the options (its length depends on
    --num_epochs, which a resumed run may extend) and indexed by the restored step counter.
    """
    params = ms.load_checkpoint(str(path), choice_func=lambda name: name != "learning_rate")
    not_loaded = [name for name in ms.load_param_into_net(train_cell, params)[0] if name != "learning_rate"]
    if not_loaded:
        raise TrainingError(f"{path}: cannot resume, {len(not_loaded)} parameter(s) missing, e.g. {not_loaded[:3]}")


class RunLog:
    """Epoch records as text lines (stdout and train_log.txt) and JSON lines (train_log.jsonl)."""

    def __init__(self, run_dir, enabled):
        self.enabled = enabled
        self.text_path, self.json_path = Path(run_dir) / "train_log.txt", Path(run_dir) / "train_log.jsonl"

    def line(self, text):
        print(text, flush=True)
        if self.enabled:
            with open(self.text_path, "a") as handle:
                handle.write(text + "\n")

    def record(self, entry):
        if self.enabled:
            with open(self.json_path, "a") as handle:
                handle.write(json.dumps(entry) + "\n")


def _resume_state(run_dir, epoch, path, schedule):
    """best_top1/best_epoch (and the schedule's state) saved with the checkpoint of `epoch`."""
    state_path = run_dir / STATE_FILE
    saved = json.loads(state_path.read_text()) if state_path.is_file() else {}
    if saved.get("epoch") != epoch:
        if schedule.state():
            raise TrainingError(f"cannot resume from {path}: {state_path} does not hold the state of epoch {epoch} "
                                "(e.g. the run stopped while saving it); delete that checkpoint to resume from the "
                                "one before")
        return {}
    schedule.load_state(saved.get("schedule", {}))
    return {k: saved[k] for k in ("best_top1", "best_epoch")}


def fit(train_cell, network, make_batches, steps_per_epoch, schedule, settings, evaluate=None):
    """Train from the start (or the newest checkpoint with settings.resume) to settings.num_epochs.

    make_batches(epoch) -> an iterable of numpy batches (clips, labels, ...) for that 0-based epoch;
    schedule: an EpochSchedule, or a function epoch -> learning rate in force (for the log);
    evaluate(network) -> {'top1': ..., ...} or None. Returns the final state dict (epoch, best_top1, best_epoch).
    """
    if not isinstance(schedule, EpochSchedule):
        schedule = FunctionSchedule(schedule)
    run_dir = Path(settings.run_dir)
    writer = settings.rank == 0
    checkpoints = CheckpointManager(run_dir / "checkpoints", settings.prefix, settings.keep_checkpoints)
    best_path = Path(settings.best_path) if settings.best_path else checkpoints.best_path
    state = {"epoch": 0, "best_top1": None, "best_epoch": None}
    existing = checkpoints.periodic()
    if settings.resume:
        if existing:
            epoch, path = existing[-1]
            restore(train_cell, path)
            state.update(_resume_state(run_dir, epoch, path, schedule), epoch=epoch)
            print(f"Resuming from {path} (epoch {epoch} of {settings.num_epochs})", flush=True)
        else:
            print(f"no checkpoint in {checkpoints.directory} to resume from; starting from epoch 0", flush=True)
    elif existing and writer:
        raise RunExistsError(f"{checkpoints.directory} already holds checkpoints ({existing[-1][1].name})")
    if writer:
        run_dir.mkdir(parents=True, exist_ok=True)
    log = RunLog(run_dir, writer)
    if state["epoch"] >= settings.num_epochs:
        log.line(f"Nothing to do: already trained {state['epoch']} of {settings.num_epochs} epochs")
        return state

    show_progress = settings.progress and sys.stderr.isatty()
    for epoch in range(state["epoch"], settings.num_epochs):
        schedule.begin_epoch(epoch)
        network.set_train(True)
        started, losses = time.time(), []
        bar = tqdm(total=steps_per_epoch, desc=f"epoch {epoch + 1}/{settings.num_epochs}", unit="step",
                   disable=not show_progress, dynamic_ncols=True, leave=False)
        with bar:
            for clips, labels, *_ in make_batches(epoch):
                loss = float(train_cell(ms.Tensor(clips), ms.Tensor(labels)).asnumpy())
                if not math.isfinite(loss):
                    raise TrainingError(f"loss became {loss} at epoch {epoch + 1} step {len(losses) + 1}; "
                                        "lower --lr or check the data")
                losses.append(loss)
                bar.set_postfix(loss=f"{loss:.4f}")
                bar.update(1)
                step = len(losses)
                if settings.log_interval and step % settings.log_interval == 0 and step < steps_per_epoch:
                    log.line(f"epoch: {epoch + 1} step: {step}, loss is {loss:.6f}")
        seconds = time.time() - started
        done = epoch + 1
        log.line(f"epoch: {done} step: {len(losses)}, loss is {losses[-1]:.6f}")
        log.line(f"epoch time: {seconds * 1000:.3f} ms, per step time: {seconds * 1000 / max(1, len(losses)):.3f} ms")
        entry = {"epoch": done, "steps": len(losses), "loss": sum(losses) / len(losses), "last_loss": losses[-1],
                 "lr": schedule.lr_for(epoch), "epoch_time_s": round(seconds, 3)}
        due = done % settings.eval_frequency == 0 or done == settings.num_epochs
        metrics = evaluate(network) if evaluate and due else None
        if metrics:
            entry.update({f"val_{name}": value for name, value in metrics.items()})
            log.line("val " + "  ".join(f"{name}: {value:.4f}" for name, value in metrics.items()))
            if state["best_top1"] is None or metrics["top1"] > state["best_top1"]:
                state.update(best_top1=metrics["top1"], best_epoch=done)
                if writer:
                    save_checkpoint(network, best_path)
                    log.line(f"best val top1 {metrics['top1']:.4f} at epoch {done} -> {best_path}")
            schedule.observe(metrics)
        state["epoch"] = done
        log.record(entry)
        if writer and (done % settings.checkpoint_frequency == 0 or done == settings.num_epochs):
            checkpoints.save_epoch(train_cell, done, len(losses))
            atomic_write_text(run_dir / STATE_FILE, json.dumps(dict(state, schedule=schedule.state())) + "\n")
    # Data-parallel ranks must end with identical weights; the launchers' tests compare this line across ranks.
    checksum = sum(float(abs(p.asnumpy().astype("float64")).sum()) for p in network.trainable_params())
    print(f"rank {settings.rank} weights checksum: {checksum:.10e}", flush=True)
    return state
