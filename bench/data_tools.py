"""Frames/s of frame extraction and of TV-L1 flow extraction, with 1 worker and with all cores.

    .venv/bin/python bench/data_tools.py [--out FILE.json] [sample dataset options]

Makes a sample dataset (default: the built-in one), times `generate_rgb_jpgs` and `convert_rgb_to_flow`
with --workers 1 and --workers <all cores>, checks that both give byte-identical output, and prints one
JSON line (with the command line that produced it); bench/run.py runs it as one of its sections.
"""
import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402

from src.tools import convert_rgb_to_flow, generate_rgb_jpgs, make_sample_dataset  # noqa: E402
from tests.helpers import tree_bytes  # noqa: E402


def timed(function, argv):
    start = time.perf_counter()
    if function(argv) != 0:
        raise SystemExit(f"benchmark step failed: {argv}")
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="also write the JSON here")
    parser.add_argument("--num_classes", default="6")
    parser.add_argument("--groups", default="6")
    parser.add_argument("--clips", default="2")
    parser.add_argument("--num_frames", default="24")
    parser.add_argument("--size", default="96", help="short side of the extracted frames")
    args = parser.parse_args()
    cores = os.cpu_count()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        make_sample_dataset.main([str(scratch / "raw"), "--datasets", "ucf101", "--num_classes", args.num_classes,
                                  "--groups", args.groups, "--clips", args.clips, "--num_frames", args.num_frames,
                                  "--no-progress"])
        videos = str(scratch / "raw/ucf101/videos")
        results = {}
        for workers in (1, cores):
            rgb, flow = scratch / f"rgb{workers}", scratch / f"flow{workers}"
            common = ["--workers", str(workers), "--no-progress"]
            seconds = timed(generate_rgb_jpgs.main, [videos, str(rgb), "ucf101", "--size", args.size, *common])
            frames = len(list(rgb.rglob("*.jpg")))
            results[f"extract_{workers}w"] = {"frames": frames, "seconds": round(seconds, 3),
                                              "frames_per_s": round(frames / seconds, 1)}
            seconds = timed(convert_rgb_to_flow.main, ["--rgb_path", str(rgb), "--flow_path", str(flow), *common])
            pairs = len(list(flow.rglob("*x.jpg")))
            results[f"flow_{workers}w"] = {"flow_frames": pairs, "seconds": round(seconds, 3),
                                           "frames_per_s": round(pairs / seconds, 2)}
        identical = tree_bytes(scratch / "flow1") == tree_bytes(scratch / f"flow{cores}") and \
            tree_bytes(scratch / "rgb1") == tree_bytes(scratch / f"rgb{cores}")
    report = {
        "command": " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]),
        "machine": {"cpu_count": cores, "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version(), "opencv": cv2.__version__},
        "frame_size_short_side": int(args.size),
        "results": results,
        "extract_speedup": round(results[f"extract_{cores}w"]["frames_per_s"] / results["extract_1w"]["frames_per_s"], 2),
        "flow_speedup": round(results[f"flow_{cores}w"]["frames_per_s"] / results["flow_1w"]["frames_per_s"], 2),
        "outputs_identical_across_worker_counts": identical,
    }
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
