"""Real-time factor of timeline.py (I3D rgb, flow, joint; ECO-lite) and ECO-lite's online mode, per backend.

    .venv/bin/python bench/realtime.py [--seconds 20] [--flow_seconds 4] [--out_json bench/results/realtime.json]

The real-time factor is what timeline.py prints: seconds of video processed per wall-clock second, from the first
frame read to the last window scored (decoding, the JPEG round trip, TV-L1 flow, the transforms and the network;
model loading, the one-off ONNX export and the warm-up call excluded). Above 1, the model keeps up with a live 25 fps
source. Every configuration is one run of timeline.py in a fresh process on the same video: 25 fps at 320x240, made
of the sample dataset's classes (src/tools/make_sample_dataset.render_video), flow and joint on a shorter piece of it
(TV-L1 dominates and does not depend on the weights). Networks are random-init (I3D 400 classes, ECO-lite 101): speed
does not depend on the weights. Settings are the originals': I3D 64-frame windows at 224x224, frames at short side
256, stride 32; ECO-lite 4 segments at 224x224 on native frames, windows of 32 frames, stride 16, and the online
mode's memory of 4 frames (one network call per 4 frames). Thread counts stay at each library's default. The 1-minute
load average before and after each run is recorded: on a shared machine other processes slow the network down. Prints
a Markdown table and writes the JSON.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO_ROOT, machine  # noqa: E402

FPS = 25.0
WIDTH, HEIGHT = 320, 240
FACTOR = re.compile(r"real-time factor ([0-9.]+)")
SKIPPED = re.compile(r"(\d+) frames skipped to keep up")
CONFIGS = [  # (name, backend, timeline.py options)
    *[(f"ECO-lite online ({backend})", backend, ["--online", "--model", "eco_lite"]) for backend in
      ("onnxruntime", "mindspore")],
    ("ECO-lite online, --realtime (onnxruntime)", "onnxruntime", ["--online", "--model", "eco_lite", "--realtime"]),
    *[(f"ECO-lite timeline ({backend})", backend, ["--model", "eco_lite", "--window", "32", "--stride", "16"])
      for backend in ("onnxruntime", "mindspore")],
    *[(f"I3D rgb timeline ({backend})", backend, ["--mode", "rgb", "--stride", "32"])
      for backend in ("onnxruntime", "mindspore")],
    ("I3D flow timeline (onnxruntime)", "onnxruntime", ["--mode", "flow", "--stride", "32"]),
    ("I3D joint timeline (onnxruntime)", "onnxruntime", ["--mode", "joint", "--stride", "32"]),
]


def make_video(path, seconds):
    """The sample dataset's classes in turn, two seconds each, as one 25 fps XVID file."""
    import cv2
    import numpy as np

    from src.tools.make_sample_dataset import MOTIONS, SHAPES, TINTS, render_video

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"XVID"), FPS, (WIDTH, HEIGHT))
    frames, piece = 0, int(2 * FPS)
    while frames < seconds * FPS:
        motion = (frames // piece) % 6
        count = min(piece, int(seconds * FPS) - frames)
        rng = np.random.default_rng(frames)
        for frame in render_video(MOTIONS[motion], rng, count, WIDTH, HEIGHT, SHAPES[motion], TINTS[motion]):
            writer.write(frame)
        frames += count
    writer.release()


def make_checkpoints(folder):
    from src.runtime import init_context

    init_context("CPU", "py")
    import mindspore as ms

    from src.eco_lite import ECOLite
    from src.engine.checkpoint_io import save_checkpoint
    from src.i3d import InceptionI3D

    ms.set_seed(0)
    paths = {"rgb": folder / "rgb.ckpt", "flow": folder / "flow.ckpt", "eco": folder / "eco.ckpt"}
    save_checkpoint(InceptionI3D(400, "rgb"), paths["rgb"])
    save_checkpoint(InceptionI3D(400, "flow"), paths["flow"])
    save_checkpoint(ECOLite(101, 4), paths["eco"])
    return paths


def run_config(options, backend, video, checkpoints, cache):
    """(real-time factor, frames skipped) of one timeline.py run, or an error text."""
    weights = ["--checkpoint_path", checkpoints["eco"]] if "eco_lite" in options else \
        ["--rgb_path", checkpoints["rgb"], "--flow_path", checkpoints["flow"]]
    command = [sys.executable, str(REPO_ROOT / "timeline.py"), str(video), *options, *map(str, weights),
               "--backend", backend, "--device_target", "CPU", "--no-progress"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tempfile.gettempdir(),
                          env={**os.environ, "I3D_CACHE_DIR": str(cache)})
    found = FACTOR.search(done.stdout)
    if done.returncode != 0 or not found:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    skipped = SKIPPED.search(done.stdout)
    return {"realtime_factor": float(found.group(1)), "skipped_frames": int(skipped.group(1)) if skipped else None}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="video length for rgb and ECO-lite")
    parser.add_argument("--flow_seconds", type=float, default=4.0, help="video length for flow and joint")
    parser.add_argument("--only", help="run the configurations whose name contains this text")
    parser.add_argument("--out_json", default=str(REPO_ROOT / "bench/results/realtime.json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        videos = {"long": scratch / "long.avi", "short": scratch / "short.avi"}
        make_video(videos["long"], args.seconds)
        make_video(videos["short"], args.flow_seconds)
        checkpoints = make_checkpoints(scratch)
        results = []
        for name, backend, options in CONFIGS:
            if args.only and args.only not in name:
                continue
            short = "flow" in options or "joint" in options
            print(f"[realtime] {name}", file=sys.stderr, flush=True)
            load_before = os.getloadavg()[0]
            result = run_config(options, backend, videos["short" if short else "long"], checkpoints, scratch / "cache")
            results.append({"name": name, "backend": backend, "options": options,
                            "video_seconds": args.flow_seconds if short else args.seconds, **result,
                            "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)]})
    report = {"machine": machine(), "video": f"{WIDTH}x{HEIGHT} at {FPS:g} fps", "results": results,
              "command": "python bench/realtime.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    Path(args.out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out_json).write_text(json.dumps(report, indent=1) + "\n")
    print("| configuration | video | real-time factor | real time at 25 fps | frames skipped (--realtime) | "
          "1-min load average, before/after |\n|---|---:|---:|---|---:|---|")
    for result in results:
        factor, skipped = result.get("realtime_factor"), result.get("skipped_frames")
        realtime = "--realtime" in result["options"]
        load = "{} / {}".format(*result["load_average"])
        print(f"| {result['name']} | {result['video_seconds']:g} s | " +
              (f"{factor:.2f} | {'yes' if factor >= 1 else 'no'} | {skipped if realtime else ''} | {load} |"
               if factor is not None else f"error | {result['error']} | | {load} |"))
    return 1 if any("error" in result for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
