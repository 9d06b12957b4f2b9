"""ECO-lite options: defaults from one YAML file, the original's flag names, validation.

train.py and eval.py take the original's default_config.yaml keys (src/eco_lite/default_config.yaml; --config_path
picks another file, whose keys override those defaults) and every key as a flag that overrides both. export.py has its own
flags, as in the original (docs/differences.md#eco-export-flags). Departures from the original's config
(docs/differences.md#eco-config-file, docs/differences.md#eco-device-id, docs/differences.md#eco-export-flags):
- booleans are real booleans: --flag True/False/1/0 or a bare --flag; an unknown word is an error, not True;
- --batch-size and --batch_size are one option (so are --workers and --num_workers, --dropout and --do);
- --device_id is used (the original read only env DEVICE_ID): the flag, else env DEVICE_ID, else the file's value,
  else 0; device_target "" means this machine's accelerator (Ascend, else GPU, else CPU);
- the ModelArts keys parse but enable_modelarts True is refused and none of them reaches the training code;
- unknown keys in a config file and fixed-value keys with another value (modality Flow, arch other than ECO, ...) are
  errors naming the file or flag, and so are missing list files, labels beyond num_classes and a missing checkpoint.
User errors print `error: ...` and exit with status 1.
"""
import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from src.cli import (BACKEND_HELP, BACKENDS, CONTEXT_MODES, DEVICE_TARGETS, Parser, at_least, choice, fail,
                     non_negative_float, non_negative_int, optional, parse_bool, positive_float, positive_int,
                     resolve_device, unit_fraction)

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_config.yaml")


@dataclass(frozen=True)
class DatasetInfo:
    num_classes: int
    frame_format: str  # appended to rgb_prefix: img_ + {:06d}.jpg -> img_000001.jpg


DATASETS = {"ucf101": DatasetInfo(101, "{:06d}.jpg"), "hmdb51": DatasetInfo(51, "{:05d}.jpg"),
            "kinetics": DatasetInfo(400, "{:04d}.jpg"), "something": DatasetInfo(174, "{:05d}.jpg")}
MODELARTS_KEYS = ("enable_modelarts", "data_url", "train_url", "checkpoint_url", "data_path", "output_path",
                  "load_path", "need_modelarts_dataset_unzip", "modelarts_dataset_unzip_name")
EXPORT_KEYS = ("checkpoint_path", "file_format", "file_name")
# The original's other spellings of two keys (files and command line).
KEY_ALIASES = {"batch-size": "batch_size", "workers": "num_workers"}
# Keys with the one value this port supports (the original accepted others and then failed or ignored them).
FIXED_VALUES = {"modality": "RGB", "arch": "ECO", "consensus_type": "identity", "loss_type": "nll"}
FILE_FORMATS = ("MINDIR", "ONNX", "AIR")


class ConfigError(Exception):
    """An option or config file that cannot be used; the message names it."""


# -------------------------------------------------------------------------------------------------- the file

def read_config_file(path):
    """{key: value} of the first YAML document, with the original's spellings (batch-size, workers) renamed."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"--config_path: file not found: {path}")
    try:
        with open(path) as handle:
            values = next(yaml.safe_load_all(handle), None) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected 'key: value' lines, got a {type(values).__name__}")
    renamed = {}
    for key, value in values.items():
        name = KEY_ALIASES.get(key, key)
        if name in renamed:
            raise ConfigError(f"{path}: '{key}' repeats another spelling of '{name}'")
        renamed[name] = value
    return renamed


def load_defaults(config_path=None):
    """The packaged defaults, overridden by `config_path`'s values; its unknown keys are errors."""
    defaults = read_config_file(DEFAULT_CONFIG_PATH)
    if config_path:
        for key, value in read_config_file(config_path).items():
            if key not in defaults:
                raise ConfigError(f"{config_path}: unknown key '{key}' (known: {', '.join(sorted(defaults))})")
            defaults[key] = value
    return defaults


def _text(text):
    return text


