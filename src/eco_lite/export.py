"""ECO-lite export, as the seed's export.py (spec B.8) with its flags; export.py dispatches here.

    python export.py --dataset ucf101 --checkpoint_path ucf101bestacc.ckpt --file_format MINDIR --batch-size 16

Input (batch, 3 * num_segments, input_size, input_size) float32, BGR minus the Caffe means as the data pipeline gives
it; output (batch, num_classes) logits. Fixes: --no_partialbn may be left out (the seed crashed, spec E-10), any
device target works (MINDIR and ONNX; AIR needs Ascend), and the checkpoint's head must match the class count.
"""
import sys

import src.runtime  # noqa: F401  (first: oneDNN AVX2 cap before MindSpore loads)
from src.eco_lite.config import fail, parse_export_args
from src.runtime import init_context


def main(argv=None):
    args = parse_export_args(argv)
    if args.file_format == "AIR" and args.device_target != "Ascend":
        fail(f"MindSpore writes AIR files only on Ascend, and this export runs on {args.device_target}; use "
             "--file_format MINDIR (MindSpore, Ascend 310 inference) or --file_format ONNX (onnxruntime)")
    init_context(args.device_target, "gr", args.device_id)
    import mindspore as ms
    import numpy as np

    from export import export_network, output_path
    from src.eco_lite import CheckpointError, ECOLite, load_eco_checkpoint

    net = ECOLite(args.num_classes, args.num_segments, dropout_keep_prob=args.dropout)
    try:
        load_eco_checkpoint(net, args.checkpoint_path, allow_new_head=False)
    except CheckpointError as error:
        fail(str(error))
    net.set_train(False)
    shape = [args.batch_size, 3 * args.num_segments, args.input_size, args.input_size]
    target = output_path(args.file_name, args.file_format)
    print("Start export", flush=True)
    export_network(net, ms.Tensor(np.ones(shape, np.float32)), target, args.file_format)
    print(f"exported {args.file_format} to {target} (input {shape} N, 3*T, H, W; output [{args.batch_size}, "
          f"{args.num_classes}] logits)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
