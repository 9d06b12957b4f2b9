"""Fine-tune (or train from scratch) one I3D stream, rgb or flow, on HMDB51 / UCF101-style frames; or ECO-lite.

ECO-lite runs when the command line has an ECO-only flag (--arch, --modality, --train_list, --val_list,
--num_segments, --config_path, --evaluate, ...) or --model eco_lite: see src/eco_lite/train.py and docs/eco_lite.md.

    python train.py --dataset ucf101 --mode rgb --video_path DATA/rgb/ucf101/jpg \
        --annotation_path DATA/rgb/ucf101/annotation/ucf101_01.json --checkpoint_path rgb_imagenet.ckpt

Outputs go to <save_dir>/<dataset>_<mode>/: config.json, train_log.txt, train_log.jsonl and
checkpoints/i3d-<epoch>_<steps>.ckpt (+ i3d-best.ckpt, best validation top-1). --resume continues that run.
"""
import sys
from pathlib import Path

import src.runtime  # noqa: F401  (first: oneDNN AVX2 cap before MindSpore loads)
from config import checkpoints_to_keep, parse_train_args, print_config, write_config
from src.data.i3d_dataset import I3DClipDataset
from src.data.pipeline import epoch_batches
from src.eco_lite.config import select_model
from src.i3d.checkpoint import CheckpointError
from src.i3d.finetune import build_optimizer, build_train_cell, build_training_network
from src.i3d.schedule import lr_at_epoch, lr_per_step
from src.runtime import init_context
from src.training import LoopSettings, TrainingError, fit


def main(argv=None):
    model, argv = select_model(sys.argv[1:] if argv is None else argv, "train")
    if model == "eco_lite":
        from src.eco_lite.train import main as train_eco_lite

        return train_eco_lite(argv)
    return train_i3d(argv)


def train_i3d(argv):
    args = parse_train_args(argv)
    rank, group_size = init_context(args.device_target, args.context, args.device_id, args.seed, args.distributed)
    run_dir = f"{args.save_dir.rstrip('/')}/{args.dataset}_{args.mode}"
    if rank == 0:
        print_config(args)

    train_source = I3DClipDataset(args.video_path, args.annotation_path, "training", args.mode,
                                  args.train_sample_duration, train=True, spatial_size=args.spatial_size,
                                  seed=args.seed, skip_missing=args.skip_missing)
    steps_per_epoch = len(train_source) // group_size // args.batch_size
    if steps_per_epoch == 0:
        sys.exit(f"error: {len(train_source)} training videos are fewer than one batch of {args.batch_size} "
                 f"per rank ({group_size} rank(s)); lower --batch_size")
    print(f"Found {len(train_source)} training videos; step size per epoch: {steps_per_epoch}", flush=True)

    def make_batches(epoch):
        return epoch_batches(train_source, args.batch_size, shuffle=True, num_workers=args.num_workers,
                             drop_remainder=True, num_shards=group_size, shard_id=rank, seed=args.seed, epoch=epoch)

    evaluate = None
    if not args.no_eval:
        from src.evaluation import evaluate_stream

        val_source = I3DClipDataset(args.video_path, args.annotation_path, "validation", args.mode,
                                    args.test_sample_duration, train=False, spatial_size=args.spatial_size,
                                    seed=args.seed, skip_missing=args.skip_missing)

        def evaluate(network):
            import mindspore as ms

            network.set_train(False)
            result = evaluate_stream(lambda clips: network(ms.Tensor(clips)).asnumpy(), val_source,
                                     args.batch_size, num_workers=args.num_workers)
            return {"top1": result.top1, "top5": result.top5, "mean_class": result.mean_class_accuracy}

    try:
        network, params = build_training_network(args.mode, args.num_classes, args.finetune_num_classes,
                                                  args.checkpoint_path, args.finetune_prefixes,
                                                  args.dropout_keep_prob, args.bn_momentum)
    except CheckpointError as error:
        sys.exit(f"error: {error}")
    schedule = dict(base_lr=args.lr, lr_de_rate=args.lr_de_rate, lr_de_epochs=args.lr_de_epochs,
                    has_back=args.has_back)
    optimizer = build_optimizer(args.optimizer, params, lr_per_step(args.mode, args.num_epochs, steps_per_epoch,
                                                                    **schedule),
                                args.momentum, args.weight_decay)
    train_cell = build_train_cell(network, optimizer, args.amp_level, args.device_target)
    if rank == 0:
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        write_config(args, f"{run_dir}/config.json")
    settings = LoopSettings(run_dir=run_dir, prefix="i3d", num_epochs=args.num_epochs,
                            checkpoint_frequency=args.checkpoint_frequency,
                            keep_checkpoints=checkpoints_to_keep(args.mode, args.checkpoints_num_keep),
                            resume=args.resume, rank=rank, progress=args.progress)
    try:
        state = fit(train_cell, network, make_batches, steps_per_epoch,
                    lambda epoch: lr_at_epoch(args.mode, epoch, **schedule), settings, evaluate)
    except TrainingError as error:
        sys.exit(f"error: {error}")
    if state["best_top1"] is not None:
        print(f"best val top1: {state['best_top1']:.4f} (epoch {state['best_epoch']})")
    print("Finished training.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
