"""Options of every I3D entry point: one table of defaults, one parser per script, parse + validate.

Entry points and their builders: `train.py` (`train_parser`, `parse_train_args`), `preprocess.py` (the training
options, as in the original: `preprocess_parser`, `parse_preprocess_args`), `postprocess.py` (`postprocess_parser`,
`parse_postprocess_args`), `eval.py` (`eval_parser`, `parse_eval_args`),
`eval_onnx.py` (`eval_onnx_parser`, `parse_eval_onnx_args`) and `export.py` (`export_parser`, `parse_export_args`).
Flag names are the original's, so its README and shell-script command lines keep working, including the original's
`--flag=True/False` booleans, export's `--device` and the README's `--num_class`.

Defaults are what the original's *code* used where its README table disagrees (lr 0.01, lr_de_epochs 5,
checkpoints_num_keep 16, sink_mode True). Deliberate departures, all decided after parsing:
- eval's test_sample_duration is 64, not the original's 256, which looped most clips and disagreed with training,
  export and eval_onnx (docs/differences.md#i3d-eval-clip-length);
- eval's --backend (new, default auto) runs the checkpoints on ONNX Runtime on a CPU target when it is installed
  (docs/differences.md#eval-backend);
- device_target, when not given, is the accelerator this machine has (Ascend, else GPU, else CPU) instead of always
  Ascend; amp_level, when not given, is O3 on Ascend and O0 elsewhere; device_id falls back to env DEVICE_ID, then 0;
  device_num falls back to env RANK_SIZE, then 1 (the original: 8);
- class counts: the dataset implies 51 (hmdb51) or 101 (ucf101) classes, as the original forced, but when an annotation
  file lists a different number of labels (e.g. the built-in 6-class sample dataset) the file wins and a note is
  printed; a count given explicitly must match the file or parsing fails;
- a distributed run writes to ./output_distribute/ only when --save_dir is not given (the original always forced it);
- the openI/OBS flags are accepted so original command lines parse, but --openI=True is refused and the cloud flags are
  removed from the parsed options, so no code path can depend on them;
- flag abbreviations are off (explicit aliases instead), so a new flag can never make an old command ambiguous.
"""
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from src.cli import (BACKEND_HELP, BACKENDS, CONTEXT_MODES, DEVICE_TARGETS, Parser, add_bool_flag, add_choice_flag,
                     detect_device_target, env_int, non_negative_float, non_negative_int, note, number,
                     parse_fusion_weights, positive_float, positive_int, resolve_device, unit_fraction)

DATASET_NUM_CLASSES = {"hmdb51": 51, "ucf101": 101}
MODES = ("rgb", "flow")
TEST_MODES = ("rgb", "flow", "joint")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
AMP_LEVELS = ("O0", "O1", "O2", "O3")
FILE_FORMATS = ("MINDIR", "AIR", "ONNX")
FUSIONS = ("sum", "weighted", "softmax_avg")
ONNX_DEVICE_TARGETS = ("GPU", "CPU")
CLOUD_FLAGS = ("openI", "data_url", "train_url", "ckpt_url", "result_url")
# Flags of the original's train.py that parse but change nothing here, and why (printed when given, and in --help).
UNUSED_TRAIN_FLAGS = {
    "--start_epoch": "a run starts at epoch 0, or with --resume after the newest checkpoint of its run folder (the "
                     "original parsed this flag and ignored it too)",
    "--sink_mode": "the training loop feeds batches from its own threaded loader, so there is no dataset sink; "
                   "results do not depend on it",
    "--device_num": "the number of training processes is the launcher's (RANK_SIZE, msrun --worker_num)",
}


