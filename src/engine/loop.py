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
import glob
import json
import math
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import mindspore as ms
from tqdm import tqdm

from src.cli import write_config
from src.data.atomic import atomic_write_text, remove_stale_temporaries
from src.data.locking import folder_lock
from src.engine.checkpoint_io import save_checkpoint
from src.layers import set_dropout_step

STATE_FILE = "train_state.json"
CONFIG_FILE = "config.json"


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
    options: dict = None            # the run's options: written to config.json once the run is accepted, and
                                    # compared with it on resume
    neutral_options: frozenset = frozenset()  # options a resume may change: they do not change the trained weights


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

    def remove_stale_temporaries(self):
        """What a run killed while saving left behind (the lock holder owns the folder, so none is in use)."""
        if self.directory.is_dir():
            for stale in self.directory.glob(f".{glob.escape(self.prefix)}-*.partial*"):
                stale.unlink()

    def save_epoch(self, cell, epoch, steps):
        save_checkpoint(cell, self.directory / f"{self.prefix}-{epoch}_{steps}.ckpt")
        for _, old in self.periodic()[:-self.keep]:
            old.unlink()


class UnusableCheckpoint(TrainingError):
    """A periodic checkpoint that cannot be restored (corrupt, truncated, or of another network)."""


def restore(train_cell, path):
    """Load network and optimizer state; every parameter of the train cell must be in the checkpoint.

    The per-step learning-rate list is not restored: it is rebuilt from the options (its length depends on
    --num_epochs, which a resumed run may extend) and indexed by the restored step counter.
    """
    try:
        params = ms.load_checkpoint(str(path), choice_func=lambda name: name != "learning_rate")
    except (ValueError, RuntimeError, OSError) as error:
        raise UnusableCheckpoint(f"{path} is unreadable ({str(error).strip().splitlines()[0]})") from None
    not_loaded = [name for name in ms.load_param_into_net(train_cell, params)[0] if name != "learning_rate"]
    if not_loaded:
        raise UnusableCheckpoint(f"{path} lacks {len(not_loaded)} parameter(s) of this network, e.g. {not_loaded[:3]}")


def restore_newest(train_cell, checkpoints, writer):
    """(epoch, path) of the newest periodic checkpoint that restores, or None; the writer renames unusable newer ones
    to `*.corrupt` with a warning, so a damaged last save costs one checkpoint interval, not the run."""
    for epoch, path in reversed(checkpoints.periodic()):
        try:
            restore(train_cell, path)
            return epoch, path
        except UnusableCheckpoint as error:
            if writer:
                path.rename(path.with_name(path.name + ".corrupt"))
            print(f"warning: {error}; set it aside as {path.name}.corrupt and trying the one before",
                  file=sys.stderr, flush=True)
    return None


def option_changes(saved, options, neutral):
    """[(name, saved value, new value)] of the options that differ, split into (result-changing, neutral)."""
    changed = [(name, saved.get(name), value) for name, value in sorted(options.items())
               if json.loads(json.dumps(value, default=str)) != saved.get(name, value)]
    return ([c for c in changed if c[0] not in neutral], [c for c in changed if c[0] in neutral])


def check_resume_options(run_dir, options, neutral):
    """Refuse a resume whose options would train differently from the run's config.json (so that a resumed run equals
    an uninterrupted one); print the neutral differences (paths, workers, epochs to train, logging)."""
    path = run_dir / CONFIG_FILE
    if options is None or not path.is_file():
        return
    try:
        saved = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise TrainingError(f"{path}: not readable JSON ({error}); cannot check that the resume uses the run's "
                            "options") from None
    changing, harmless = option_changes(saved, options, neutral)
    describe = ", ".join
    if changing:
        raise TrainingError(f"cannot resume {run_dir} with other options than it was trained with: "
                            + describe(f"{name} {old!r} -> {new!r}" for name, old, new in changing)
                            + f" (see {path}); use the run's options, or start a new run in another --save_dir")
    if harmless:
        print("note: resuming with changed options that do not change the result: "
              + describe(f"{name} {old!r} -> {new!r}" for name, old, new in harmless), flush=True)


class RunLog:
    """Epoch records as text lines (stdout and train_log.txt) and JSON lines (train_log.jsonl)."""

    def __init__(self, run_dir, enabled):
        self.enabled = enabled
        self.text_path, self.json_path = Path(run_dir) / "train_log.txt", Path(run_dir) / "train_log.jsonl"

    def start_at(self, epoch):
        """Drop the records of epochs after `epoch` (an interrupted run's, which the run now trains again); a run
        from epoch 0 starts both logs afresh."""
        if not self.enabled:
            return
        if epoch == 0:
            for path in (self.text_path, self.json_path):
                path.unlink(missing_ok=True)
        elif self.json_path.is_file():
            lines = self.json_path.read_text().splitlines()
            kept = [line for line in lines if line.strip() and json.loads(line).get("epoch", 0) <= epoch]
            if len(kept) != len(lines):
                atomic_write_text(self.json_path, "".join(line + "\n" for line in kept))

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
    """best_top1/best_epoch (and the schedule's state) saved with the checkpoint of `epoch`.

    train_state.json keeps the state of every kept checkpoint's epoch, written before that checkpoint: a run stopped
    between the two resumes from the previous checkpoint with that checkpoint's own state.
    """
    state_path = run_dir / STATE_FILE
    try:
        saved = json.loads(state_path.read_text()) if state_path.is_file() else {}
    except (ValueError, UnicodeDecodeError) as error:
        raise TrainingError(f"{state_path}: not readable JSON ({error}); cannot resume the best score") from None
    entry = saved.get("epochs", {}).get(str(epoch)) or (saved if saved.get("epoch") == epoch else None)
    if entry is None:
        raise TrainingError(f"cannot resume from {path}: {state_path} does not hold the state of epoch {epoch} "
                            "(best score, schedule); delete that checkpoint to resume from the one before, or start "
                            "a new run")
    schedule.load_state(entry.get("schedule", {}))
    return {k: entry[k] for k in ("best_top1", "best_epoch")}