# key -> (type, help, extra flag spellings). Defaults come from the YAML file only.
OPTIONS = {
    "dataset": (choice(tuple(DATASETS)), f"{', '.join(DATASETS)}: the class count and frame-number format", ()),
    "modality": (_text, "input modality (RGB only)", ()),
    "train_list": (_text, "training list file: '<frame_dir> <n_frames> <label>' lines", ()),
    "val_list": (_text, "validation list file", ()),
    "rgb_prefix": (_text, "frame file prefix (img_ -> img_000001.jpg for ucf101)", ()),
    "num_segments": (positive_int, "frames per clip, one per segment", ()),
    "input_size": (at_least(32), "crop size; evaluation scales the short side to round(256 * input_size / 224)",
                   ()),
    "num_workers": (positive_int, "data-loading threads", ("--workers",)),
    "arch": (_text, "network (ECO only)", ()),
    "consensus_type": (_text, "segment consensus (identity only)", ()),
    "dropout": (unit_fraction, "keep probability before new_fc (the original's meaning: 0.7 drops 30%%)", ("--do",)),
    "num_classes": (optional(positive_int), "classes of the head; default: the dataset's", ()),
    "loss_type": (_text, "loss (nll only: softmax cross-entropy, batch mean)", ()),
    "epochs": (positive_int, "epochs to train", ()),
    "batch_size": (positive_int, "clips per batch and device", ("--batch-size",)),
    "lr": (positive_float, "starting learning rate", ()),
    "momentum": (non_negative_float, "SGD momentum", ()),
    "nesterov": (parse_bool, "Nesterov momentum", ()),
    "weight_decay": (non_negative_float, "weight decay of conv and fc weights (none on biases and BatchNorm)", ()),
    "no_partialbn": (parse_bool, "True: every BatchNorm trains; False: all but the first are frozen", ("--npb",)),
    "num_saturate": (positive_int, "evaluations without a better top-1 before the learning rate is divided by 10",
                     ()),
    "clip_gradient": (non_negative_float, "clip gradients to this global norm; 0: no clipping", ()),
    "eval_freq": (positive_int, "evaluate every n epochs, and after the last", ()),
    "log_interval": (non_negative_int, "log the loss every n steps ('epoch: E step: S, loss is L'); 0: once per "
                                       "epoch", ()),
    "run_distribute": (parse_bool, "data-parallel training over RANK_SIZE processes", ()),
    "resume": (_text, "checkpoint to start from (training; '' = from scratch) or to evaluate", ()),
    "continue_training": (parse_bool, "continue the run in <save_dir>/ecolite_<dataset>/ from its newest checkpoint",
                          ()),
    "save_dir": (_text, "where <dataset>bestacc.ckpt and the run folder ecolite_<dataset>/ go", ()),
    "checkpoints_num_keep": (positive_int, "periodic checkpoints kept", ()),
    "seed": (non_negative_int, "seed for Python, NumPy, MindSpore and the data pipeline", ()),
    "context": (choice(tuple(CONTEXT_MODES)), "gr (GRAPH_MODE) or py (PYNATIVE_MODE)", ()),
    "evaluate": (parse_bool, "train.py: evaluate --resume's checkpoint instead of training", ()),
    "run_online": (parse_bool, "eval.py: ECO's online mode over each validation video, frame by frame (a working "
                               "memory of num_segments frames, half replaced every num_segments frames; "
                               "src/eco_lite/online.py); the running prediction at the video's end is its score",
                   ()),
    "scores_path": (_text, "also save the per-video scores (.npz) here", ()),
    "backend": (choice(BACKENDS), "evaluation's " + BACKEND_HELP, ()),
    "device_target": (choice(DEVICE_TARGETS, allow_empty=True),
                      f"{', '.join(DEVICE_TARGETS)}; default: this machine's accelerator", ()),
    "device_id": (optional(non_negative_int), "device index; default: env DEVICE_ID, else the file's, else 0", ()),
    **{key: (parse_bool if key in ("enable_modelarts", "need_modelarts_dataset_unzip") else _text,
             "ModelArts only; not supported", ()) for key in MODELARTS_KEYS},
    **{key: (_text, "export.py's option (accepted for the original's files; not used here)", ()) for key in EXPORT_KEYS},
}
BOOLEAN_KEYS = frozenset(key for key, (kind, _, _) in OPTIONS.items() if kind is parse_bool)
NULLABLE_KEYS = frozenset({"num_classes", "device_target", "device_id"})


