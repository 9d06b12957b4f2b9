"""train.py's whole loop (loader, step, loss check, logging) against the bare training step, GRAPH and PYNATIVE.

    .venv/bin/python bench/train_loop.py --size tiny|seed --scratch DIR

Makes a small UCF101-style rgb dataset with the data tools (the quick start's clip size, 16x64x64), runs
`train.py --num_epochs 3 --no_eval` in each mode and reads the per-step time of epochs 2 and 3 from its
train_log.jsonl (epoch 1 holds the compilation), then times the bare step (bench/train_step.py) at the same size. If
the loop recompiled per epoch, copied data needlessly or starved the step, its time per step would exceed the
bare step's; the ratio shows how much it does. Prints one JSON line.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO_ROOT, emit, run_child  # noqa: E402

FRAMES, CROP, BATCH = 16, 64, 4
VIDEOS = {"tiny": ["--num_classes", "2", "--groups", "3", "--clips", "2"],
          "seed": ["--num_classes", "4", "--groups", "3", "--clips", "2"]}


def make_data(root, size):
    from src.tools import generate_n_frames, generate_rgb_jpgs, make_sample_dataset, ucf101_json

    quiet = ["--no-progress"]
    raw, rgb = root / "raw", root / "rgb"
    checks = [make_sample_dataset.main([str(raw), "--datasets", "ucf101", *VIDEOS[size], "--num_frames", "24",
                                        *quiet]),
              generate_rgb_jpgs.main([str(raw / "ucf101/videos"), str(rgb), "ucf101", "--size", "72", *quiet]),
              generate_n_frames.main([str(rgb), *quiet]),
              ucf101_json.main([str(raw / "ucf101/splits"), str(rgb), str(root / "annotation")])]
    if any(checks):
        raise SystemExit(f"making the loop benchmark's data under {root} failed")
    return rgb, root / "annotation/ucf101_01.json"


def loop_seconds_per_step(rgb, annotation, mode, save_dir):
    command = [sys.executable, str(REPO_ROOT / "train.py"), "--dataset", "ucf101", "--mode", "rgb", "--video_path",
               str(rgb), "--annotation_path", str(annotation), "--train_sample_duration", str(FRAMES),
               "--spatial_size", str(CROP), "--batch_size", str(BATCH), "--num_workers", "2", "--num_epochs", "3",
               "--no_eval", "--no-progress", "--context", mode, "--save_dir", str(save_dir)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=save_dir.parent)
    if done.returncode != 0:
        raise SystemExit(f"train.py failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    epochs = [json.loads(line) for line in (save_dir / "ucf101_rgb/train_log.jsonl").read_text().splitlines()]
    later = epochs[1:]
    return {"epoch_s": [epoch["epoch_time_s"] for epoch in epochs],
            "steps_per_epoch": epochs[0]["steps"],
            "s_per_step": round(sum(e["epoch_time_s"] for e in later) / sum(e["steps"] for e in later), 4)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=("tiny", "seed"), default="tiny")
    parser.add_argument("--scratch", type=Path, required=True)
    args = parser.parse_args(argv)
    args.scratch.mkdir(parents=True, exist_ok=True)
    rgb, annotation = make_data(args.scratch / "data", args.size)
    results = []
    for mode, name in (("gr", "graph"), ("py", "pynative")):
        loop = loop_seconds_per_step(rgb, annotation, mode, args.scratch / f"run_{name}")
        bare = run_child("train_step.py", ["--model", "i3d_rgb", "--frames", FRAMES, "--crop", CROP, "--batch",
                                           BATCH, "--mode", name, "--steps", 5])
        if "error" in bare:
            raise SystemExit(f"bare step ({name}): {bare['error']}")
        results.append({"mode": name, "loop": loop, "bare_s_per_step": bare["s_per_step"],
                        "loop_over_bare": round(loop["s_per_step"] / bare["s_per_step"], 3)})
    graph, pynative = results
    emit({"clip": f"{FRAMES}x{CROP}x{CROP}", "batch": BATCH, "results": results,
          "pynative_over_graph_loop": round(pynative["loop"]["s_per_step"] / graph["loop"]["s_per_step"], 2)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