def _write_state(run_dir, state, schedule, kept_epochs):
    """train_state.json: the latest state at the top (for readers), and the state of each kept checkpoint's epoch."""
    state_path = run_dir / STATE_FILE
    try:
        history = json.loads(state_path.read_text()).get("epochs", {}) if state_path.is_file() else {}
    except (ValueError, UnicodeDecodeError):
        history = {}
    current = dict(state, schedule=schedule.state())
    history = {key: value for key, value in history.items() if int(key) in kept_epochs}
    history[str(state["epoch"])] = current
    atomic_write_text(state_path, json.dumps(dict(current, epochs=history)) + "\n")


def fit(train_cell, network, make_batches, steps_per_epoch, schedule, settings, evaluate=None):
    """Train from the start (or the newest checkpoint with settings.resume) to settings.num_epochs.

    make_batches(epoch) -> an iterable of numpy batches (clips, labels, ...) for that 0-based epoch;
    schedule: an EpochSchedule, or a function epoch -> learning rate in force (for the log);
    evaluate(network) -> {'top1': ..., ...} or None. Returns the final state dict (epoch, best_top1, best_epoch).
    The writing rank holds the run folder's lock throughout, so a second training into the same folder is refused.
    """
    if settings.rank != 0:
        return _train(train_cell, network, make_batches, steps_per_epoch, schedule, settings, evaluate)
    with folder_lock(settings.run_dir, "this training run"):
        return _train(train_cell, network, make_batches, steps_per_epoch, schedule, settings, evaluate)


def _train(train_cell, network, make_batches, steps_per_epoch, schedule, settings, evaluate):
    if not isinstance(schedule, EpochSchedule):
        schedule = FunctionSchedule(schedule)
    run_dir = Path(settings.run_dir)
    writer = settings.rank == 0
    checkpoints = CheckpointManager(run_dir / "checkpoints", settings.prefix, settings.keep_checkpoints)
    best_path = Path(settings.best_path) if settings.best_path else checkpoints.best_path
    state = {"epoch": 0, "best_top1": None, "best_epoch": None}
    existing = checkpoints.periodic()
    if existing and writer and not settings.resume:
        raise RunExistsError(f"{checkpoints.directory} already holds checkpoints ({existing[-1][1].name})")
    if settings.resume and existing:
        if writer:
            check_resume_options(run_dir, settings.options, settings.neutral_options)
        found = restore_newest(train_cell, checkpoints, writer)
        if found is None:
            raise TrainingError(f"none of the {len(existing)} checkpoint(s) in {checkpoints.directory} can be "
                                "restored (see the warnings above); start a new run in another --save_dir")
        epoch, path = found
        state.update(_resume_state(run_dir, epoch, path, schedule), epoch=epoch)
        print(f"Resuming from {path} (epoch {epoch} of {settings.num_epochs})", flush=True)
    elif settings.resume:
        print(f"no checkpoint in {checkpoints.directory} to resume from; starting from epoch 0", flush=True)
    log = RunLog(run_dir, writer)
    if writer:
        run_dir.mkdir(parents=True, exist_ok=True)
        for final in (best_path, run_dir / STATE_FILE, run_dir / CONFIG_FILE, log.json_path):
            remove_stale_temporaries(final)
        checkpoints.remove_stale_temporaries()
        if settings.options is not None:
            write_config(settings.options, run_dir / CONFIG_FILE)
        log.start_at(state["epoch"])
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
                # Dropout masks keyed by (seed, global step, rank): a resumed run draws the uninterrupted run's.
                set_dropout_step(epoch * steps_per_epoch + len(losses), settings.rank)
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
            kept = sorted([epoch for epoch, _ in checkpoints.periodic()] + [done])[-settings.keep_checkpoints:]
            _write_state(run_dir, state, schedule, set(kept))
            checkpoints.save_epoch(train_cell, done, len(losses))
    # Data-parallel ranks must end with identical weights; the launchers' tests compare this line across ranks.
    checksum = sum(float(abs(p.asnumpy().astype("float64")).sum()) for p in network.trainable_params())
    print(f"rank {settings.rank} weights checksum: {checksum:.10e}", flush=True)
    return state