def _typed_defaults(defaults, source):
    """Run every default through its option's converter, so a file value is checked like a flag value."""
    typed = {}
    for key, value in defaults.items():
        if key not in OPTIONS:
            raise ConfigError(f"{source}: unknown key '{key}'")
        if isinstance(value, (list, dict)):
            raise ConfigError(f"{source}: '{key}' must be a single value, got {value!r}")
        if value is None and key not in NULLABLE_KEYS:
            raise ConfigError(f"{source}: '{key}' needs a value")
        convert = OPTIONS[key][0]
        try:
            typed[key] = None if value is None else convert(str(value))
        except argparse.ArgumentTypeError as error:
            raise ConfigError(f"{source}: '{key}: {value}': {error}") from None
    return typed


def build_parser(defaults, prog="train.py"):
    parser = Parser(prog=prog, description="ECO-lite training and evaluation (the original's default_config.yaml keys as flags).")
    parser.add_argument("--config_path", default=str(DEFAULT_CONFIG_PATH), help="YAML file of defaults")
    for key, (convert, help_text, aliases) in OPTIONS.items():
        flags = (f"--{key}",) + aliases
        if key in BOOLEAN_KEYS:
            parser.add_argument(*flags, dest=key, nargs="?", const=True, type=convert, metavar="BOOL",
                                help=help_text)
        else:
            parser.add_argument(*flags, dest=key, type=convert, help=help_text)
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bars (they show only on a terminal anyway)")
    parser.add_argument("--report_dir", help="evaluation: also write eco_lite_confusion_matrix.png and "
                                             "eco_lite_per_class_accuracy.csv here (not a config-file key)")
    parser.set_defaults(**{key: value for key, value in defaults.items() if key != "device_id"})
    return parser


# ------------------------------------------------------------------------------------------------ validation

def _list_labels(flag, path):
    from src.data.annotations import AnnotationError, read_list_file

    if not path:
        raise ConfigError(f"--{flag} is required")
    try:
        lines = read_list_file(path)
    except AnnotationError as error:
        raise ConfigError(f"--{flag}: {error}") from None
    if not lines:
        raise ConfigError(f"--{flag}: {path} lists no videos")
    return [label for _, _, label in lines]


def _check_labels(args, lists):
    for flag, labels in lists.items():
        bad = sorted({label for label in labels if not 0 <= label < args.num_classes})
        if bad:
            raise ConfigError(f"--{flag}: {getattr(args, flag)} has label(s) {', '.join(map(str, bad[:5]))} outside "
                              f"0..{args.num_classes - 1} ({args.dataset} has {args.num_classes} classes); pass "
                              f"--num_classes {max(labels) + 1} (or more) for a dataset with other labels")


def _finish(args, file_device_id, training):
    if args.enable_modelarts:
        raise ConfigError("enable_modelarts True: ModelArts/OBS syncing is not supported in this port; copy the "
                          "data and checkpoints locally and pass their paths")
    for key in MODELARTS_KEYS + EXPORT_KEYS:
        delattr(args, key)
    for key, value in FIXED_VALUES.items():
        if str(getattr(args, key)).lower() != value.lower():
            raise ConfigError(f"--{key} {getattr(args, key)!r}: only {value} is supported")
        setattr(args, key, value)
    resolve_device(args, fallback_device_id=file_device_id, target_flag="device_target")
    if args.num_classes is None:
        args.num_classes = DATASETS[args.dataset].num_classes
    lists = {"val_list": _list_labels("val_list", args.val_list)}
    if training:
        lists["train_list"] = _list_labels("train_list", args.train_list)
    _check_labels(args, lists)
    if training and args.run_online:
        raise ConfigError("--run_online True: the online mode is an evaluation; run it with eval.py (train.py "
                          "--evaluate True evaluates offline), or on a video or camera with timeline.py --online")
    if training and not args.evaluate and args.report_dir:
        raise ConfigError("--report_dir is for evaluation (eval.py, or train.py --evaluate True)")
    if not training or args.evaluate:
        if not args.resume:
            raise ConfigError("--resume: give the checkpoint to evaluate")
        if not Path(args.resume).is_file():
            raise ConfigError(f"--resume: checkpoint not found: {args.resume}")
    elif args.resume and not Path(args.resume).is_file():
        raise ConfigError(f"--resume: checkpoint not found: {args.resume} (pass --resume '' to train from scratch)")
    if args.momentum == 0 and args.nesterov:
        raise ConfigError("--nesterov True needs --momentum > 0")
    return args