@dataclass(frozen=True)
class I3DDefaults:
    """Defaults shared by all entry points; None means "resolved after parsing" (see the module docstring)."""
    # data
    num_val_samples: int = 1
    spatial_size: int = 224
    train_sample_duration: int = 64
    test_sample_duration: int = 64
    batch_size: int = 8
    num_workers: int = 16
    skip_missing: bool = False
    # model
    num_classes: int = 400
    dropout_keep_prob: float = 0.5
    finetune_prefixes: str = "logits,Mixed_5"
    bn_momentum: float = 0.01
    # optimisation and learning-rate schedule (src/i3d/schedule.py)
    optimizer: str = "adam"
    lr: float = 0.01
    lr_de_rate: float = 0.5
    lr_de_epochs: int = 5
    momentum: float = 0.9
    weight_decay: float = 1e-8
    has_back: bool = False
    start_epoch: int = 0
    num_epochs: int = 32
    # checkpoints and run control
    standalone_save_dir: str = "./output_standalone/"
    distributed_save_dir: str = "./output_distribute/"
    checkpoint_frequency: int = 1
    checkpoints_num_keep: int = 16
    log_interval: int = 0
    no_eval: bool = False
    sink_mode: bool = True
    distributed: bool = False
    resume: bool = False
    context: str = "gr"
    seed: int = 2022
    # evaluation
    num_clips: int = 1
    num_crops: int = 1
    fusion: str = "sum"
    fusion_weights: tuple = (1.0, 1.0)
    backend: str = "auto"
    # export
    file_name: str = "i3d_minddir"
    file_format: str = "MINDIR"
    export_num_classes: int = 51
    export_sample_duration: int = 64


DEFAULTS = I3DDefaults()
# eval_onnx.py: clip length and crop size default to the ONNX models' fixed input shape (None: read from it).
EVAL_ONNX_DEFAULTS = replace(DEFAULTS, num_workers=8, test_sample_duration=None, spatial_size=None)


# ---------------------------------------------------------------------------------------------- shared groups

def _new_parser(prog, description):
    return Parser(prog=prog, description=description)


def _add_mode(parser):
    add_choice_flag(parser, "--mode", choices=MODES, required=True,
                    help="input stream: rgb (3 channels) or flow (2 channels)")


def _add_dataset(parser, d):
    group = parser.add_argument_group("dataset")
    add_choice_flag(group, "--dataset", choices=tuple(DATASET_NUM_CLASSES), required=True,
                    help="dataset; implies 51 or 101 classes unless the annotation file lists another number of "
                         "labels")
    group.add_argument("--video_path", help="frame root <video_path>/<class>/<video>/ (rgb root in joint mode)")
    group.add_argument("--annotation_path", help="annotation JSON (rgb's in joint mode)")
    group.add_argument("--num_val_samples", type=positive_int, default=d.num_val_samples,
                       help="validation clips per video")
    group.add_argument("--num_workers", type=positive_int, default=d.num_workers, help="data-loading workers")
    add_bool_flag(group, "--skip_missing", d.skip_missing,
                  "skip (and name) videos whose frames are missing instead of failing")


def _add_input(parser, d):
    group = parser.add_argument_group("input")
    group.add_argument("--batch_size", type=positive_int, default=d.batch_size, help="clips per batch (per device)")
    group.add_argument("--spatial_size", type=positive_int, default=d.spatial_size, help="crop height and width")
    return group


def _add_test_clip(group, d):
    group.add_argument("--test_sample_duration", type=positive_int, default=d.test_sample_duration,
                       help="frames per evaluation clip (the original's eval.py used 256, which looped most clips)")


def _add_model(parser, d, num_classes_default, num_classes_help):
    group = parser.add_argument_group("model")
    group.add_argument("--num_classes", "--num_class", dest="num_classes", type=positive_int,
                       default=num_classes_default, help=num_classes_help)
    group.add_argument("--dropout_keep_prob", type=unit_fraction, default=d.dropout_keep_prob,
                       help="dropout keep probability before the logits")


def _add_device(parser, targets=DEVICE_TARGETS, context=True):
    group = parser.add_argument_group("device")
    add_choice_flag(group, "--device_target", "--device", dest="device_target", choices=targets,
                    help="backend (--device is the original export's name); default: this machine's accelerator")
    group.add_argument("--device_id", type=non_negative_int,
                       help="device index; default: env DEVICE_ID, else 0")
    if context:
        add_choice_flag(group, "--context", choices=tuple(CONTEXT_MODES), default=DEFAULTS.context,
                        help="gr = GRAPH_MODE, py = PYNATIVE_MODE")


