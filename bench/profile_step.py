"""Where the time of one training step goes, and how far its speed is from this machine's limit.

    .venv/bin/python bench/profile_step.py --frames 64 --crop 224 [--model i3d_rgb|i3d_flow|eco_lite] [--steps 1]

Builds the train step as bench/train_step.py does (GRAPH mode, batch 1; --frames is ECO-lite's segment count), runs
one warm-up step, then profiles `steps` steps with MindSpore's profiler and sums its per-operator CPU times by
operator type and by kind (convolution forward, its two gradients, BatchNorm, pooling, optimizer, ...; the compiled
kernels of src/ops are told apart by their cell). Each convolution gradient does about the forward pass's convolution
FLOPs, which gives each kind's GFLOP/s. The machine's limit
is measured in the same run as the GFLOP/s of a large float32 matrix product in NumPy (OpenBLAS, all cores), the best
case for dense arithmetic here. Prints one JSON line.
"""
import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import src.runtime  # noqa: E402,F401  (first: oneDNN AVX2 cap before MindSpore loads)
from bench.common import emit  # noqa: E402
from bench.train_step import TRAINING_FLOPS_PER_FORWARD, build, forward_gflops, input_shape  # noqa: E402

KINDS = (  # (kind, operator-type prefixes), the longest match wins
    ("convolution forward", ("Conv3D", "Conv2D", "Custom: convolution forward")),
    ("convolution gradients (compiled, input and weights)", ("Custom: convolution gradients",)),
    ("convolution gradient (input)", ("Conv3DBackpropInput", "Conv2DBackpropInput")),
    ("convolution gradient (weights)", ("Conv3DBackpropFilter", "Conv2DBackpropFilter")),
    ("BatchNorm (forward and gradient)", ("BatchNorm",)),
    ("pooling (forward and gradient)", ("MaxPool", "AvgPool", "Custom: max-pool gradient")),
    ("ReLU (forward and gradient)", ("ReLU", "ReluGrad")),
    ("optimizer (Adam, SGD, momentum, assignments)",
     ("Adam", "SGD", "ApplyMomentum", "ApplyGradientDescent", "Assign", "Custom: SGD step")),
)


def kind_of(op_type):
    matches = [(len(prefix), kind) for kind, prefixes in KINDS for prefix in prefixes if op_type.startswith(prefix)]
    return max(matches)[1] if matches else "other (concat, gradient sums, loss, ...)"


def matmul_gflops(size=2048, repeats=5):
    """GFLOP/s of a float32 size x size matrix product (2 * size^3 flops), best of `repeats`."""
    import numpy as np

    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    a @ a
    best = min(_timed(lambda: a @ a) for _ in range(repeats))
    return round(2 * size ** 3 / best / 1e9, 1)


def _timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def custom_label(full_name):
    """What a compiled kernel of src/ops is, from the cell scope in its full operator name."""
    if "CompiledConv" in full_name:
        return "Custom: convolution gradients" if "Grad_" in full_name else "Custom: convolution forward"
    if "MomentumSGD" in full_name:
        return "Custom: SGD step"
    return "Custom: max-pool gradient" if "MaxPool" in full_name else "Custom"


def op_times(profile_dir):
    """{op type: total ms} from the profiler's CPU details; compiled kernels (op type Custom) are told apart by
    what they compute."""
    found = list(Path(profile_dir).rglob("cpu_op_detail_info_*.csv"))
    if not found:
        raise SystemExit(f"{profile_dir}: the profiler wrote no cpu_op_detail_info_*.csv")
    totals = {}
    with open(found[0], newline="") as handle:
        for row in csv.DictReader(handle):
            label = custom_label(row["full_op_name"]) if row["op_type"] == "Custom" else row["op_type"]
            totals[label] = totals.get(label, 0.0) + float(row["op_total_time(ms)"])
    return totals


# (kind, how many forward passes' FLOPs it does)
CONVOLUTION_KINDS = (("convolution forward", 1), ("convolution gradient (input)", 1),
                     ("convolution gradient (weights)", 1), ("convolution gradients (compiled, input and weights)", 2))


def convolution_speeds(by_kind, gflops):
    """GFLOP/s of each convolution kind. With the compiled kernels MindSpore's gradient kernels run only the head's
    1x1x1 convolution, which would read as an absurd speed: they are left out then."""
    compiled = bool(by_kind.get(CONVOLUTION_KINDS[-1][0]))
    kinds = [CONVOLUTION_KINDS[0], CONVOLUTION_KINDS[-1]] if compiled else CONVOLUTION_KINDS[:3]
    return {kind: round(passes * gflops / (by_kind[kind] / 1000), 1) for kind, passes in kinds if by_kind.get(kind)}


