"""Write the I3D validation clips as raw float32 batches, with their labels, for offline inference by the C++ app in
ascend_310_infer/ (MindSpore on Ascend 310, or ONNX Runtime on CPU). See docs/offline_inference.md.

    python preprocess.py --dataset=hmdb51 --mode=rgb --video_path=./rgb/hmdb51/jpg \\
        --annotation_path=./rgb/hmdb51/annotation/hmdb51_1.json [--save_dir=./preprocess_Result]

The clips are what eval.py scores: the validation subset with the evaluation transforms (src/evaluation.py,
build_eval_source), so offline accuracy equals eval.py's. The seed wrote random training clips instead (spec I-8).
Output under --save_dir (the seed's layout and names):
    data/<dataset>/<mode>/<dataset>_bs<mode>_<i>.bin   batch i = 1..n, float32 (batch_size, C, T, S, S), C order
    label/<dataset>/<mode>/label_bs<mode><batch_size>.npy   int32 (n, batch_size), -1 marks padding (no pickle)
    label/<dataset>/<mode>/preprocess_info.json   sample count, last batch size, input shape, files, keys, classes
The last batch is padded to the full size by repeating its last clip, so every file fits the model; the record keeps
the real count. Every file is written under a temporary name and renamed when complete. A rerun with the same options
skips the batches already written (resume); other options or stray .bin files are refused, never deleted.
With --distributed=True and RANK_SIZE processes, process RANK_ID writes batches RANK_ID + k * RANK_SIZE (its own
files and its own progress record only); process 0 also writes the labels and the record.
"""
import hashlib
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from config import parse_preprocess_args, print_config
from src.data.atomic import atomic_write_text, partial_path
from src.data.pipeline import iterate_batches
from src.evaluation import EVAL_ERRORS, STREAM_CHANNELS, build_eval_source

INFO_FILE = "preprocess_info.json"
INFO_FORMAT = "i3d-offline-inference/1"
PATH_KEYS = ("video_path", "annotation_path")  # recorded, but moving the data does not invalidate the files
PAD_LABEL = -1


class PreprocessError(Exception):
    """The output folders hold files this run must not mix with its own."""


def output_dirs(save_dir, dataset, mode):
    """(data folder, label folder) under the output root."""
    root = Path(save_dir)
    return root / "data" / dataset / mode, root / "label" / dataset / mode


def bin_name(dataset, mode, batch):
    """The seed's name of 1-based batch `batch`: hmdb51_bsrgb_7.bin."""
    return f"{dataset}_bs{mode}_{batch}.bin"


def label_name(mode, batch_size):
    """The seed's label file name: label_bsrgb8.npy."""
    return f"label_bs{mode}{batch_size}.npy"


def make_info(args, source):
    """The preprocessing record: everything postprocess.py and a resumed run need to know about the files."""
    num_samples, batch = len(source), args.batch_size
    num_batches = math.ceil(num_samples / batch)
    shape = [batch, STREAM_CHANNELS[args.mode], args.test_sample_duration, args.spatial_size, args.spatial_size]
    return {
        "format": INFO_FORMAT, "dataset": args.dataset, "mode": args.mode, "subset": "validation",
        "num_samples": num_samples, "batch_size": batch, "num_batches": num_batches,
        "last_batch_size": num_samples - (num_batches - 1) * batch,
        "input_shape": shape, "layout": "NCTHW", "dtype": "float32", "bin_bytes": int(np.prod(shape)) * 4,
        "data_files": [bin_name(args.dataset, args.mode, i) for i in range(1, num_batches + 1)],
        "label_file": label_name(args.mode, batch), "num_classes": source.num_classes,
        "class_names": list(source.class_names), "video_keys": list(source.video_keys),
        "test_sample_duration": args.test_sample_duration, "spatial_size": args.spatial_size,
        "video_path": str(Path(args.video_path).resolve()),
        "annotation_path": str(Path(args.annotation_path).resolve()),
    }


def fingerprint(info):
    """A digest of what the .bin files contain (the record without the data paths)."""
    content = {key: value for key, value in info.items() if key not in PATH_KEYS}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def check_output(info, data_dir, label_dir):
    """Refuse a record of other options, and .bin files in the data folder that this run would not write (the C++
    app reads every .bin there)."""
    info_path = label_dir / INFO_FILE
    if info_path.is_file():
        try:
            old = json.loads(info_path.read_text())
        except (OSError, ValueError) as error:
            raise PreprocessError(f"{info_path}: unreadable ({error}); remove {data_dir} and {label_dir}") from None
        differ = sorted(key for key in set(info) | set(old) if key not in PATH_KEYS and info.get(key) != old.get(key))
        if differ:
            raise PreprocessError(f"{label_dir} holds the output of a run with other options or data ("
                                  f"{', '.join(differ)} differ); pass another --save_dir, or remove {data_dir} and "
                                  f"{label_dir} first")
    expected = set(info["data_files"])
    stray = sorted(path.name for path in data_dir.glob("*.bin") if path.name not in expected)
    if stray:
        listing = ", ".join(stray[:5]) + (f", ... ({len(stray) - 5} more)" if len(stray) > 5 else "")
        raise PreprocessError(f"{data_dir} holds .bin files this run does not write ({listing}), which the inference "
                              "app would read too; remove them or pass another --save_dir")