def _add_run(parser, d):
    group = parser.add_argument_group("run")
    group.add_argument("--seed", type=non_negative_int, default=d.seed,
                       help="seed for Python, NumPy, MindSpore and the data pipeline")
    group.add_argument("--no-progress", dest="progress", action="store_false",
                       help="no progress bar (also off when stderr is not a terminal)")


def _add_cloud(parser, *urls):
    group = parser.add_argument_group("openI (accepted for the original's command lines; not supported)")
    add_bool_flag(group, "--openI", False, "run on the openI cloud: refused, this port has no OBS syncing")
    for url in ("data_url",) + urls:
        group.add_argument(f"--{url}", help="openI only; ignored")


def _add_evaluation(parser, d, model_kind):
    group = parser.add_argument_group("evaluation")
    add_choice_flag(group, "--test_mode", choices=TEST_MODES, required=True,
                    help="score one stream, or both fused")
    group.add_argument("--rgb_path", default="", help=f"rgb {model_kind} (rgb and joint modes)")
    group.add_argument("--flow_path", default="", help=f"flow {model_kind} (flow and joint modes)")
    group.add_argument("--video_path_joint_flow", help="flow frame root (joint mode)")
    group.add_argument("--annotation_path_joint_flow",
                       help="flow annotation JSON (joint mode); default: --annotation_path, which the original's README "
                            "says is the same file")
    group.add_argument("--num_clips", type=positive_int, default=d.num_clips,
                       help="clips per video, spread over its length; scores are averaged")
    group.add_argument("--num_crops", type=int, choices=(1, 3), default=d.num_crops,
                       help="spatial crops per clip: 1 centre, or 3 along the long side; scores are averaged")
    add_choice_flag(group, "--fusion", choices=FUSIONS, default=d.fusion,
                    help="joint mode: sum of logits (the original), weighted sum of logits, or mean of softmaxes")
    group.add_argument("--fusion_weights", type=parse_fusion_weights, metavar="RGB,FLOW",
                       help=f"weights of --fusion=weighted (default: {','.join(map(str, d.fusion_weights))})")
    group.add_argument("--scores_path", help="also save the per-video scores here")
    group.add_argument("--report_dir", help="also write <stream>_confusion_matrix.png and "
                                            "<stream>_per_class_accuracy.csv here (needs matplotlib)")


# ----------------------------------------------------------------------------------------------- the parsers

