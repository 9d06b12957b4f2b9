"""The command-line layer of every entry point: argument types, the help formatter, a parser whose errors print
`error: ...` and exit with status 1, device resolution, printing and writing the options, and the choice of model.

Imports neither MindSpore nor model code, so the data tools use it too.
"""
import argparse
import glob
import json
import math
import os
import sys

from src.data.atomic import atomic_write_text

DEVICE_TARGETS = ("CPU", "GPU", "Ascend")
CONTEXT_MODES = {"gr": "GRAPH_MODE", "py": "PYNATIVE_MODE"}
TRUE_WORDS = ("true", "1")
FALSE_WORDS = ("false", "0")
EMPTY_WORDS = ("", "None", "null")
MODELS = ("i3d", "eco_lite")
# Inference backends of the entry points that run a checkpoint (src/predictors.py resolves them).
BACKENDS = ("auto", "mindspore", "onnxruntime")
BACKEND_HELP = ("inference backend: auto = onnxruntime when it is installed and the device target is CPU (about "
                "twice MindSpore's speed there; the checkpoint is exported once into a cache folder), else mindspore")

# Which model an entry point runs when --model is not given: a flag that only ECO-lite's entry points have selects
# ECO-lite; everything else is I3D, whose original command lines never carry them. export.py's --dataset belongs
# here because I3D's export takes --mode instead.
ECO_ONLY_FLAGS = frozenset({"--arch", "--modality", "--train_list", "--val_list", "--num_segments", "--config_path",
                            "--evaluate", "--no_partialbn", "--npb", "--consensus_type", "--num_saturate",
                            "--rgb_prefix", "--run_distribute", "--continue_training", "--batch-size", "--epochs",
                            "--nesterov", "--dropout", "--do", "--input_size", "--clip_gradient", "--run_online"})
ECO_ONLY_FLAGS_BY_ENTRY = {"train": ECO_ONLY_FLAGS, "eval": ECO_ONLY_FLAGS, "export": ECO_ONLY_FLAGS | {"--dataset"}}


def fail(message):
    """Report a user error without a traceback: `error: ...` on stderr, exit status 1."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def note(message):
    print(f"note: {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------- argument types

def parse_bool(text):
    """'True'/'true'/'1' -> True, 'False'/'false'/'0' -> False; anything else is an error (the original's boolean
    flags read 'False' as true)."""
    word = str(text).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean {text!r}: use True/False (or 1/0), or the bare flag for True")


def add_bool_flag(group, flag, default, help_text, aliases=(), **kwargs):
    """A boolean that also takes the original's `--flag=True/False` form; a bare `--flag` means True."""
    group.add_argument(flag, *aliases, nargs="?", const=True, default=default, type=parse_bool, metavar="BOOL",
                       help=help_text, **kwargs)


def choice(choices, allow_empty=False):
    """A case-insensitive choice converted to its canonical spelling ('--optimizer=SGD' becomes 'sgd'); with
    allow_empty, '', None and null mean "not set"."""
    canonical = {option.lower(): option for option in choices}

    def convert(text):
        if allow_empty and text.strip() in EMPTY_WORDS:
            return None
        try:
            return canonical[text.strip().lower()]
        except KeyError:
            raise argparse.ArgumentTypeError(f"invalid choice {text!r} (choose from {', '.join(choices)})") from None
    return convert


def add_choice_flag(group, *flags, choices, **kwargs):
    group.add_argument(*flags, type=choice(choices), metavar="{" + ",".join(choices) + "}", **kwargs)


def number(kind, check, requirement):
    """A converter to int or float that must satisfy `check` (described by `requirement` in the error)."""
    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if not check(value):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text}")
        return value
    return convert


positive_int = number(int, lambda v: v > 0, "a positive integer")
non_negative_int = number(int, lambda v: v >= 0, "an integer >= 0")
positive_float = number(float, lambda v: math.isfinite(v) and v > 0, "a positive number")
non_negative_float = number(float, lambda v: math.isfinite(v) and v >= 0, "a number >= 0")
unit_fraction = number(float, lambda v: 0 < v <= 1, "in (0, 1]")


def at_least(minimum):
    return number(int, lambda v: v >= minimum, f"at least {minimum}")


def optional(convert):
    """`convert`, with '', None and null meaning "not set" (None)."""
    def convert_optional(text):
        return None if text.strip() in EMPTY_WORDS else convert(text)
    return convert_optional


