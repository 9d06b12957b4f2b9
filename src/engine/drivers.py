"""One driver per stage, for every model: training, evaluation and export.

A recipe (src/i3d/recipe.py, src/eco_lite/recipe.py) holds a model's facts and its parsed options; the drivers do
everything else the same way for both: the device, data-parallel ranks, the train step, the loop, scoring, fusion,
score files, reports and the export file. User errors end in one `error: ...` line and exit status 1.
"""
import sys
import time
from pathlib import Path

from src.cli import fail, print_config
from src.data.atomic import describe_os_error
from src.data.locking import FolderLockedError
from src.data.pipeline import epoch_batches
from src.engine.checkpoint_io import CheckpointError
from src.engine.exporting import ExportError, export_network
from src.engine.loop import RunExistsError, TrainingError, fit
from src.engine.predictor import mindspore_predictor
from src.evaluation import EVAL_ERRORS, evaluate_joint, evaluate_stream, save_scores, scores_paths, write_report
from src.predictors import ModelError, make_predictor as network_predictor, resolve_backend
from src.runtime import init_context

# Errors of the user's files or options: reported as one line, never a traceback.
USER_ERRORS = (CheckpointError, ModelError) + EVAL_ERRORS
# Options of either model that a resumed training may change: they do not change the trained weights (where the data
# lives, how it is loaded and shown, how many epochs to train in all, what is kept and reported).
RESULT_NEUTRAL_OPTIONS = frozenset({
    "video_path", "annotation_path", "train_list", "val_list", "config_path", "num_workers", "progress",
    "log_interval", "num_epochs", "epochs", "resume", "continue_training", "save_dir", "checkpoints_num_keep",
    "device_id", "report_dir", "scores_path", "openI", "data_url", "train_url", "sink_mode", "start_epoch", "backend"})
EXPORT_SUFFIXES = {"MINDIR": ".mindir", "ONNX": ".onnx", "AIR": ".air"}


def _progress(args):
    return args.progress and sys.stderr.isatty()


# ------------------------------------------------------------------------------------------------------ training

def make_evaluator(recipe, group_size):
    """evaluate(network) for the loop, or None: every validation video on every rank, rank 0's metrics shared by all.

    Data-parallel ranks hold the same weights but their own BatchNorm moving statistics, so their scores can differ
    slightly; taking rank 0's metrics everywhere keeps decisions that depend on them (the best checkpoint, a plateau
    schedule) identical on every rank.
    """
    source = recipe.val_source()
    if source is None:
        return None
    args = recipe.args
    share = None
    if group_size > 1:
        from src.engine.parallel import RankZeroValues

        share = RankZeroValues()

    def evaluate(network):
        result = evaluate_stream(mindspore_predictor(network), source, args.batch_size, args.num_workers,
                                 progress=_progress(args))
        metrics = recipe.metrics(result)
        return share(metrics) if share else metrics
    return evaluate


def run_training(recipe):
    """Train the recipe's model to its last epoch (or continue its run); returns the exit status."""
    from src.engine.train_step import build_train_step

    args = recipe.args
    rank, group_size = init_context(args.device_target, args.context, args.device_id, args.seed, recipe.distributed)
    if rank == 0:
        print_config(args, recipe.config_title)
    try:
        train_source = recipe.train_source()
        steps_per_epoch = len(train_source) // group_size // args.batch_size
        if steps_per_epoch == 0:
            fail(f"{len(train_source)} training videos are fewer than one batch of {args.batch_size} per rank "
                 f"({group_size} rank(s)); lower --batch_size")
        print(f"Found {len(train_source)} training videos; step size per epoch: {steps_per_epoch}", flush=True)
        evaluate = make_evaluator(recipe, group_size)
        network, params = recipe.build_network()
    except USER_ERRORS as error:
        fail(str(error))

    def make_batches(epoch):
        return epoch_batches(train_source, args.batch_size, shuffle=True, num_workers=args.num_workers,
                             drop_remainder=True, num_shards=group_size, shard_id=rank, seed=args.seed, epoch=epoch)

    optimizer, schedule = recipe.build_optimizer(network, params, steps_per_epoch)
    train_cell = build_train_step(network, optimizer, recipe.amp_level, recipe.clip_norm, args.device_target)
    settings = recipe.loop_settings(rank)
    settings.options, settings.neutral_options = vars(args), RESULT_NEUTRAL_OPTIONS
    try:
        state = fit(train_cell, network, make_batches, steps_per_epoch, schedule, settings, evaluate)
    except RunExistsError as error:
        fail(f"{error}; pass {recipe.resume_flag} to continue that run, or choose another --save_dir")
    except (TrainingError, FolderLockedError) + USER_ERRORS as error:
        fail(str(error))
    except OSError as error:
        fail(describe_os_error(error))
    recipe.training_done(state)
    return 0


# ---------------------------------------------------------------------------------------------------- evaluation