def train_parser(prog="train.py", description="Fine-tune I3D on HMDB51 or UCF101 (one stream)."):
    d = DEFAULTS
    parser = _new_parser(prog, description)
    _add_mode(parser)
    _add_dataset(parser, d)
    clip = _add_input(parser, d)
    clip.add_argument("--train_sample_duration", type=positive_int, default=d.train_sample_duration,
                      help="frames per training clip")
    _add_test_clip(clip, d)
    _add_model(parser, d, d.num_classes, "head size of --checkpoint_path (400 for the Kinetics/ImageNet weights)")

    tune = parser.add_argument_group("fine-tuning")
    tune.add_argument("--checkpoint_path", default="", help="pretrained checkpoint; empty: train from scratch")
    tune.add_argument("--finetune_num_classes", type=positive_int,
                      help="classes of the trained head; default: 51 (hmdb51) or 101 (ucf101), or the annotation "
                           "file's label count when that differs")
    tune.add_argument("--finetune_prefixes", default=d.finetune_prefixes,
                      help="comma-separated prefixes of the layers to train (empty: all)")
    tune.add_argument("--bn_momentum", type=number(float, lambda v: 0 < v < 1, "in (0, 1)"), default=d.bn_momentum,
                      help="BatchNorm momentum, PyTorch convention (weight of the new batch): 0.01 as the published "
                           "I3D; 0.1 lets the statistics settle when training from scratch on little data")

    optim = parser.add_argument_group("optimiser and schedule")
    add_choice_flag(optim, "--optimizer", choices=OPTIMIZERS, default=d.optimizer, help="case-insensitive")
    optim.add_argument("--lr", type=positive_float, default=d.lr, help="initial learning rate")
    optim.add_argument("--lr_de_rate", type=unit_fraction, default=d.lr_de_rate, help="LR factor at each decay")
    optim.add_argument("--lr_de_epochs", type=positive_int, default=d.lr_de_epochs, help="epochs between decays")
    optim.add_argument("--momentum", type=non_negative_float, default=d.momentum, help="SGD momentum")
    optim.add_argument("--weight_decay", type=non_negative_float, default=d.weight_decay, help="weight decay")
    add_bool_flag(optim, "--has_back", d.has_back,
                  "flow schedule: start as if its warm restart had already happened")
    optim.add_argument("--start_epoch", type=non_negative_int, default=d.start_epoch,
                       help=f"not used: {UNUSED_TRAIN_FLAGS['--start_epoch']}")
    optim.add_argument("--num_epochs", type=positive_int, default=d.num_epochs, help="epochs to train")

    run = parser.add_argument_group("checkpoints and run control")
    run.add_argument("--save_dir",
                     help=f"output root; default: {d.standalone_save_dir}, or {d.distributed_save_dir} when "
                          f"distributed")
    run.add_argument("--checkpoint_frequency", type=positive_int, default=d.checkpoint_frequency,
                     help="epochs between checkpoints")
    run.add_argument("--checkpoints_num_keep", type=positive_int, default=d.checkpoints_num_keep,
                     help="checkpoints kept for flow; rgb keeps half (src/i3d/recipe.py, checkpoints_to_keep)")
    add_bool_flag(run, "--resume", d.resume, "continue from the newest checkpoint in --save_dir")
    run.add_argument("--log_interval", type=non_negative_int, default=d.log_interval,
                     help="also log the loss every n steps ('epoch: E step: S, loss is L'); 0: once per epoch, as the "
                          "original's sink mode")
    add_bool_flag(run, "--no_eval", d.no_eval, "skip evaluation on the validation subset")
    add_bool_flag(run, "--sink_mode", d.sink_mode, f"not used: {UNUSED_TRAIN_FLAGS['--sink_mode']}")
    add_bool_flag(run, "--distributed", d.distributed, "data-parallel training over RANK_SIZE processes")
    add_choice_flag(run, "--amp_level", choices=AMP_LEVELS,
                    help="mixed precision; default: O3 on Ascend, O0 elsewhere")
    run.add_argument("--device_num", type=positive_int,
                     help=f"preprocess.py: processes sharing the work (default: env RANK_SIZE, else 1); train.py: not "
                          f"used: {UNUSED_TRAIN_FLAGS['--device_num']}")
    _add_device(parser)
    _add_run(parser, d)
    _add_cloud(parser, "train_url")
    return parser


PREPROCESS_SAVE_DIR = "./preprocess_Result"
POSTPROCESS_RESULT_PATH = "./result_Files"


def preprocess_parser():
    """preprocess.py takes the training options, as in the original (whose launcher passes them); it uses the data,
    clip and batch options, --save_dir as its output root and --distributed with RANK_SIZE/RANK_ID to split the
    batches between processes."""
    parser = train_parser(prog="preprocess.py", description="Write the validation clips (evaluation transforms) and "
                                                            "their labels as .bin/.npy files for offline (Ascend 310 "
                                                            "or ONNX Runtime) inference.")
    helps = {"save_dir": f"output root: data/<dataset>/<mode>/*.bin and label/<dataset>/<mode>/ (default: "
                         f"{PREPROCESS_SAVE_DIR})",
             "test_sample_duration": "frames per clip; must match the exported model's --sample_duration",
             "spatial_size": "crop height and width; must match the exported model's --spatial_size",
             "batch_size": "clips per .bin file; must match the exported model's --batch_size",
             "distributed": "split the batches between RANK_SIZE processes (env RANK_ID = 0..RANK_SIZE-1)"}
    for action in parser._actions:
        if action.dest in helps:
            action.help = helps[action.dest]
    return parser


