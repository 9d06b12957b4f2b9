"""Export an I3D checkpoint to MINDIR, ONNX or AIR with a fixed input (batch, C, sample_duration, size, size).
See docs/evaluation.md. ECO-lite runs when the command line has an ECO-only flag (--dataset, --arch, --num_segments,
...) or --model eco_lite: see src/eco_lite/export.py and docs/eco_lite.md.

    python export.py --checkpoint_path=i3d-40_56.ckpt --mode=rgb --num_classes=51 --file_format=ONNX --file_name=i3d_rgb

The file is written under a temporary name and renamed when complete, so a failed export leaves nothing behind.
"""
import shutil
import sys
import tempfile
from pathlib import Path

import src.runtime  # noqa: F401  (first: caps oneDNN at AVX2 before MindSpore loads)
from config import parse_export_args
from src.eco_lite.config import select_model
from src.runtime import init_context

SUFFIXES = {"MINDIR": ".mindir", "ONNX": ".onnx", "AIR": ".air"}


def output_path(file_name, file_format):
    """MindSpore's naming: the format's suffix is appended unless the name already ends with it."""
    suffix = SUFFIXES[file_format]
    return Path(file_name if file_name.endswith(suffix) else file_name + suffix)


def export_network(net, dummy_input, target, file_format):
    """Export into a temporary folder beside `target`, then rename the finished file onto it."""
    import mindspore as ms

    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        partial = work / target.name
        if file_format == "ONNX":
            ms.onnx.export(net, dummy_input, file_name=str(partial))
        else:
            ms.export(net, dummy_input, file_name=str(partial), file_format=file_format)
        partial.replace(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None):
    model, argv = select_model(sys.argv[1:] if argv is None else argv, "export")
    if model == "eco_lite":
        from src.eco_lite.export import main as export_eco_lite

        return export_eco_lite(argv)
    return export_i3d(argv)


def export_i3d(argv):
    args = parse_export_args(argv)
    if args.file_format == "AIR" and args.device_target != "Ascend":
        print(f"error: MindSpore writes AIR files only on Ascend, and this export runs on {args.device_target}; "
              "use --file_format=MINDIR (MindSpore and Ascend 310 inference) or --file_format=ONNX "
              "(onnxruntime, eval_onnx.py)", file=sys.stderr)
        return 1
    init_context(args.device_target, "gr", args.device_id)
    import mindspore as ms
    import numpy as np
    from src.i3d import CheckpointError, InceptionI3D, load_i3d_checkpoint

    net = InceptionI3D(args.num_classes, args.mode, dropout_keep_prob=args.dropout_keep_prob)
    try:
        load_i3d_checkpoint(net, args.checkpoint_path)
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    net.set_train(False)
    shape = [args.batch_size, net.in_channels, args.sample_duration, args.spatial_size, args.spatial_size]
    target = output_path(args.file_name, args.file_format)
    print("Start export", flush=True)
    export_network(net, ms.Tensor(np.ones(shape, np.float32)), target, args.file_format)
    print("Finish export", flush=True)
    print(f"exported {args.file_format} to {target} (input {shape} N, C, T, H, W; output [{args.batch_size}, "
          f"{args.num_classes}] logits)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
