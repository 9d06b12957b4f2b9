"""Offline-inference files shared by I3D's preprocess.py and ECO-lite's get_310_eval_dataset.py: the evaluation clips
as raw float32 batches (one model input per .bin, the last batch padded by repeating its last clip), the labels as one
int32 (num_batches, batch_size) .npy (-1 marks padding, no pickle) and a JSON record of what was written. Every file
is written under a temporary name and renamed when complete; a rerun with the same record skips finished batches
(resume), so a run killed at any moment and rerun ends with the files of an uninterrupted one; a record of other
options, or .bin files the run would not write, are refused and never deleted. One run at a time writes a label
folder (one per process with --distributed; src/data/locking.py). Each process's progress record lists the batches it
finished: postprocess.py refuses labels whose preprocessing did not finish (unfinished_batches).
See docs/offline_inference.md.
"""
import hashlib
import io
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from src.data.atomic import atomic_write_text, describe_os_error, partial_path
from src.data.locking import FolderLockedError, folder_lock
from src.data.pipeline import iterate_batches

INFO_FILE = "preprocess_info.json"
# The record formats of the two writers: I3D's preprocess.py and ECO-lite's get_310_eval_dataset.py.
I3D_INFO_FORMAT = "i3d-offline-inference/1"
ECO_INFO_FORMAT = "eco-lite-offline-inference/1"
PAD_LABEL = -1


class PreprocessError(Exception):
    """The output folders hold files this run must not mix with its own."""


def batch_layout(num_samples, batch_size):
    """(num_batches, last_batch_size) of `num_samples` in batches of `batch_size`, the last one padded."""
    num_batches = math.ceil(num_samples / batch_size)
    return num_batches, num_samples - (num_batches - 1) * batch_size


def fingerprint(info, path_keys=()):
    """A digest of what the .bin files contain (the record without the data paths)."""
    content = {key: value for key, value in info.items() if key not in path_keys}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def check_output(info, data_dir, label_dir, path_keys=(), rerun_hint="pass another --save_dir"):
    """Refuse a record of other options, and .bin files in the data folder that this run would not write (the C++
    app reads every .bin there)."""
    info_path = label_dir / INFO_FILE
    if info_path.is_file():
        try:
            old = json.loads(info_path.read_text())
        except (OSError, ValueError) as error:
            raise PreprocessError(f"{info_path}: unreadable ({error}); remove {data_dir} and {label_dir}") from None
        differ = sorted(key for key in set(info) | set(old) if key not in path_keys and info.get(key) != old.get(key))
        if differ:
            raise PreprocessError(f"{label_dir} holds the output of a run with other options or data ("
                                  f"{', '.join(differ)} differ); {rerun_hint}, or remove {data_dir} and "
                                  f"{label_dir} first")
    expected = set(info["data_files"])
    stray = sorted(path.name for path in data_dir.glob("*.bin") if path.name not in expected)
    if stray:
        listing = ", ".join(stray[:5]) + (f", ... ({len(stray) - 5} more)" if len(stray) > 5 else "")
        raise PreprocessError(f"{data_dir} holds .bin files this run does not write ({listing}), which the inference "
                              f"app would read too; remove them or {rerun_hint}")


def progress_path(label_dir, rank_id, rank_size):
    """This process's record of the batches it finished (no other process writes it)."""
    return label_dir / f".progress_rank{rank_id}of{rank_size}.json"


def _recorded_batches(info, label_dir, path_keys=None):
    """Batches the progress records in label_dir list as finished for `info`'s options; path_keys None: the keys
    each record names (a record without them counts as another run's)."""
    done = set()
    for path in label_dir.glob(".progress_rank*.json"):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        keys = record.get("path_keys", ()) if path_keys is None else path_keys
        if record.get("fingerprint") == fingerprint(info, keys):
            done.update(int(batch) for batch in record.get("batches", []))
    return done


def finished_batches(info, data_dir, label_dir, path_keys=()):
    """Batches (1-based) any earlier run with the same fingerprint recorded as finished, whose file is complete."""
    return {batch for batch in _recorded_batches(info, label_dir, path_keys) if 1 <= batch <= info["num_batches"]
            and (data_dir / info["data_files"][batch - 1]).is_file()
            and (data_dir / info["data_files"][batch - 1]).stat().st_size == info["bin_bytes"]}


def unfinished_batches(info, label_dir):
    """Batches (1-based) of the record `info` that no process recorded as written: the preprocessing that wrote the
    labels was killed or failed before them (the .bin files themselves may be on another machine by now)."""
    done = _recorded_batches(info, label_dir)
    return [batch for batch in range(1, info["num_batches"] + 1) if batch not in done]


def _write_partial_then_rename(path, data):
    """Write bytes under the partial name, then rename; a failed write leaves no partial file and raises the real
    OSError naming `path` (ndarray.tofile's carries no errno, a failed write() no file name)."""
    partial = partial_path(path)
    try:
        with open(partial, "wb") as handle:
            handle.write(data)
        os.replace(partial, path)
    except OSError as error:
        _discard(partial)
        raise OSError(error.errno, error.strerror, str(path)) from None
    except BaseException:
        _discard(partial)
        raise