def postprocess_parser():
    """The original's flags (--dataset, --mode, --num-classes, --batch-size, --label-path), underscore spellings too."""
    parser = _new_parser("postprocess.py", "Top-1/top-5 accuracy of offline-inference results (ascend_310_infer's "
                                           "result_Files) against preprocess.py's labels.")
    add_choice_flag(parser, "--dataset", choices=tuple(DATASET_NUM_CLASSES),
                    help="dataset; checked against the preprocessing record")
    add_choice_flag(parser, "--mode", choices=MODES, help="stream; checked against the preprocessing record")
    parser.add_argument("--label-path", "--label_path", dest="label_path",
                        help=f"preprocess.py's label file (label_bs<mode><batch>.npy) or its folder; default: "
                             f"{PREPROCESS_SAVE_DIR}/label/<dataset>/<mode>")
    parser.add_argument("--result_path", "--result-path", dest="result_path", default=POSTPROCESS_RESULT_PATH,
                        help="folder of the app's result files <dataset>_bs<mode>_<i>_0.bin")
    parser.add_argument("--num-classes", "--num_classes", dest="num_classes", type=positive_int,
                        help="classes of the model's output; default: the annotation's label count")
    parser.add_argument("--batch-size", "--batch_size", dest="batch_size", type=positive_int,
                        help="clips per file; default (and checked against): the preprocessing record")
    parser.add_argument("--scores_path", help="also save the per-video scores (.npz, as eval.py --scores_path)")
    return parser


def eval_parser():
    d = DEFAULTS
    parser = _new_parser("eval.py", "Evaluate I3D checkpoints: rgb, flow, or both fused (joint).")
    _add_dataset(parser, d)
    _add_test_clip(_add_input(parser, d), d)
    _add_model(parser, d, None, "classes of the checkpoints; default: 51 (hmdb51) or 101 (ucf101), or the "
                                "annotation file's label count when that differs")
    _add_evaluation(parser, d, "checkpoint")
    _add_device(parser)
    add_choice_flag(parser.add_argument_group("backend"), "--backend", choices=BACKENDS, default=d.backend,
                    help=BACKEND_HELP)
    _add_run(parser, d)
    _add_cloud(parser, "ckpt_url", "result_url")
    return parser


def eval_onnx_parser():
    d = EVAL_ONNX_DEFAULTS
    parser = _new_parser("eval_onnx.py", "Evaluate exported I3D ONNX models with onnxruntime.")
    _add_dataset(parser, d)
    _add_test_clip(_add_input(parser, d), d)
    _add_evaluation(parser, d, "ONNX model")
    _add_device(parser, targets=ONNX_DEVICE_TARGETS, context=False)
    _add_run(parser, d)
    helps = {"test_sample_duration": "frames per clip; default: the models' fixed input shape (export.py's "
                                     "--sample_duration)",
             "spatial_size": "crop height and width; default: the models' fixed input shape"}
    for action in parser._actions:
        if action.dest in helps:
            action.help = helps[action.dest]
    return parser


def export_parser():
    d = DEFAULTS
    parser = _new_parser("export.py", "Export an I3D checkpoint to MINDIR, AIR or ONNX.")
    _add_mode(parser)
    parser.add_argument("--checkpoint_path", required=True, help="trained checkpoint to export")
    parser.add_argument("--file_name", default=d.file_name, help="output name; the format's suffix is appended")
    add_choice_flag(parser, "--file_format", choices=FILE_FORMATS, default=d.file_format, help="export format")
    _add_input(parser, d).add_argument(
        "--sample_duration", "--test_sample_duration", dest="sample_duration", type=positive_int,
        default=d.export_sample_duration, help="frames of the fixed input shape (the original README calls it "
                                               "test_sample_duration)")
    _add_model(parser, d, d.export_num_classes, "classes of the checkpoint's head (--num_class also works)")
    _add_device(parser, context=False)
    return parser


# ------------------------------------------------------------------------------------------------- validation

def _resolve_device(args, allowed=DEVICE_TARGETS):
    resolve_device(args, allowed)
    if hasattr(args, "amp_level") and args.amp_level is None:
        args.amp_level = "O3" if args.device_target == "Ascend" else "O0"
    if hasattr(args, "device_num") and args.device_num is None:
        args.device_num = env_int("RANK_SIZE", 1) or 1