def progress_path(label_dir, rank_id, rank_size):
    """This process's record of the batches it finished (no other process writes it)."""
    return label_dir / f".progress_rank{rank_id}of{rank_size}.json"


def finished_batches(info, data_dir, label_dir):
    """Batches any earlier run with the same fingerprint recorded as finished, whose file is still complete."""
    digest, done = fingerprint(info), set()
    for path in label_dir.glob(".progress_rank*.json"):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if record.get("fingerprint") == digest:
            done.update(int(batch) for batch in record.get("batches", []))
    return {batch for batch in done if 1 <= batch <= info["num_batches"]
            and (data_dir / info["data_files"][batch - 1]).is_file()
            and (data_dir / info["data_files"][batch - 1]).stat().st_size == info["bin_bytes"]}


def write_bin(path, clips):
    partial = partial_path(path)
    with open(partial, "wb") as handle:
        clips.tofile(handle)
    os.replace(partial, path)


def write_labels(info, source, label_dir):
    labels = np.full((info["num_batches"], info["batch_size"]), PAD_LABEL, dtype=np.int32)
    labels.reshape(-1)[:info["num_samples"]] = source.labels
    target = label_dir / info["label_file"]
    partial = partial_path(target)
    with open(partial, "wb") as handle:
        np.save(handle, labels)
    os.replace(partial, target)
    atomic_write_text(label_dir / INFO_FILE, json.dumps(info, indent=1) + "\n")
    return target


def load_batch(source, info, batch, num_workers):
    """Clips of 1-based batch `batch`, the last one padded by repeating its last clip."""
    size = info["batch_size"]
    indices = range((batch - 1) * size, min(batch * size, info["num_samples"]))
    clips = next(iterate_batches(source, indices, len(indices), num_workers))[0]
    if len(clips) < size:
        clips = np.concatenate([clips, np.repeat(clips[-1:], size - len(clips), axis=0)])
    return np.ascontiguousarray(clips, dtype=np.float32)


def preprocess(args):
    source = build_eval_source(args.video_path, args.annotation_path, args.mode, args.test_sample_duration,
                               args.spatial_size, seed=args.seed, skip_missing=args.skip_missing)
    print(f"Found {len(source)} validation examples", flush=True)
    info = make_info(args, source)
    data_dir, label_dir = output_dirs(args.save_dir, args.dataset, args.mode)
    data_dir.mkdir(parents=True, exist_ok=True)
    label_dir.mkdir(parents=True, exist_ok=True)
    check_output(info, data_dir, label_dir)
    if args.rank_id == 0:
        label_file = write_labels(info, source, label_dir)
        print(f"labels: {label_file} ({info['num_samples']} samples; last batch {info['last_batch_size']} of "
              f"{info['batch_size']}, padded)", flush=True)
    mine = range(args.rank_id + 1, info["num_batches"] + 1, args.rank_size)
    done = finished_batches(info, data_dir, label_dir)
    todo = [batch for batch in mine if batch not in done]
    record = progress_path(label_dir, args.rank_id, args.rank_size)
    recorded = sorted(set(mine) & done)
    progress = args.progress and sys.stderr.isatty()
    for batch in tqdm(todo, unit="file", disable=not progress, leave=False):
        write_bin(data_dir / info["data_files"][batch - 1], load_batch(source, info, batch, args.num_workers))
        recorded.append(batch)
        atomic_write_text(record, json.dumps({"fingerprint": fingerprint(info), "batches": sorted(recorded)}) + "\n")
    rank = f"process {args.rank_id} of {args.rank_size}: " if args.rank_size > 1 else ""
    print(f"{rank}wrote {len(todo)} file(s), {len(mine) - len(todo)} already complete; {info['num_batches']} file(s) "
          f"of float32 {info['input_shape']} in {data_dir}", flush=True)
    print("clip preprocess done.", flush=True)


def main(argv=None):
    args = parse_preprocess_args(argv)
    print_config(args, "Preprocess configuration:")
    try:
        preprocess(args)
    except (PreprocessError,) + EVAL_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