def _write_text(path, text):
    """atomic_write_text, its OSError naming `path` (not its temporary, and not nothing as a failed close())."""
    try:
        atomic_write_text(path, text)
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(path)) from None


def _discard(path):
    try:
        path.unlink(missing_ok=True)
    except OSError:  # a read-only disk: there is nothing to remove
        pass


def write_bin(path, clips):
    _write_partial_then_rename(path, memoryview(np.ascontiguousarray(clips)).cast("B"))


def write_labels(info, labels, label_dir):
    """The padded int32 (num_batches, batch_size) label file and the record; returns the label file."""
    padded = np.full((info["num_batches"], info["batch_size"]), PAD_LABEL, dtype=np.int32)
    padded.reshape(-1)[:info["num_samples"]] = labels
    target = label_dir / info["label_file"]
    encoded = io.BytesIO()
    np.save(encoded, padded)
    _write_partial_then_rename(target, encoded.getvalue())
    _write_text(label_dir / INFO_FILE, json.dumps(info, indent=1) + "\n")
    return target


def load_batch(source, info, batch, num_workers):
    """Clips of 1-based batch `batch`, the last one padded by repeating its last clip."""
    size = info["batch_size"]
    indices = range((batch - 1) * size, min(batch * size, info["num_samples"]))
    clips = next(iterate_batches(source, indices, len(indices), num_workers))[0]
    if len(clips) < size:
        clips = np.concatenate([clips, np.repeat(clips[-1:], size - len(clips), axis=0)])
    return np.ascontiguousarray(clips, dtype=np.float32)


def write_offline_files(source, info, data_dir, label_dir, num_workers=2, rank_id=0, rank_size=1, progress=False,
                        path_keys=(), rerun_hint="pass another --save_dir"):
    """Write `source`'s clips and labels as `info` describes (info: num_samples, batch_size, num_batches,
    last_batch_size, bin_bytes, data_files, label_file); process `rank_id` of `rank_size` writes batches
    rank_id + 1 + k * rank_size, process 0 also the labels and the record. Returns (written, already complete).
    Another live run on the same folders, and a disk error (full, read-only), raise PreprocessError."""
    lock_folder = label_dir if rank_size == 1 else label_dir / f".rank{rank_id}of{rank_size}"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        label_dir.mkdir(parents=True, exist_ok=True)
        with folder_lock(lock_folder, "this preprocessing output"):
            return _write_locked(source, info, data_dir, label_dir, num_workers, rank_id, rank_size, progress,
                                 path_keys, rerun_hint)
    except FolderLockedError as error:
        raise PreprocessError(str(error)) from None
    except OSError as error:
        raise PreprocessError(describe_os_error(error)) from None


def _remove_stale_partials(info, data_dir, label_dir, rank_id, mine, record):
    """Temporary files a killed run of this process left (each is rebuilt whole): its batches' partial .bin files,
    its progress record's and, for process 0, the labels' and the record's."""
    stale = [partial_path(data_dir / info["data_files"][batch - 1]) for batch in mine]
    stale += label_dir.glob(f".{record.stem}.*.partial{record.suffix}")
    if rank_id == 0:
        stale.append(partial_path(label_dir / info["label_file"]))
        stale += label_dir.glob(f".{Path(INFO_FILE).stem}.*.partial{Path(INFO_FILE).suffix}")
    for path in stale:
        path.unlink(missing_ok=True)


def _write_locked(source, info, data_dir, label_dir, num_workers, rank_id, rank_size, progress, path_keys,
                  rerun_hint):
    check_output(info, data_dir, label_dir, path_keys, rerun_hint)
    mine = range(rank_id + 1, info["num_batches"] + 1, rank_size)
    record = progress_path(label_dir, rank_id, rank_size)
    _remove_stale_partials(info, data_dir, label_dir, rank_id, mine, record)
    if rank_id == 0:
        label_file = write_labels(info, source.labels, label_dir)
        print(f"labels: {label_file} ({info['num_samples']} samples; last batch {info['last_batch_size']} of "
              f"{info['batch_size']}, padded)", flush=True)
    done = finished_batches(info, data_dir, label_dir, path_keys)
    todo = [batch for batch in mine if batch not in done]
    recorded = sorted(set(mine) & done)
    digest = fingerprint(info, path_keys)

    def save_record():
        _write_text(record, json.dumps({"fingerprint": digest, "path_keys": list(path_keys),
                                        "batches": sorted(recorded)}) + "\n")

    try:
        for batch in tqdm(todo, unit="file", disable=not (progress and sys.stderr.isatty()), leave=False):
            write_bin(data_dir / info["data_files"][batch - 1], load_batch(source, info, batch, num_workers))
            recorded.append(batch)
            save_record()
        if not todo:
            save_record()  # names the path keys postprocess.py needs, also in a record an older version wrote
    except OSError as error:
        raise PreprocessError(f"{describe_os_error(error)}; {len(recorded)} of this process's {len(mine)} file(s) "
                              "complete: rerun with the same options when fixed to write the rest") from None
    return len(todo), len(mine) - len(todo)
