"""The benchmark harness: every hot path at one size, one JSON file and one Markdown report.

    .venv/bin/python bench/run.py                  # the seed's sizes: bench/results/benchmarks_seed.json and
                                                   # docs/benchmarks.md (about 15 minutes on 2 cores)
    .venv/bin/python bench/run.py --size tiny --out_dir /tmp/bench    # the smoke run CI does (about 4 minutes)

Sections (--sections, default all): train (training step, GRAPH and PYNATIVE, AMP levels; GRAPH O0 against the
PyTorch peer in the same run when torch is installed), loop (train.py's whole loop against the bare step), profile
(one I3D and one ECO-lite step by operator, GFLOP/s per operator kind against the machine's limit), inference (four
backends on one exported model, and the PyTorch peer), loader (clips/s against the seed-style loader and the models'
consumption), data_tools (frame extraction and TV-L1 flow, 1 worker and all cores).
Each measurement runs in its own process. Sections not run this time are kept from the existing JSON, so one section
can be rerun alone; the report notes the date of the run and the command.
A configuration that fails is reported as such and the run goes on; the exit status is 1 if any failed.
"""
import argparse
import datetime
import importlib.util
import json
import shlex
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO_ROOT, SIZES, machine, run_child  # noqa: E402

SECTIONS = ("train", "loop", "profile", "inference", "loader", "data_tools")
DATA_TOOLS_ARGS = {
    "tiny": ["--num_classes", "2", "--groups", "3", "--clips", "1", "--num_frames", "8", "--size", "32"],
    "seed": ["--num_classes", "4", "--groups", "3", "--clips", "1", "--num_frames", "24", "--size", "96"],
}


def train_configs(size):
    """(model, frames, crop, batch, mode, amp) of the training-step section: the seed's size also runs the tiny
    configurations, so one table shows both."""
    return (train_configs("tiny") if size == "seed" else []) + size_configs(size)


def size_configs(size):
    s = SIZES[size]
    configs = [("i3d_rgb", s["frames"], s["crop"], batch, "graph", "O0") for batch in s["batches"]]
    configs += [("i3d_rgb", s["frames"], s["crop"], 1, "pynative", "O0")]
    configs += [("i3d_rgb", s["frames"], s["crop"], 1, "graph", amp) for amp in ("O1", "O2", "O3")]
    configs += [("i3d_flow", s["frames"], s["crop"], 1, mode, "O0") for mode in ("graph", "pynative")]
    for segments in s["segments"]:
        configs += [("eco_lite", segments, s["eco_crop"], batch, "graph", "O0") for batch in s["batches"]]
        configs += [("eco_lite", segments, s["eco_crop"], 1, "pynative", "O0")]
    return configs


