"""Parameters and FLOPs per clip of I3D (rgb, flow) and ECO-lite at given input sizes, as a table.

    python -m src.tools.model_report [--model i3d|eco_lite|all] [--mode rgb|flow] [--input 64x224 ...]
        [--num_classes N]

--input is TxS (or TxHxW): T frames per clip (I3D) or segments (ECO-lite), S the crop side. Defaults: I3D 64x224 (the
published evaluation clip), ECO-lite 4x224 (its default 4 segments); classes 400 for I3D, 101 for ECO-lite.
Parameters are counted on the built network (trainable; total adds the BatchNorm moving statistics). FLOPs are
counted analytically from each Conv/Dense cell's kernel, channels, stride and padding and the shape reaching it:
MACs = K * Cin/groups * Cout * output positions (K: kernel volume; a Dense is one position), summed over every
convolution and dense layer of one clip, and GFLOPs = 2 * GMACs (one multiply and one add). Pooling, BatchNorm, ReLU
and bias additions are not counted (under 1 % here). Every Conv/Dense cell of the network must be counted exactly
once, or the tool fails, so a changed network cannot be reported wrongly without notice.
"""
import argparse
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import src.runtime  # noqa: E402,F401  (first: caps oneDNN at AVX2 before MindSpore loads)

from src.cli import Parser  # noqa: E402

MODELS = ("i3d", "eco_lite")
DEFAULT_INPUT = {"i3d": "64x224", "eco_lite": "4x224"}
DEFAULT_CLASSES = {"i3d": 400, "eco_lite": 101}


@dataclass(frozen=True)
class Row:
    model: str
    input_shape: str
    trainable: int
    total: int
    macs: int

    @property
    def gflops(self):
        return 2 * self.macs / 1e9


def parse_input(text):
    """'64x224' -> (64, 224, 224); '16x112x128' -> (16, 112, 128)."""
    match = re.fullmatch(r"(\d+)x(\d+)(?:x(\d+))?", text.strip())
    if not match or not all(int(part) > 0 for part in match.groups() if part):
        raise argparse.ArgumentTypeError(f"expected FRAMESxSIZE or FRAMESxHEIGHTxWIDTH, e.g. 64x224, got {text!r}")
    frames, height, width = match.groups()
    return int(frames), int(height), int(width or height)


# --------------------------------------------------------------------------------------------- shape arithmetic

def _per_axis(value, axes):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * axes


def _pads(padding, axes):
    """(before, after) per axis from a Conv's `padding` (an int, or before/after pairs flattened)."""
    if isinstance(padding, int):
        return ((padding, padding),) * axes
    return tuple(zip(padding[0::2], padding[1::2]))


def output_size(cell, size):
    """Output spatial size of a Conv or pool cell for input `size` (one entry per spatial axis)."""
    axes = len(size)
    kernel, stride = _per_axis(cell.kernel_size, axes), _per_axis(cell.stride, axes)
    dilation = _per_axis(getattr(cell, "dilation", 1), axes)
    mode = cell.pad_mode.lower()
    if mode == "same":
        return tuple(math.ceil(s / st) for s, st in zip(size, stride))
    pads = _pads(cell.padding, axes) if mode == "pad" else ((0, 0),) * axes
    return tuple((s + before + after - d * (k - 1) - 1) // st + 1
                 for s, (before, after), k, st, d in zip(size, pads, kernel, stride, dilation))


class Counter:
    """Visits Conv/Dense cells with the size reaching them, summing multiply-accumulates."""

    def __init__(self, network):
        from mindspore import nn

        self.layer_types = (nn.Conv2d, nn.Conv3d, nn.Dense)
        self.expected = {id(cell): name for name, cell in network.cells_and_names()
                         if isinstance(cell, self.layer_types)}
        self.seen = set()
        self.macs = 0

    def conv(self, cell, size, repeat=1):
        """Count `cell` on `repeat` inputs of spatial `size`; returns its output size."""
        self._visit(cell)
        out = output_size(cell, size)
        kernel = math.prod(_per_axis(cell.kernel_size, len(size)))
        self.macs += repeat * kernel * cell.in_channels // cell.group * cell.out_channels * math.prod(out)
        return out

    def dense(self, cell):
        self._visit(cell)
        self.macs += cell.in_channels * cell.out_channels

    def _visit(self, cell):
        if id(cell) not in self.expected or id(cell) in self.seen:
            raise RuntimeError(f"model_report: a {type(cell).__name__} is not in the network or counted twice")
        self.seen.add(id(cell))

    def total(self):
        missed = [name for key, name in self.expected.items() if key not in self.seen]
        if missed:
            raise RuntimeError(f"model_report: {len(missed)} layer(s) not counted: {', '.join(missed[:5])}")
        return self.macs


# ------------------------------------------------------------------------------------------------- the models

def i3d_macs(net, frames, height, width):
    """MACs of InceptionI3D on one (C, frames, height, width) clip: its endpoints in order, then the head."""
    from src.i3d.network import HEAD_WINDOW, INCEPTION_UNITS, InceptionModule, Unit3D

    counter, size = Counter(net), (frames, height, width)
    for name in net.endpoints:
        layer = getattr(net, name)
        if isinstance(layer, Unit3D):
            size = counter.conv(layer.conv3d, size)
        elif isinstance(layer, InceptionModule):
            b0, b1a, b1b, b2a, b2b, b3b = (getattr(layer, unit).conv3d for unit in INCEPTION_UNITS)
            outputs = [counter.conv(b0, size), counter.conv(b1b, counter.conv(b1a, size)),
                       counter.conv(b2b, counter.conv(b2a, size)), counter.conv(b3b, output_size(layer.b3a, size))]
            if len(set(outputs)) != 1:
                raise RuntimeError(f"model_report: {name}'s branches disagree on their output size {outputs}")
            size = outputs[0]
        else:
            size = output_size(layer, size)
    if net.num_classes is not None:  # the head's 1x1x1 conv runs on the (2, 7, 7) average pool's positions
        counter.conv(net.logits.conv3d, tuple(s - min(w, s) + 1 for s, w in zip(size, HEAD_WINDOW)))
    return counter.total()