def recipe_predictor(recipe, stream, model_path, source, batch_size):
    """predict_batch for batches of `batch_size` clips: the recipe's network with the stream's checkpoint on --backend
    (src/predictors.py: ONNX Runtime by default on a CPU target); prints the backend used."""
    args = recipe.args
    net = recipe.eval_network(stream, model_path, source)
    predict, used = network_predictor(net, model_path, (batch_size, *recipe.eval_clip_shape(stream)), args.backend,
                                      args.device_target)
    print(f"backend: {used}", flush=True)
    return predict


def checkpoint_predictor(recipe):
    """make_predictor for run_evaluation: recipe_predictor at --batch_size."""
    def make_predictor(stream, model_path, source):
        return recipe_predictor(recipe, stream, model_path, source, recipe.args.batch_size), recipe.args.batch_size
    return make_predictor


def run_evaluation(recipe, make_predictor=None, joint_lines=None):
    """Score each of the recipe's streams, fuse two streams (I3D joint), print the original's lines, save the scores
    (--scores_path) and the per-stream report (--report_dir). Returns the exit status.

    make_predictor(stream, model_path, source) -> (predict_batch, batch_size) is the only backend-specific part:
    by default the recipe's network with a checkpoint on --backend; eval_onnx.py passes an onnxruntime session.
    """
    args = recipe.args
    try:
        if make_predictor is None:
            args.backend = resolve_backend(args.backend, args.device_target)  # a missing onnxruntime fails first
            init_context(args.device_target, args.context, args.device_id, args.seed)
            make_predictor = checkpoint_predictor(recipe)
        evaluate_streams(recipe, make_predictor, recipe.joint_lines if joint_lines is None else joint_lines)
    except USER_ERRORS as error:
        fail(str(error))
    return 0


def evaluate_streams(recipe, make_predictor, joint_lines):
    """{stream or 'joint': EvalResult}; see run_evaluation."""
    args = recipe.args
    start = time.time()
    results, class_names = {}, {}
    for stream in recipe.eval_streams():
        source = recipe.eval_source(stream)
        num_videos = len(set(getattr(source, "video_index", range(len(source)))))
        print(f"Found {num_videos} validation examples", flush=True)
        if len(source) != num_videos:
            print(f"{stream}: {len(source)} items (clips x crops) for {num_videos} videos, scores averaged per video",
                  flush=True)
        model_path = recipe.model_path(stream)
        print(f"checkpoint: {model_path}", flush=True)
        predict_batch, batch_size = make_predictor(stream, model_path, source)
        results[stream] = evaluate_stream(predict_batch, source, batch_size, args.num_workers, _progress(args))
        class_names[stream] = recipe.class_names(source)
        print("\n".join(recipe.result_lines(stream, results[stream])), flush=True)
    if len(results) == 2:
        recipe.check_same_classes(class_names)
        rgb, flow = results.values()
        class_names["joint"] = class_names["rgb"]
        joint = results["joint"] = evaluate_joint(rgb, flow, args.fusion, args.fusion_weights, args.skip_missing)
        print(f"joint fusion: {args.fusion}" + (f" {args.fusion_weights}" if args.fusion == "weighted" else "")
              + f" over {len(joint.keys)} videos", flush=True)
        print("\n".join(joint.lines("joint")), flush=True)
        values = {"rgb": rgb.top1, "flow": flow.top1, "joint": joint.top1}
        for line in joint_lines:
            print(line.format(**values), flush=True)
    if args.scores_path:
        for name, path in scores_paths(args.scores_path, tuple(results)).items():
            save_scores(path, results[name], class_names[name])
            print(f"{name} scores saved to {path}", flush=True)
    if args.report_dir:
        for name, result in results.items():
            figure, table = write_report(args.report_dir, name, result, class_names[name])
            print(f"{name} report: {figure}, {table}", flush=True)
    print(f"total_time: {time.time() - start:.1f} s", flush=True)
    return results


# -------------------------------------------------------------------------------------------------------- export

def export_path(file_name, file_format):
    """MindSpore's naming: the format's suffix is appended unless the name already ends with it."""
    suffix = EXPORT_SUFFIXES[file_format]
    return Path(file_name if file_name.endswith(suffix) else file_name + suffix)


def run_export(recipe):
    """Export the recipe's checkpoint with its fixed input shape; returns the exit status."""
    args = recipe.args
    if args.file_format == "AIR" and args.device_target != "Ascend":
        fail(f"MindSpore writes AIR files only on Ascend, and this export runs on {args.device_target}; use "
             "--file_format=MINDIR (MindSpore and Ascend 310 inference) or --file_format=ONNX (onnxruntime)")
    init_context(args.device_target, "gr", args.device_id)
    import mindspore as ms
    import numpy as np

    try:
        net = recipe.export_network()
    except CheckpointError as error:
        fail(str(error))
    net.set_train(False)
    shape = recipe.export_input_shape()
    target = export_path(args.file_name, args.file_format)
    print("Start export", flush=True)
    try:
        export_network(net, ms.Tensor(np.ones(shape, np.float32)), target, args.file_format)
    except ExportError as error:
        fail(str(error))
    except OSError as error:
        fail(describe_os_error(error))
    print("Finish export", flush=True)
    print(recipe.exported_line(target, shape), flush=True)
    return 0
