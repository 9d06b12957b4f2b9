"""The PyTorch peers of the benchmark: the same training step and inference in PyTorch on the same CPU.

    .venv/bin/python bench/torch_peer.py --task train --model i3d_rgb --frames 64 --crop 224 --batch 1
    .venv/bin/python bench/torch_peer.py --task infer --model eco_lite --frames 4 --crop 224

The networks are the tests' references of the published ones (tests/torch_i3d_reference.py: piergiaj's I3D;
tests/torch_eco_reference.py: zhang-can's ECO-lite), checked there against the project's networks. The training step
mirrors bench/train_step.py: I3D with Adam (the seed's lr and weight decay), every BatchNorm training; ECO-lite with SGD
(momentum, weight decay on weights only), every BatchNorm training, gradients clipped to the recipe's global norm;
softmax cross-entropy; random input fed from host arrays each step. Inference times batch-1 forwards in eval mode under
torch.inference_mode (bench/inference.py runs it as its "pytorch" backend with the project's weights, and compares
the logits). Thread counts are PyTorch's defaults. Prints one JSON line.
"""
import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from bench.common import REPO_ROOT, emit, peak_rss_mib, rate, time_calls  # noqa: E402
from tests.torch_eco_reference import ReferenceECOLite  # noqa: E402
from tests.torch_i3d_reference import ReferenceI3D, load_mindspore_parameters  # noqa: E402

NUM_CLASSES = {"train": {"i3d_rgb": 51, "i3d_flow": 51, "eco_lite": 101}, "infer": {"i3d_rgb": 400, "eco_lite": 101}}


class PeerI3D(ReferenceI3D):
    """piergiaj's I3D with per-clip logits (mean over the remaining positions) and the project's head at any size:
    the (2,7,7) average-pool window shrinks to fit small feature maps (at 64x224x224 it is piergiaj's pool)."""

    def forward(self, x):
        for name in self.endpoint_names:
            x = getattr(self, name)(x)
        x = F.avg_pool3d(x, tuple(min(w, s) for w, s in zip((2, 7, 7), x.shape[2:])), stride=1)
        return self.logits(self.dropout(x)).flatten(2).mean(2)


def build(model, num_classes, frames):
    if model == "eco_lite":
        return ReferenceECOLite(num_classes, frames)
    return PeerI3D(num_classes, in_channels=3 if model == "i3d_rgb" else 2)


def input_shape(model, frames, crop):
    if model == "eco_lite":
        return (3 * frames, crop, crop)
    return (3 if model == "i3d_rgb" else 2, frames, crop, crop)


def optimizer_step(model, net):
    """(optimizer, gradient clip norm or 0) as the project's recipe for `model`."""
    if model == "eco_lite":
        import yaml  # not src.eco_lite.config: importing the package loads MindSpore, whose memory is not PyTorch's

        args = SimpleNamespace(**yaml.safe_load((REPO_ROOT / "src/eco_lite/default_config.yaml").read_text()))
        weights = [p for name, p in net.named_parameters() if name.endswith(".weight") and p.dim() > 1]
        others = [p for name, p in net.named_parameters() if not (name.endswith(".weight") and p.dim() > 1)]
        groups = [{"params": weights, "weight_decay": args.weight_decay}, {"params": others, "weight_decay": 0.0}]
        return torch.optim.SGD(groups, lr=args.lr, momentum=args.momentum, nesterov=args.nesterov), args.clip_gradient
    from config import I3DDefaults

    defaults = I3DDefaults()
    return torch.optim.Adam(net.parameters(), lr=defaults.lr, weight_decay=defaults.weight_decay), 0.0


def measure_train(model, frames, crop, batch, steps):
    import numpy as np

    torch.manual_seed(0)
    net = build(model, NUM_CLASSES["train"][model], frames)
    net.train()
    optimizer, clip = optimizer_step(model, net)
    rng = np.random.default_rng(0)
    clips = rng.uniform(-1, 1, (batch,) + input_shape(model, frames, crop)).astype(np.float32)
    labels = rng.integers(0, NUM_CLASSES["train"][model], batch).astype(np.int64)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(clips)), torch.from_numpy(labels))
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        optimizer.step()
        return loss.item()

    first, times = time_calls(step, 1, steps)
    seconds = float(np.median(times))
    return {"first_steps_s": round(first, 2), "s_per_step": round(seconds, 3), "clips_per_s": rate(batch, seconds),
            "step_times_s": [round(t, 3) for t in times]}


def inference_net(model, frames, params_path=None):
    """The eval-mode peer for inference, with the project's parameters (.npz {MindSpore name: array}) if given."""
    import numpy as np

    net = build(model, NUM_CLASSES["infer"][model], frames)
    if params_path:
        with np.load(params_path) as params:
            load_mindspore_parameters(net, dict(params))
    return net.eval()


def infer(net, clip):
    with torch.inference_mode():
        return net(torch.from_numpy(clip)).numpy()


def measure_infer(model, frames, crop, repeats):
    import numpy as np

    net = inference_net(model, frames)
    clip = np.random.default_rng(0).uniform(-1, 1, (1,) + input_shape(model, frames, crop)).astype(np.float32)
    first, times = time_calls(lambda: infer(net, clip), 1, repeats)
    median = float(np.median(times))
    return {"first_call_s": round(first, 3), "times_ms": [round(t * 1000, 2) for t in times],
            "ms_per_clip": round(median * 1000, 2), "clips_per_s": rate(1, median)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=("train", "infer"), required=True)
    parser.add_argument("--model", choices=sorted(NUM_CLASSES["train"]), required=True)
    parser.add_argument("--frames", type=int, required=True, help="I3D clip length or ECO-lite segments")
    parser.add_argument("--crop", type=int, required=True)
    parser.add_argument("--batch", type=int, default=1, help="training batch (inference: 1)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps or calls, after one warm-up")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.task == "train":
        result = measure_train(args.model, args.frames, args.crop, args.batch, args.steps)
    else:
        result = measure_infer(args.model, args.frames, args.crop, args.steps)
    emit({"model": args.model, "frames": args.frames, "crop": args.crop, "batch": args.batch, **result,
          "peak_rss_mib": peak_rss_mib(), "torch_version": torch.__version__, "torch_threads": torch.get_num_threads(),
          "wall_s": round(time.perf_counter() - started, 1)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
