"""Training-step speed: one forward + backward + optimizer update per call, built exactly as train.py builds it.

    .venv/bin/python bench/train_step.py --model i3d_rgb --frames 64 --crop 224 --batch 1 --mode graph --amp O0

prints one JSON line: clips/s, seconds per step, the first (compiling) step, peak resident memory, and the
achieved GFLOP/s against the analytic FLOPs per clip (training counted as 3x the forward pass: forward, gradient
of the activations, gradient of the weights). I3D uses the seed's Adam and build_train_network (with --amp);
ECO-lite the seed's SGD with parameter groups, partial BN and gradient clipping. The input is random, fed as
host numpy arrays each step, as the data loader does.
"""
import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import src.runtime  # noqa: E402,F401  (first: oneDNN AVX2 cap before MindSpore loads)
from bench.common import emit, peak_rss_mib, rate, time_calls  # noqa: E402

MODELS = ("i3d_rgb", "i3d_flow", "eco_lite")
NUM_CLASSES = {"i3d_rgb": 51, "i3d_flow": 51, "eco_lite": 101}
TRAINING_FLOPS_PER_FORWARD = 3


def build(model, frames, amp):
    """(network, train cell) as the model's training entry point builds them."""
    from src.engine.train_step import build_train_step

    if model == "eco_lite":
        from src.eco_lite import ECOLite
        from src.eco_lite.config import load_defaults
        from src.eco_lite.recipe import ECOLiteRecipe

        args = SimpleNamespace(**load_defaults())
        net = ECOLite(NUM_CLASSES[model], frames, dropout_keep_prob=args.dropout)
        optimizer, _ = ECOLiteRecipe(args).build_optimizer(net, None, 1)
        return net, build_train_step(net, optimizer, "O0", args.clip_gradient, "CPU")
    from config import I3DDefaults
    from src.i3d.finetune import build_optimizer, build_training_network

    defaults = I3DDefaults()
    net, params = build_training_network(model.split("_")[1], 400, NUM_CLASSES[model], None, "",
                                         defaults.dropout_keep_prob)
    optimizer = build_optimizer("adam", params, defaults.lr, defaults.momentum, defaults.weight_decay)
    return net, build_train_step(net, optimizer, amp, 0.0, "CPU")


def input_shape(model, frames, crop):
    if model == "eco_lite":
        return (3 * frames, crop, crop)
    return (3 if model == "i3d_rgb" else 2, frames, crop, crop)


def forward_gflops(model, net, frames, crop):
    from src.tools.model_report import eco_macs, i3d_macs

    macs = eco_macs(net, frames, crop, crop) if model == "eco_lite" else i3d_macs(net, frames, crop, crop)
    return 2 * macs / 1e9


def measure(model, frames, crop, batch, mode, amp, steps, warmup=1):
    import mindspore as ms
    import numpy as np

    ms.set_device("CPU")
    ms.set_context(mode=ms.GRAPH_MODE if mode == "graph" else ms.PYNATIVE_MODE)
    ms.set_seed(0)
    net, cell = build(model, frames, amp)
    net.set_train(True)
    rng = np.random.default_rng(0)
    clips = rng.uniform(-1, 1, (batch,) + input_shape(model, frames, crop)).astype(np.float32)
    labels = rng.integers(0, NUM_CLASSES[model], batch).astype(np.int32)

    def step():
        return float(cell(ms.Tensor(clips), ms.Tensor(labels)).asnumpy())

    first, times = time_calls(step, warmup, steps)
    seconds = float(np.median(times))
    gflops = forward_gflops(model, net, frames, crop)
    return {
        "model": model, "frames": frames, "crop": crop, "batch": batch, "mode": mode, "amp": amp,
        "first_steps_s": round(first, 2), "s_per_step": round(seconds, 3), "clips_per_s": rate(batch, seconds),
        "step_times_s": [round(t, 3) for t in times], "peak_rss_mib": peak_rss_mib(),
        "forward_gflops_per_clip": round(gflops, 2),
        "achieved_gflop_per_s": round(TRAINING_FLOPS_PER_FORWARD * gflops * batch / seconds, 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=MODELS, required=True)
    parser.add_argument("--frames", type=int, required=True, help="I3D clip length or ECO-lite segments")
    parser.add_argument("--crop", type=int, required=True)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--mode", choices=("graph", "pynative"), default="graph")
    parser.add_argument("--amp", choices=("O0", "O1", "O2", "O3"), default="O0")
    parser.add_argument("--steps", type=int, default=3, help="timed steps (after one warm-up step)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = measure(args.model, args.frames, args.crop, args.batch, args.mode, args.amp, args.steps)
    result["wall_s"] = round(time.perf_counter() - started, 1)
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
