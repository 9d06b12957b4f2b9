"""Write the I3D validation clips as raw float32 batches, with their labels, for offline inference by the C++ app in
ascend_310_infer/ (MindSpore on Ascend 310, or ONNX Runtime on CPU). See docs/offline_inference.md.

    python preprocess.py --dataset=hmdb51 --mode=rgb --video_path=./rgb/hmdb51/jpg \\
        --annotation_path=./rgb/hmdb51/annotation/hmdb51_1.json [--save_dir=./preprocess_Result]

The clips are what eval.py scores: the validation subset with the evaluation transforms (src/i3d/recipe.py,
build_eval_source), so offline accuracy equals eval.py's. The original wrote random training clips instead
(docs/differences.md#offline-validation-clips).
Output under --save_dir (the original's layout and names):
    data/<dataset>/<mode>/<dataset>_bs<mode>_<i>.bin   batch i = 1..n, float32 (batch_size, C, T, S, S), C order
    label/<dataset>/<mode>/label_bs<mode><batch_size>.npy   int32 (n, batch_size), -1 marks padding (no pickle)
    label/<dataset>/<mode>/preprocess_info.json   sample count, last batch size, input shape, files, keys, classes
The last batch is padded to the full size by repeating its last clip, so every file fits the model; the record keeps
the real count. Every file is written under a temporary name and renamed when complete. A rerun with the same options
skips the batches already written (resume), so a run killed at any moment (kill -9 too) and rerun leaves the files of
an uninterrupted one; other options or stray .bin files are refused, never deleted. A second run on the same output
is refused while one runs; a full or read-only disk ends the run with one `error:` line (exit status 1) and no partial
file, and postprocess.py refuses the labels of a run that did not finish.
With --distributed=True and RANK_SIZE processes, process RANK_ID writes batches RANK_ID + k * RANK_SIZE (its own
files and its own progress record only); process 0 also writes the labels and the record.
"""
import sys
from pathlib import Path

import numpy as np

from config import parse_preprocess_args
from src.cli import print_config
from src.data.atomic import describe_os_error
from src.evaluation import EVAL_ERRORS
from src.i3d.recipe import STREAM_CHANNELS, build_eval_source
from src.offline import I3D_INFO_FORMAT, PreprocessError, batch_layout, write_offline_files

PATH_KEYS = ("video_path", "annotation_path")  # recorded, but moving the data does not invalidate the files


def output_dirs(save_dir, dataset, mode):
    """(data folder, label folder) under the output root."""
    root = Path(save_dir)
    return root / "data" / dataset / mode, root / "label" / dataset / mode


def bin_name(dataset, mode, batch):
    """The original's name of 1-based batch `batch`: hmdb51_bsrgb_7.bin."""
    return f"{dataset}_bs{mode}_{batch}.bin"


def label_name(mode, batch_size):
    """The original's label file name: label_bsrgb8.npy."""
    return f"label_bs{mode}{batch_size}.npy"


def make_info(args, source):
    """The preprocessing record: everything postprocess.py and a resumed run need to know about the files."""
    num_samples, batch = len(source), args.batch_size
    num_batches, last_batch_size = batch_layout(num_samples, batch)
    shape = [batch, STREAM_CHANNELS[args.mode], args.test_sample_duration, args.spatial_size, args.spatial_size]
    return {
        "format": I3D_INFO_FORMAT, "dataset": args.dataset, "mode": args.mode, "subset": "validation",
        "num_samples": num_samples, "batch_size": batch, "num_batches": num_batches,
        "last_batch_size": last_batch_size,
        "input_shape": shape, "layout": "NCTHW", "dtype": "float32", "bin_bytes": int(np.prod(shape)) * 4,
        "data_files": [bin_name(args.dataset, args.mode, i) for i in range(1, num_batches + 1)],
        "label_file": label_name(args.mode, batch), "num_classes": source.num_classes,
        "class_names": list(source.class_names), "video_keys": list(source.video_keys),
        "test_sample_duration": args.test_sample_duration, "spatial_size": args.spatial_size,
        "video_path": str(Path(args.video_path).resolve()),
        "annotation_path": str(Path(args.annotation_path).resolve()),
    }


def preprocess(args):
    source = build_eval_source(args.video_path, args.annotation_path, args.mode, args.test_sample_duration,
                               args.spatial_size, seed=args.seed, skip_missing=args.skip_missing)
    print(f"Found {len(source)} validation examples", flush=True)
    info = make_info(args, source)
    data_dir, label_dir = output_dirs(args.save_dir, args.dataset, args.mode)
    written, complete = write_offline_files(source, info, data_dir, label_dir, args.num_workers, args.rank_id,
                                            args.rank_size, args.progress, PATH_KEYS)
    rank = f"process {args.rank_id} of {args.rank_size}: " if args.rank_size > 1 else ""
    print(f"{rank}wrote {written} file(s), {complete} already complete; {info['num_batches']} file(s) "
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
    except OSError as error:  # reading the data; write errors are PreprocessErrors
        print(f"error: {describe_os_error(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