def measure(model, frames, crop, steps):
    import mindspore as ms
    import numpy as np
    from mindspore import Profiler

    ms.set_device("CPU")
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_seed(0)
    net, cell = build(model, frames, "O0")
    net.set_train(True)
    rng = np.random.default_rng(0)
    clips = ms.Tensor(rng.uniform(-1, 1, (1,) + input_shape(model, frames, crop)).astype(np.float32))
    labels = ms.Tensor(np.array([1], np.int32))
    cell(clips, labels).asnumpy()
    unprofiled = _timed(lambda: cell(clips, labels).asnumpy())
    with tempfile.TemporaryDirectory() as output:
        profiler = Profiler(output_path=output)
        started = time.perf_counter()
        for _ in range(steps):
            cell(clips, labels).asnumpy()
        profiled = (time.perf_counter() - started) / steps
        profiler.stop()
        profiler.analyse()
        per_op = {op: total / steps for op, total in op_times(output).items()}
    by_kind = {}
    for op, ms_per_step in per_op.items():
        by_kind[kind_of(op)] = by_kind.get(kind_of(op), 0.0) + ms_per_step
    operators_ms = sum(per_op.values())
    gflops = forward_gflops(model, net, frames, crop)
    achieved = TRAINING_FLOPS_PER_FORWARD * gflops / unprofiled
    peak = matmul_gflops()
    return {
        "model": model, "frames": frames, "crop": crop, "batch": 1, "profiled_steps": steps,
        "step_s": round(unprofiled, 3), "profiled_step_s": round(profiled, 3),
        "operators_ms_per_step": round(operators_ms, 1),
        "outside_operators_share": round(max(0.0, 1 - operators_ms / 1000 / profiled), 4),
        "by_kind_ms": {kind: round(value, 1) for kind, value in sorted(by_kind.items(), key=lambda kv: -kv[1])},
        "top_ops_ms": {op: round(value, 1) for op, value in sorted(per_op.items(), key=lambda kv: -kv[1])[:12]},
        "forward_gflops_per_clip": round(gflops, 2),
        "training_gflops_per_clip": round(TRAINING_FLOPS_PER_FORWARD * gflops, 1),
        "achieved_gflop_per_s": round(achieved, 1),
        "convolution_gflop_per_s": convolution_speeds(by_kind, gflops),
        "matmul_peak_gflop_per_s": peak,
        "share_of_peak": round(achieved / peak, 3),
    }


def markdown(result):
    total = result["operators_ms_per_step"]
    clip = (f"{result['frames']} segments of {result['crop']}²" if result["model"] == "eco_lite"
            else f"{result['frames']}x{result['crop']}x{result['crop']}")
    lines = [f"One training step of {result['model']} ({clip}, batch 1, "
             f"GRAPH): {result['step_s']:.2f} s unprofiled, {result['profiled_step_s']:.2f} s profiled; operators "
             f"account for {total / 1000:.2f} s of it.", "",
             "| kind | ms / step | share of operator time |", "|---|---:|---:|"]
    lines += [f"| {kind} | {value:,.1f} | {value / total:.1%} |" for kind, value in result["by_kind_ms"].items()]
    lines += ["", "| operator type | ms / step | share |", "|---|---:|---:|"]
    lines += [f"| {op} | {value:,.1f} | {value / total:.1%} |" for op, value in result["top_ops_ms"].items()]
    convolutions = result.get("convolution_gflop_per_s", {})
    if convolutions:
        lines += ["", "Convolution GFLOP/s by kind (each gradient does about the forward pass's FLOPs) against the matrix "
                  "product's " + f"{result['matmul_peak_gflop_per_s']:.1f}: " + ", ".join(
                      f"{kind} {value:.1f} ({value / result['matmul_peak_gflop_per_s']:.0%})"
                      for kind, value in convolutions.items()) + "."]
    lines += ["", f"FLOPs: {result['forward_gflops_per_clip']:.1f} GFLOPs per clip forward, "
              f"{result['training_gflops_per_clip']:.1f} per training step (3x forward); achieved "
              f"{result['achieved_gflop_per_s']:.1f} GFLOP/s against {result['matmul_peak_gflop_per_s']:.1f} GFLOP/s "
              f"for a 2048x2048 float32 matrix product in NumPy on the same machine "
              f"({result['share_of_peak']:.0%} of that limit)."]
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=("i3d_rgb", "i3d_flow", "eco_lite"), default="i3d_rgb")
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--crop", type=int, default=224)
    parser.add_argument("--steps", type=int, default=1)
    args = parser.parse_args(argv)
    emit(measure(args.model, args.frames, args.crop, args.steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
