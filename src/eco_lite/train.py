"""ECO-lite training, as the seed's train.py (spec B.6) on the shared loop (src/training.py); train.py dispatches here.

    python train.py --dataset ucf101 --train_list data/ucf101_rgb_train_split_1.txt \
        --val_list data/ucf101_rgb_val_split_1.txt --resume ms_model_kinetics_checkpoint0720.ckpt --epochs 60

Outputs: <save_dir>/<dataset>bestacc.ckpt (network weights of the best validation top-1) and the run folder
<save_dir>/ecolite_<dataset>/ with checkpoints/eco-<epoch>_<steps>.ckpt (network + optimizer, every epoch, the newest
checkpoints_num_keep kept), train_log.txt, train_log.jsonl, train_state.json and config.json.
--continue_training True continues that run from its newest checkpoint exactly as if it had not stopped.
"""
import sys
from pathlib import Path

import src.runtime  # noqa: F401  (first: oneDNN AVX2 cap before MindSpore loads)
from config import print_config, write_config
from src.data.annotations import AnnotationError
from src.data.frames import FrameFolderError
from src.eco_lite.config import fail, image_template, parse_args
from src.eco_lite.schedule import PlateauSchedule
from src.runtime import init_context

RUN_PREFIX = "eco"


def run_dir(args):
    return Path(args.save_dir) / f"ecolite_{args.dataset}"


def best_checkpoint_path(args):
    """The seed's name, <dataset>bestacc.ckpt, in --save_dir (the seed: the working directory)."""
    return Path(args.save_dir) / f"{args.dataset}bestacc.ckpt"


def segment_source(args, list_file, train):
    """The clips of a list file; a missing list, frame folder or bad line ends the run with a message."""
    from src.data.eco_dataset import ECOSegmentDataset

    try:
        return ECOSegmentDataset(list_file, args.num_segments, train=train, seed=args.seed,
                                 image_template=image_template(args), input_size=args.input_size)
    except (AnnotationError, FrameFolderError) as error:
        fail(str(error))


def build_network(args):
    """ECOLite with --resume's weights; a head for another class count stays fresh (fine-tuning)."""
    from src.eco_lite import CheckpointError, ECOLite, load_eco_checkpoint

    net = ECOLite(args.num_classes, args.num_segments, dropout_keep_prob=args.dropout)
    if not args.resume:
        print("=> Train from scratch", flush=True)
        return net
    try:
        load_eco_checkpoint(net, args.resume)
    except CheckpointError as error:
        fail(str(error))
    print(f"=> loaded {args.resume}", flush=True)
    return net


def build_train_step(net, args):
    """(train cell, optimizer): SGD over real parameter groups, mean softmax cross-entropy, clipping, rank averaging.

    The learning rate is the optimizer's single Parameter, which the plateau schedule sets between epochs.
    """
    from mindspore import nn

    from src.eco_lite import optim_groups
    from src.eco_lite.cells import TrainStep

    groups = optim_groups(net, partial_bn=not args.no_partialbn, weight_decay=args.weight_decay)
    print(f"optimizer groups: {len(groups[0]['params'])} weights with weight decay {args.weight_decay}, "
          f"{len(groups[1]['params'])} biases and BatchNorm scales without; partial BN "
          f"{'off' if args.no_partialbn else 'on (every BatchNorm but the first frozen)'}", flush=True)
    optimizer = nn.SGD(groups, learning_rate=args.lr, momentum=args.momentum, nesterov=args.nesterov)
    loss = nn.WithLossCell(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean"))
    return TrainStep(loss, optimizer, args.clip_gradient), optimizer


def set_learning_rate(optimizer):
    """apply(lr) for PlateauSchedule: a new value in the optimizer's Parameter, no recompilation."""
    import mindspore as ms

    def apply(lr):
        optimizer.learning_rate.set_data(ms.Tensor(lr, ms.float32))
    return apply


def make_evaluator(args, group_size):
    """evaluate(network) for the loop: every validation video on every rank, rank 0's metrics shared by all ranks.

    Data-parallel ranks hold the same weights but their own BatchNorm moving statistics, so their scores can differ
    slightly; taking rank 0's metrics everywhere keeps the learning-rate decision identical on every rank.
    """
    from src.eco_lite.evaluate import score

    source = segment_source(args, args.val_list, train=False)
    share = None
    if group_size > 1:
        from src.eco_lite.cells import RankZeroValues

        share = RankZeroValues()

    def evaluate(network):
        metrics = score(network, source, args)[1]
        return share(metrics) if share else metrics
    return evaluate


def main(argv=None):
    args = parse_args(argv, training=True)
    if args.evaluate:
        from src.eco_lite.evaluate import run_evaluation

        return run_evaluation(args)
    rank, group_size = init_context(args.device_target, args.context, args.device_id, args.seed,
                                    args.run_distribute)
    from src.data.pipeline import epoch_batches
    from src.training import LoopSettings, TrainingError, fit

    if rank == 0:
        print_config(args, "ECO-lite training configuration:")
    train_source = segment_source(args, args.train_list, train=True)
    steps_per_epoch = len(train_source) // group_size // args.batch_size
    if steps_per_epoch == 0:
        fail(f"{args.train_list}: {len(train_source)} training videos are fewer than one batch of {args.batch_size} "
             f"per rank ({group_size} rank(s)); lower --batch_size")
    print(f"Found {len(train_source)} training videos; step size per epoch: {steps_per_epoch}", flush=True)

    def make_batches(epoch):
        return epoch_batches(train_source, args.batch_size, shuffle=True, num_workers=args.num_workers,
                             drop_remainder=True, num_shards=group_size, shard_id=rank, seed=args.seed, epoch=epoch)

    evaluate = make_evaluator(args, group_size)
    network = build_network(args)
    train_cell, optimizer = build_train_step(network, args)
    schedule = PlateauSchedule(args.lr, args.num_saturate, apply=set_learning_rate(optimizer))
    folder = run_dir(args)
    if rank == 0:
        folder.mkdir(parents=True, exist_ok=True)
        write_config(args, folder / "config.json")
    settings = LoopSettings(run_dir=folder, prefix=RUN_PREFIX, num_epochs=args.epochs, checkpoint_frequency=1,
                            keep_checkpoints=args.checkpoints_num_keep, resume=args.continue_training, rank=rank,
                            best_path=best_checkpoint_path(args), eval_frequency=args.eval_freq,
                            resume_flag="--continue_training True", progress=args.progress)
    try:
        state = fit(train_cell, network, make_batches, steps_per_epoch, schedule, settings, evaluate)
    except TrainingError as error:
        fail(str(error))
    if state["best_top1"] is not None:
        print(f"best val top1: {state['best_top1']:.4f} (epoch {state['best_epoch']}) -> "
              f"{best_checkpoint_path(args)}", flush=True)
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