def _drop_cloud_flags(parser, args):
    """Refuse openI; the original's OBS copying is out of scope, so its flags must not reach any code path."""
    if getattr(args, "openI", False):
        parser.error("--openI=True: openI/OBS syncing is not supported in this port; copy the data locally and pass "
                     "--video_path/--annotation_path (and the checkpoint paths) instead")
    for name in CLOUD_FLAGS:
        if name != "openI" and getattr(args, name, None) is not None:
            note(f"--{name} is an openI option and is ignored")
        if hasattr(args, name):
            delattr(args, name)


def _require_path(parser, args, flag, kind, needed_for=""):
    path = getattr(args, flag)
    if not path:
        parser.error(f"--{flag} is required{needed_for}")
    if kind == "folder" and not Path(path).is_dir():
        parser.error(f"--{flag}: folder not found: {path}")
    if kind == "file" and not Path(path).is_file():
        parser.error(f"--{flag}: file not found: {path}")


def _label_count(parser, flag, path):
    from src.data.annotations import AnnotationError, load_annotation

    try:
        return len(load_annotation(path)["labels"])
    except AnnotationError as error:
        parser.error(f"--{flag}: {error}")


def _resolve_class_count(parser, args, dest, annotation_flags):
    """Fill args.<dest> from the dataset unless given; the annotation files' label counts must agree with it.

    An explicit count that differs from a file is an error; the dataset-implied count yields to the files.
    """
    counts = {flag: (getattr(args, flag), _label_count(parser, flag, getattr(args, flag))) for flag in annotation_flags}
    given = getattr(args, dest)
    for flag, (path, labels) in counts.items():
        if given is not None and labels != given:
            parser.error(f"--{dest}={given} does not match --{flag}={path}, which lists {labels} labels")
    distinct = {labels for _, labels in counts.values()}
    if len(distinct) > 1:
        parser.error("the annotation files disagree on the number of labels: "
                     + ", ".join(f"{path} has {labels}" for path, labels in counts.values()))
    if given is None:
        implied = DATASET_NUM_CLASSES[args.dataset]
        labels = distinct.pop()
        if labels != implied:
            note(f"{args.dataset} has {implied} classes but the annotation file lists {labels} labels; "
                  f"using --{dest}={labels}")
        setattr(args, dest, labels)


def _check_finetune_prefixes(parser, text):
    """Each prefix must start a layer name (or name a unit inside one), so a typo cannot silently freeze everything."""
    from src.i3d.network import VALID_ENDPOINTS, parse_prefixes

    for prefix in parse_prefixes(text):
        if not any(name.startswith(prefix) or prefix.startswith(name + ".") for name in VALID_ENDPOINTS):
            parser.error(f"--finetune_prefixes: {prefix!r} is not a prefix of any layer name "
                         f"({', '.join(VALID_ENDPOINTS)})")


def _finish_train(parser, args):
    _drop_cloud_flags(parser, args)
    _resolve_device(args)
    _require_path(parser, args, "video_path", "folder")
    _require_path(parser, args, "annotation_path", "file")
    if args.checkpoint_path:
        _require_path(parser, args, "checkpoint_path", "file")
    _check_finetune_prefixes(parser, args.finetune_prefixes)
    if args.start_epoch >= args.num_epochs:
        parser.error(f"--start_epoch={args.start_epoch} must be below --num_epochs={args.num_epochs}")
    _resolve_class_count(parser, args, "finetune_num_classes", ["annotation_path"])
    if args.save_dir is None:
        args.save_dir = DEFAULTS.distributed_save_dir if args.distributed else DEFAULTS.standalone_save_dir
    return args


