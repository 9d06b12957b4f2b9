"""Logit parity of the MindSpore I3D with a PyTorch reference of the published I3D (piergiaj's architecture).

A randomly initialised reference (random BN statistics, eval mode) is converted with src/tools/pt2ckpt.py's
conversion function; both networks then score the same clip in [-1, 1]. One JSON line per (mode, frames) case:

    .venv/bin/python bench/i3d_parity.py [--frames 16 64] [--modes rgb flow] [--size 224] [--seed 0]

Needs PyTorch (requirements-dev.txt).
"""
import argparse
import json
import shlex
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))

import src.runtime  # noqa: E402,F401  (caps oneDNN before MindSpore loads)
import mindspore as ms  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from src.tools.pt2ckpt import convert_state_dict  # noqa: E402
from torch_i3d_reference import reference_i3d  # noqa: E402

CHANNELS = {"rgb": 3, "flow": 2}


def compare(mode, frames, size, seed):
    reference = reference_i3d(mode, num_classes=400, seed=seed)
    net, _ = convert_state_dict(reference.state_dict(), source=f"reference_{mode}")
    net.set_train(False)
    clip = np.random.default_rng(seed).uniform(-1, 1, (1, CHANNELS[mode], frames, size, size)).astype(np.float32)
    started = time.perf_counter()
    with torch.no_grad():
        expected = reference(torch.from_numpy(clip)).mean(dim=2).numpy()
    torch_seconds = time.perf_counter() - started
    started = time.perf_counter()
    logits = net(ms.Tensor(clip)).asnumpy()
    mindspore_seconds = time.perf_counter() - started
    return {
        "mode": mode, "frames": frames, "size": size,
        "max_abs_diff": float(np.abs(logits - expected).max()),
        "max_abs_logit": float(np.abs(expected).max()),
        "logit_std": float(expected.std()),
        "same_top1": bool(logits.argmax() == expected.argmax()),
        "torch_s": round(torch_seconds, 2), "mindspore_s": round(mindspore_seconds, 2),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--modes", nargs="+", choices=sorted(CHANNELS), default=["rgb", "flow"])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    ms.set_context(mode=ms.PYNATIVE_MODE)
    command = shlex.join([sys.executable, *sys.argv])
    for mode in args.modes:
        for frames in args.frames:
            print(json.dumps({**compare(mode, frames, args.size, args.seed), "command": command}), flush=True)


if __name__ == "__main__":
    main()