def parse_fusion_weights(text):
    """'1,1.5' -> (1.0, 1.5): the rgb and flow weights of --fusion=weighted."""
    parts = [part.strip() for part in text.split(",")]
    try:
        weights = tuple(float(part) for part in parts)
    except ValueError:
        weights = ()
    if len(weights) != 2 or not all(math.isfinite(w) and w >= 0 for w in weights) or not any(weights):
        raise argparse.ArgumentTypeError(
            f"expected two non-negative numbers 'RGB,FLOW', not both 0 (e.g. '1,1.5'), got {text!r}")
    return weights


# ---------------------------------------------------------------------------------------------------- the parser

class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's line breaks, and shows a default only where there is one to show (not for required,
    resolved-later or switch flags)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.option_strings and action.nargs != 0 and not action.required \
                and action.default not in (None, "", argparse.SUPPRESS):
            text += " (default: %(default)s)"
        return text


class Parser(argparse.ArgumentParser):
    """argparse with every entry point's conventions: no abbreviations (a new flag can never make an old command
    ambiguous), the help formatter above, and errors as `error: ...` with exit status 1."""

    def __init__(self, prog=None, description=None, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(prog=prog, description=description, allow_abbrev=False, **kwargs)

    def error(self, message):
        self.print_usage(sys.stderr)
        fail(message)


# ------------------------------------------------------------------------------------------------------ devices

def detect_device_target(allowed=DEVICE_TARGETS):
    """The accelerator this machine has, from its device files: Ascend, else GPU, else CPU."""
    if "Ascend" in allowed and glob.glob("/dev/davinci[0-9]*"):
        return "Ascend"
    if "GPU" in allowed and (os.path.exists("/dev/nvidia0") or os.path.exists("/dev/nvidiactl")):
        return "GPU"
    return "CPU"


def env_int(name, minimum):
    """An integer environment variable (None when unset or empty); a bad value ends the run with a message."""
    text = os.environ.get(name)
    if text is None or not text.strip():
        return None
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        fail(f"environment variable {name}={text!r} must be an integer >= {minimum}")
    return value


def resolve_device(args, allowed=DEVICE_TARGETS, fallback_device_id=None, target_flag="--device_target"):
    """Fill args.device_target (this machine's accelerator) and args.device_id (env DEVICE_ID, else
    `fallback_device_id`, else 0) when not given."""
    if args.device_target is None:
        args.device_target = detect_device_target(allowed)
        note(f"{target_flag} not given; using {args.device_target}")
    if args.device_id is None:
        env_id = env_int("DEVICE_ID", 0)
        args.device_id = env_id if env_id is not None else (fallback_device_id or 0)


# -------------------------------------------------------------------------------------------------- the options

def print_config(args, title="Training configuration:"):
    """The original's banner: one right-aligned line per option, so logs show exactly what ran."""
    print("#" * 60)
    print(title)
    for key, value in vars(args).items():
        print("  {:>20} {}".format(key, value))
    print("#" * 60, flush=True)


def write_config(options, path):
    """All options (a dict) as JSON (sorted keys, as the original's config.json), written atomically."""
    atomic_write_text(path, json.dumps(options, indent=4, sort_keys=True, default=str) + "\n")


def select_model(argv, entry):
    """(model, argv without --model) for train.py, eval.py or export.py (`entry`: 'train', 'eval' or 'export').

    An explicit `--model i3d|eco_lite` wins; otherwise a flag of ECO_ONLY_FLAGS_BY_ENTRY[entry] means ECO-lite and
    everything else stays I3D.
    """
    argv, rest, model = list(argv), [], None
    index = 0
    while index < len(argv):
        token = argv[index]
        if token == "--model":
            if index + 1 == len(argv):
                fail(f"--model needs a value: {' or '.join(MODELS)}")
            model, index = argv[index + 1], index + 2
            continue
        if token.startswith("--model="):
            model = token.partition("=")[2]
        else:
            rest.append(token)
        index += 1
    if model is not None:
        if model not in MODELS:
            fail(f"--model {model!r}: choose {' or '.join(MODELS)}")
        return model, rest
    eco_flags = ECO_ONLY_FLAGS_BY_ENTRY[entry]
    chosen = any(token.partition("=")[0] in eco_flags for token in rest if token.startswith("--"))
    return ("eco_lite" if chosen else "i3d"), rest