def _finish_evaluation(parser, args, allowed_targets, check_classes):
    _drop_cloud_flags(parser, args)
    _resolve_device(args, allowed_targets)
    joint = args.test_mode == "joint"
    streams = ("rgb", "flow") if joint else (args.test_mode,)
    for stream in streams:
        _require_path(parser, args, f"{stream}_path", "file", f" for --test_mode={args.test_mode}")
    _require_path(parser, args, "video_path", "folder")
    _require_path(parser, args, "annotation_path", "file")
    annotation_flags = ["annotation_path"]
    if joint:
        _require_path(parser, args, "video_path_joint_flow", "folder", " for --test_mode=joint")
        if not args.annotation_path_joint_flow:
            args.annotation_path_joint_flow = args.annotation_path
            note("--annotation_path_joint_flow not given; using --annotation_path for the flow stream")
        _require_path(parser, args, "annotation_path_joint_flow", "file")
        annotation_flags.append("annotation_path_joint_flow")
    if args.fusion_weights is None:
        args.fusion_weights = DEFAULTS.fusion_weights
    elif args.fusion != "weighted":
        parser.error(f"--fusion_weights applies to --fusion=weighted only (got --fusion={args.fusion})")
    if check_classes:
        _resolve_class_count(parser, args, "num_classes", annotation_flags)
    return args


def _finish_export(parser, args):
    _resolve_device(args)
    _require_path(parser, args, "checkpoint_path", "file")
    return args


def _finish_preprocess(parser, args):
    """The data checks of training; the checkpoint and schedule options parse but are not used. Adds rank_size and
    rank_id: this process writes batches rank_id, rank_id + rank_size, ..."""
    _drop_cloud_flags(parser, args)
    if args.device_target is None:
        args.device_target = detect_device_target()  # recorded only: preprocessing runs on the CPU
    _resolve_device(args)
    _require_path(parser, args, "video_path", "folder")
    _require_path(parser, args, "annotation_path", "file")
    _resolve_class_count(parser, args, "finetune_num_classes", ["annotation_path"])
    if args.save_dir is None:
        args.save_dir = PREPROCESS_SAVE_DIR
    args.rank_size = args.device_num if args.distributed else 1
    args.rank_id = 0
    if args.rank_size > 1:
        rank_id = env_int("RANK_ID", 0)
        if rank_id is None:
            parser.error(f"--distributed=True over {args.rank_size} processes needs env RANK_ID (this process's "
                         f"index, 0..{args.rank_size - 1}); scripts/run_preprocess.sh sets it")
        if rank_id >= args.rank_size:
            parser.error(f"env RANK_ID={rank_id} must be below the process count {args.rank_size}")
        args.rank_id = rank_id
    return args


def _finish_postprocess(parser, args):
    if args.label_path is None:
        if args.dataset is None or args.mode is None:
            parser.error("--label-path is required unless --dataset and --mode are given")
        args.label_path = f"{PREPROCESS_SAVE_DIR}/label/{args.dataset}/{args.mode}"
    if not Path(args.label_path).exists():
        parser.error(f"--label-path: not found: {args.label_path} (run preprocess.py first)")
    if not Path(args.result_path).is_dir():
        parser.error(f"--result_path: folder not found: {args.result_path} (run ascend_310_infer first)")
    return args


def parse_train_args(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = train_parser()
    args = _finish_train(parser, parser.parse_args(argv))
    given = {token.partition("=")[0] for token in argv if token.startswith("--")}
    for flag, reason in UNUSED_TRAIN_FLAGS.items():
        if flag in given:
            note(f"{flag} is not used: {reason}")
    return args


def parse_preprocess_args(argv=None):
    parser = preprocess_parser()
    return _finish_preprocess(parser, parser.parse_args(argv))


def parse_postprocess_args(argv=None):
    parser = postprocess_parser()
    return _finish_postprocess(parser, parser.parse_args(argv))


def parse_eval_args(argv=None):
    parser = eval_parser()
    return _finish_evaluation(parser, parser.parse_args(argv), DEVICE_TARGETS, check_classes=True)


def parse_eval_onnx_args(argv=None):
    """Like eval's, without a class count: an ONNX graph fixes it (and the batch size and clip length)."""
    parser = eval_onnx_parser()
    return _finish_evaluation(parser, parser.parse_args(argv), ONNX_DEVICE_TARGETS, check_classes=False)


def parse_export_args(argv=None):
    parser = export_parser()
    return _finish_export(parser, parser.parse_args(argv))