def _inception2d(counter, block, size, frames):
    branch = counter.conv(block.b1.conv2d, size, frames)
    for sequence in (block.b2, block.b3):
        out = size
        for unit in sequence:
            out = counter.conv(unit.conv2d, out, frames)
    pooled = output_size(block.avgpool, tuple(s + 2 for s in size))  # one zero row/column each side first
    counter.conv(block.b4.conv2d, pooled, frames)
    return branch


def eco_macs(net, segments, height, width):
    """MACs of ECOLite on one clip of `segments` frames: the 2-D trunk on every frame, the 3-D ResNet, the head."""
    base, counter = net.base_model, Counter(net)
    size = counter.conv(base.conv1.conv2d, (height, width), segments)
    size = output_size(base.maxpool1.pool, tuple(s + 1 for s in size))  # one zero row/column at the end first
    size = counter.conv(base.conv2.conv2d, size, segments)
    size = counter.conv(base.conv3.conv2d, size, segments)
    size = output_size(base.maxpool2.pool, tuple(s + 1 for s in size))
    size = _inception2d(counter, base.block3a, size, segments)
    size = _inception2d(counter, base.block3b, size, segments)
    size = counter.conv(base.conv5.conv2d, counter.conv(base.conv4.conv2d, size, segments), segments)
    x = (segments,) + size
    res3a = counter.conv(base.res3a_2_conv3d, x)
    x = counter.conv(base.res3b_2_conv3d, counter.conv(base.res3b_1_conv3d, res3a))
    for stage in ("res4", "res5"):
        a = counter.conv(getattr(base, f"{stage}a_2_conv3d"), counter.conv(getattr(base, f"{stage}a_1_conv3d"), x))
        if counter.conv(getattr(base, f"{stage}a_down_conv3d"), x) != a:
            raise RuntimeError(f"model_report: {stage}a's shortcut and main path disagree on their output size")
        x = counter.conv(getattr(base, f"{stage}b_2_conv3d"), counter.conv(getattr(base, f"{stage}b_1_conv3d"), a))
    counter.dense(net.new_fc)
    return counter.total()


# -------------------------------------------------------------------------------------------------- the report

def parameter_counts(net):
    """(trainable, total): total adds what is not trained (BatchNorm moving statistics)."""
    return (sum(param.size for param in net.trainable_params()),
            sum(param.size for param in net.get_parameters()))


def report_rows(models, modes, inputs, num_classes=None):
    """One Row per (model, stream, input size); each network is built once and measured at every size."""
    from src.eco_lite import ECOLite
    from src.i3d import InceptionI3D

    rows = []
    for model in models:
        classes = num_classes or DEFAULT_CLASSES[model]
        sizes = inputs or [parse_input(DEFAULT_INPUT[model])]
        if model == "i3d":
            for mode in modes:
                net = InceptionI3D(classes, mode)
                trainable, total = parameter_counts(net)
                rows += [Row(f"I3D {mode}, {classes} classes", f"{net.in_channels}x{t}x{h}x{w} (CxTxHxW)", trainable,
                             total, i3d_macs(net, t, h, w)) for t, h, w in sizes]
        else:
            for segments, h, w in sizes:  # the segment count is part of the network (its input channels)
                net = ECOLite(classes, segments)
                trainable, total = parameter_counts(net)
                rows.append(Row(f"ECO-lite, {classes} classes", f"{segments}x3x{h}x{w} (TxCxHxW)", trainable, total,
                                eco_macs(net, segments, h, w)))
    return rows


def format_table(rows):
    """A Markdown table: model, input, parameters, GMACs and GFLOPs (= 2 x MACs) per clip."""
    header = ("model", "input (one clip)", "trainable params", "total params", "GMACs / clip", "GFLOPs / clip")
    lines = [header, ("---",) * len(header)]
    lines += [(row.model, row.input_shape, f"{row.trainable:,}", f"{row.total:,}", f"{row.macs / 1e9:.2f}",
               f"{row.gflops:.2f}") for row in rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def parse_args(argv=None):
    parser = Parser(prog="python -m src.tools.model_report", description=__doc__)
    parser.add_argument("--model", choices=MODELS + ("all",), default="all", help="network(s) to report")
    parser.add_argument("--mode", choices=("rgb", "flow"), help="I3D stream (default: both)")
    parser.add_argument("--input", type=parse_input, nargs="+", metavar="TxS",
                        help="clip sizes, e.g. 64x224 16x112 (default: I3D 64x224, ECO-lite 4x224)")
    parser.add_argument("--num_classes", type=int, help="head size (default: I3D 400, ECO-lite 101)")
    args = parser.parse_args(argv)
    if args.num_classes is not None and args.num_classes < 1:
        parser.error(f"--num_classes must be positive, got {args.num_classes}")
    return args


def main(argv=None):
    args = parse_args(argv)
    models = MODELS if args.model == "all" else (args.model,)
    modes = (args.mode,) if args.mode else ("rgb", "flow")
    print(format_table(report_rows(models, modes, args.input, args.num_classes)))
    print("\nMACs: multiply-accumulates of every Conv/Dense layer; GFLOPs = 2 x GMACs. Pooling, BatchNorm, ReLU and "
          "biases are not counted.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