def progress(message):
    print(f"[bench {datetime.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def run_train(size, scratch):
    """Every configuration; GRAPH O0 ones also time the PyTorch peer (bench/torch_peer.py) right after, when torch
    is installed, under the key "pytorch" (its failure, e.g. PyTorch's BatchNorm refusing 1x1x1 maps at batch 1 at
    the tiny size, is reported but is no failure of the run)."""
    results = []
    peers = importlib.util.find_spec("torch") is not None
    for model, frames, crop, batch, mode, amp in train_configs(size):
        progress(f"train step: {model} {frames}x{crop}x{crop} batch {batch} {mode} {amp}")
        common = ["--model", model, "--frames", frames, "--crop", crop, "--batch", batch,
                  "--steps", SIZES[size]["steps"]]
        result = run_child("train_step.py", common + ["--mode", mode, "--amp", amp])
        if "error" in result and amp != "O0":
            result["unsupported"] = True  # an AMP level that MindSpore cannot compile here is a finding, not a bug
        if peers and mode == "graph" and amp == "O0":
            progress(f"train step, PyTorch peer: {model} {frames}x{crop}x{crop} batch {batch}")
            result["pytorch"] = run_child("torch_peer.py", ["--task", "train"] + common)
        results.append({"model": model, "frames": frames, "crop": crop, "batch": batch, "mode": mode, "amp": amp,
                        **result})
    return {"results": results}


def run_loop(size, scratch):
    progress("training loop: train.py in GRAPH and PYNATIVE mode")
    return run_child("train_loop.py", ["--size", size, "--scratch", Path(scratch) / "loop"])


def run_profile(size, scratch):
    """The I3D rgb profile, with ECO-lite's (first segment count) under "eco_lite"."""
    progress("profile of one I3D rgb training step")
    s = SIZES[size]
    result = run_child("profile_step.py", ["--frames", s["frames"], "--crop", s["crop"]])
    progress("profile of one ECO-lite training step")
    result["eco_lite"] = run_child("profile_step.py", ["--model", "eco_lite", "--frames", s["segments"][0],
                                                       "--crop", s["eco_crop"]])
    return result


def run_inference(size, scratch):
    progress("inference: MindSpore ckpt, MINDIR, ONNX Runtime, C++ app")
    return run_child("inference.py", ["--size", size, "--scratch", Path(scratch) / "inference"])


def run_loader(size, scratch):
    progress("data loader: seed-style vs ours, 1 and 2 workers")
    return run_child("loader.py", ["--size", size])


def run_data_tools(size, scratch):
    progress("data tools: frame extraction and TV-L1 flow, 1 worker and all cores")
    return run_child("data_tools.py", DATA_TOOLS_ARGS[size])


RUNNERS = {"train": run_train, "loop": run_loop, "profile": run_profile, "inference": run_inference,
           "loader": run_loader, "data_tools": run_data_tools}


def failures(report):
    """'section: error' for every failed measurement (an AMP level that does not run here is not a failure)."""
    found = []
    for name, section in report["sections"].items():
        results = section.get("results")
        entries = [section] + (results if isinstance(results, list) else [])
        found += [f"{name}: {entry['error']}" for entry in entries if "error" in entry and not entry.get("unsupported")]
    return found


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="seed")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated, from {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--out_dir", type=Path, default=REPO_ROOT / "bench/results",
                        help="where benchmarks_<size>.json goes (default bench/results)")
    parser.add_argument("--markdown", type=Path,
                        help="the report (default: docs/benchmarks.md for the seed size, else next to the JSON)")
    args = parser.parse_args(argv)
    args.sections = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    if args.markdown is None:
        args.markdown = REPO_ROOT / "docs/benchmarks.md" if args.size == "seed" else \
            args.out_dir / f"benchmarks_{args.size}.md"
    return args


def main(argv=None):
    from bench.report import render
    from src.data.atomic import atomic_write_text

    args = parse_args(argv)
    command = " ".join(shlex.quote(part) for part in ["python", "bench/run.py", *(sys.argv[1:] if argv is None
                                                                                    else argv)])
    json_path = args.out_dir / f"benchmarks_{args.size}.json"
    earlier = json.loads(json_path.read_text()).get("sections", {}) if json_path.is_file() else {}
    kept = {name: section for name, section in earlier.items() if name not in args.sections}
    report = {"command": command, "size": args.size, "sizes": SIZES[args.size],
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": machine(), "sections": kept}
    if kept:
        progress(f"keeping the sections {', '.join(kept)} of {json_path} (rerun them with --sections)")
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.sections:
            report["sections"][name] = dict(RUNNERS[name](args.size, scratch), measured_by=command,
                                            measured_at=datetime.datetime.now(datetime.timezone.utc).isoformat(
                                                timespec="seconds"))
            args.out_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(json_path, json.dumps(report, indent=1) + "\n")  # a finished section is never lost
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.markdown, render(report))
    progress(f"wrote {json_path} and {args.markdown}")
    problems = failures(report)
    for problem in problems:
        print(f"failed: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
