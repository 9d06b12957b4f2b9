"""Write the ECO-lite validation clips as raw float32 batches, with their labels, for offline inference by the C++ app
in ascend_310_infer/ (MindSpore on Ascend 310, or ONNX Runtime on CPU). The original's interface
(docs/differences.md#offline-eco-bins):

    python get_310_eval_dataset.py ucf101 RGB ./data/ucf101_rgb_val_split_1.txt ./eval_data [-b 16] [--input_size 224]

The clips are what eval.py scores for ECO-lite (the validation list, the evaluation transforms, every video once), so
offline accuracy equals eval.py's. Output (see docs/offline_inference.md):
    <valdataset_path>/eval_data_<i>_.bin   batch i = 0..n-1, float32 (batch, 3 * num_segments, S, S), C order
    <label_path>/eval_label_bs<batch>.npy  int32 (n, batch), -1 marks padding (no pickle; the original pickled per batch)
    <label_path>/preprocess_info.json      sample count, last batch size, input shape, file names, video keys
--label_path defaults to <valdataset_path>/label (the app reads only the .bin files directly in valdataset_path).
The last batch is padded to the full size by repeating its last clip (the original dropped it); the record keeps the real
count, which postprocess.py uses. Files are written atomically; a rerun with the same options skips the finished
batches; other options or stray .bin files are refused, never deleted (src/offline.py, shared with preprocess.py).
"""
import sys
from pathlib import Path

from src.cli import Parser, fail, positive_int
from src.eco_lite.config import DATASETS, image_template
from src.offline import ECO_INFO_FORMAT, PreprocessError, batch_layout, write_offline_files

PATH_KEYS = ("val_list",)


def build_parser():
    parser = Parser(prog="get_310_eval_dataset.py",
                    description="Write ECO-lite's validation clips as float32 .bin batches for ascend_310_infer.")
    parser.add_argument("dataset", choices=tuple(DATASETS), help="the frame-number format and default class count")
    parser.add_argument("modality", help="RGB only")
    parser.add_argument("val_list", help="validation list file: '<frame_dir> <n_frames> <label>' lines")
    parser.add_argument("valdataset_path", help="output folder of the .bin files")
    parser.add_argument("--arch", default="ECO", help="ECO only")
    parser.add_argument("--num_segments", type=positive_int, default=4, help="frames per clip")
    parser.add_argument("-b", "--batch-size", "--batch_size", dest="batch_size", type=positive_int, default=16,
                        help="clips per file (the exported model's batch)")
    parser.add_argument("--flow_prefix", default="", help="accepted for the original's command lines (RGB only)")
    parser.add_argument("--rgb_prefix", default="img_", help="frame file prefix")
    parser.add_argument("--input_size", type=positive_int, default=224, help="crop size (the exported model's)")
    parser.add_argument("--num_classes", type=positive_int, help="classes; labels must be below it. Default: the "
                                                                 "dataset's")
    parser.add_argument("--label_path", help="folder of the labels and the record; default <valdataset_path>/label")
    parser.add_argument("--workers", "--num_workers", dest="num_workers", type=positive_int, default=2,
                        help="data-loading threads")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    return parser


def parse_args(argv=None):
    args = build_parser().parse_args(argv)
    if args.modality.lower() != "rgb":
        fail(f"modality {args.modality!r}: only RGB is supported")
    if args.arch.lower() != "eco":
        fail(f"--arch {args.arch!r}: only ECO is supported")
    if args.input_size < 32:
        fail(f"--input_size must be at least 32, got {args.input_size}")
    if args.num_classes is None:
        args.num_classes = DATASETS[args.dataset].num_classes
    if args.label_path is None:
        args.label_path = str(Path(args.valdataset_path) / "label")
    return args


def bin_name(batch):
    """The original's name of 0-based batch `batch`: eval_data_5_.bin."""
    return f"eval_data_{batch}_.bin"


def make_info(args, source):
    num_samples, batch = len(source), args.batch_size
    num_batches, last_batch_size = batch_layout(num_samples, batch)
    shape = [batch, 3 * args.num_segments, args.input_size, args.input_size]
    return {
        "format": ECO_INFO_FORMAT, "model": "eco_lite", "dataset": args.dataset, "mode": "rgb",
        "subset": "validation",
        "num_samples": num_samples, "batch_size": batch, "num_batches": num_batches,
        "last_batch_size": last_batch_size, "input_shape": shape, "layout": "N(T*C)HW", "dtype": "float32",
        "bin_bytes": batch * 3 * args.num_segments * args.input_size ** 2 * 4,
        "data_files": [bin_name(i) for i in range(num_batches)],
        # the app's --result_name=predict: the first "data" of the input name becomes "predict" (the original's naming)
        "result_files": [bin_name(i).replace("data", "predict", 1) for i in range(num_batches)],
        "label_file": f"eval_label_bs{batch}.npy", "num_classes": args.num_classes,
        "video_keys": list(source.video_keys), "num_segments": args.num_segments, "input_size": args.input_size,
        "rgb_prefix": args.rgb_prefix, "val_list": str(Path(args.val_list).resolve()),
    }


def main(argv=None):
    args = parse_args(argv)
    from src.data.annotations import AnnotationError
    from src.data.eco_dataset import ECOSegmentDataset
    from src.data.frames import FrameFolderError
    from src.evaluation import EVAL_ERRORS

    try:
        source = ECOSegmentDataset(args.val_list, args.num_segments, train=False, image_template=image_template(args),
                                   input_size=args.input_size)
        bad = sorted({label for label in source.labels if not 0 <= label < args.num_classes})
        if bad:
            raise PreprocessError(f"{args.val_list} has label(s) {', '.join(map(str, bad[:5]))} outside "
                                  f"0..{args.num_classes - 1}; pass --num_classes {max(source.labels) + 1} (or more)")
        print(f"Found {len(source)} validation examples", flush=True)
        info = make_info(args, source)
        data_dir, label_dir = Path(args.valdataset_path), Path(args.label_path)
        written, complete = write_offline_files(source, info, data_dir, label_dir, args.num_workers,
                                                progress=args.progress, path_keys=PATH_KEYS,
                                                rerun_hint="pass another valdataset_path")
    except (PreprocessError, AnnotationError, FrameFolderError) + EVAL_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {written} file(s), {complete} already complete; {info['num_batches']} file(s) of float32 "
          f"{info['input_shape']} in {data_dir}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