def parse_args(argv=None, training=True):
    """Options of train.py (training=True) or eval.py, validated; raises SystemExit(1) with a message on errors."""
    argv = sys.argv[1:] if argv is None else list(argv)
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--config_path")
    config_path = pre.parse_known_args(argv)[0].config_path
    try:
        defaults = _typed_defaults(load_defaults(config_path), config_path or DEFAULT_CONFIG_PATH)
        args = build_parser(defaults, "train.py" if training else "eval.py").parse_args(argv)
        return _finish(args, defaults.get("device_id"), training)
    except ConfigError as error:
        fail(str(error))


def image_template(args):
    """Frame file names of the dataset: rgb_prefix + its number format (img_000001.jpg for ucf101)."""
    return args.rgb_prefix + DATASETS[args.dataset].frame_format


# ---------------------------------------------------------------------------------------------------- export

def export_parser():
    """The original's export.py flags (docs/differences.md#eco-export-flags), with defaults from the YAML file where it
    has the key."""
    d = _typed_defaults(load_defaults(), DEFAULT_CONFIG_PATH)
    parser = Parser(prog="export.py", description="Export an ECO-lite checkpoint to MINDIR, ONNX or AIR.")
    parser.add_argument("--dataset", type=choice(tuple(DATASETS)), default=d["dataset"],
                        help=f"{', '.join(DATASETS)}: the class count of the head")
    parser.add_argument("--modality", default=d["modality"], help="RGB only")
    parser.add_argument("--arch", default=d["arch"], help="ECO only")
    parser.add_argument("--num_segments", type=positive_int, default=d["num_segments"], help="frames per clip")
    parser.add_argument("--batch-size", "--batch_size", dest="batch_size", type=positive_int, default=32,
                        help="batch of the fixed input shape")
    parser.add_argument("--consensus_type", default=d["consensus_type"], help="identity only")
    parser.add_argument("--dropout", "--do", dest="dropout", type=unit_fraction, default=d["dropout"],
                        help="keep probability (no effect in the exported inference graph)")
    parser.add_argument("--no_partialbn", "--npb", dest="no_partialbn", nargs="?", const=True, type=parse_bool,
                        default=d["no_partialbn"], metavar="BOOL",
                        help="accepted for the original's command lines (no effect on inference)")
    parser.add_argument("--input_size", type=at_least(32), default=d["input_size"], help="input height and width")
    parser.add_argument("--num_classes", type=positive_int, help="classes of the head; default: the dataset's")
    parser.add_argument("--checkpoint_path", required=True, help="checkpoint to export, e.g. ucf101bestacc.ckpt")
    parser.add_argument("--file_name", default=d["file_name"], help="output name; the format's suffix is appended")
    parser.add_argument("--file_format", type=choice(FILE_FORMATS), default=d["file_format"],
                        help=f"{', '.join(FILE_FORMATS)} (AIR needs Ascend)")
    parser.add_argument("--device_target", type=choice(DEVICE_TARGETS),
                        help=f"{', '.join(DEVICE_TARGETS)}; default: this machine's accelerator")
    parser.add_argument("--device_id", type=non_negative_int, help="default: env DEVICE_ID, else 0")
    return parser


def parse_export_args(argv=None):
    try:
        args = export_parser().parse_args(argv)
        for key in ("modality", "arch", "consensus_type"):
            if getattr(args, key).lower() != FIXED_VALUES[key].lower():
                raise ConfigError(f"--{key} {getattr(args, key)!r}: only {FIXED_VALUES[key]} is supported")
        resolve_device(args, target_flag="device_target")
        if args.num_classes is None:
            args.num_classes = DATASETS[args.dataset].num_classes
        if not Path(args.checkpoint_path).is_file():
            raise ConfigError(f"--checkpoint_path: checkpoint not found: {args.checkpoint_path}")
        return args
    except ConfigError as error:
        fail(str(error))
