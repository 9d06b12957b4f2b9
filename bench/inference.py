"""Inference clips/s of one exported model on one input through four backends, and their logit agreement.

    .venv/bin/python bench/inference.py --size tiny|seed [--scratch DIR] [--repeats N]

For I3D (rgb, 400 classes) and ECO-lite (101 classes), each randomly initialised with seed 0, one child process saves
the checkpoint (and its parameters as .npz for the PyTorch peer) and exports MINDIR and ONNX from that same network with
the export driver's `export_network`. Then a fresh child per (model, backend) times batch-1 forwards of one fixed clip:
- mindspore_ckpt: the Python network with the checkpoint loaded, GRAPH mode (the reference for the logits);
- mindspore_mindir: nn.GraphCell of the MINDIR file;
- onnxruntime: an onnxruntime.InferenceSession of the ONNX file on the CPU execution provider;
- cpp_app: the C++ app of ascend_310_infer/ (its ONNX Runtime CPU backend) over a folder of copies of the clip;
- pytorch: the peer, the published network in PyTorch (bench/torch_peer.py) with the same weights, where torch is
  installed.
Thread counts stay at each library's default. Prints one JSON object; `markdown` turns it into a table.
"""
import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import src.runtime  # noqa: E402,F401  (first: caps oneDNN at AVX2 before MindSpore loads)
from bench.common import REPO_ROOT, SIZES, emit, peak_rss_mib, rate, run_child, time_calls  # noqa: E402

MODELS = ("i3d_rgb", "eco_lite")
BACKENDS = ("mindspore_ckpt", "mindspore_mindir", "onnxruntime", "cpp_app", "pytorch")
NUM_CLASSES = {"i3d_rgb": 400, "eco_lite": 101}
# (warm-up calls, timed calls): an I3D forward of 64x224x224 takes about 2 s on a 2-core CPU.
REPEATS = {"tiny": (1, 3), "seed": (1, 3)}
BATCH = 1
SEED = 0
# The app prints one line per input file: "<path>: 12.345 ms, 1 output(s)".
APP_TIME_LINE = re.compile(r"^(?P<file>.+\.bin): (?P<ms>[0-9.]+) ms, \d+ output\(s\)$")


def input_shape(model, size):
    sizes = SIZES[size]
    if model == "i3d_rgb":
        return [BATCH, 3, sizes["frames"], sizes["crop"], sizes["crop"]]
    return [BATCH, 3 * sizes["segments"][0], sizes["eco_crop"], sizes["eco_crop"]]


def build_network(model, size):
    """The Python network of `model`, as export.py builds it (default dropout; eval mode makes it a no-op)."""
    if model == "i3d_rgb":
        from src.i3d import InceptionI3D

        return InceptionI3D(NUM_CLASSES[model], "rgb")
    from src.eco_lite import ECOLite

    return ECOLite(NUM_CLASSES[model], SIZES[size]["segments"][0])


def paths(scratch, model):
    """Where the export child writes and the run children read: checkpoint, exports, input clip."""
    models = Path(scratch) / "models"
    return {"ckpt": models / f"{model}.ckpt", "mindir": models / f"{model}.mindir", "onnx": models / f"{model}.onnx",
            "input": models / f"{model}_input.npy", "params": models / f"{model}_params.npz"}


def logits_path(scratch, model, backend):
    return Path(scratch) / "logits" / f"{model}_{backend}.npy"


def child_export(size, scratch):
    """Save each random-init network's checkpoint and export it to MINDIR and ONNX; write the input clip."""
    from src.runtime import init_context

    init_context("CPU", "gr")
    import mindspore as ms
    import numpy as np

    from src.engine.drivers import export_network, export_path

    result = {}
    for model in MODELS:
        files = paths(scratch, model)
        files["ckpt"].parent.mkdir(parents=True, exist_ok=True)
        shape = input_shape(model, size)
        clip = np.random.default_rng(SEED).uniform(-1, 1, shape).astype(np.float32)
        np.save(files["input"], clip)
        ms.set_seed(SEED)
        net = build_network(model, size)
        net.set_train(False)
        ms.save_checkpoint(net, str(files["ckpt"]))
        np.savez(files["params"], **{param.name: param.asnumpy() for param in net.get_parameters()})
        seconds = {}
        for file_format, key in (("MINDIR", "mindir"), ("ONNX", "onnx")):
            start = time.perf_counter()
            export_network(net, ms.Tensor(clip), export_path(str(files[key].with_suffix("")), file_format),
                           file_format)
            seconds[key] = round(time.perf_counter() - start, 2)
        result[model] = {"input_shape": shape, "export_s": seconds,
                         "file_mib": {key: round(files[key].stat().st_size / 2 ** 20, 1)
                                      for key in ("ckpt", "mindir", "onnx")}}
    return result


def load_runner(model, size, backend, files):
    """(forward function x -> logits, extra fields for the result) of one Python-side backend, loaded."""
    import numpy as np

    if backend == "onnxruntime":
        import onnxruntime as ort

        session = ort.InferenceSession(str(files["onnx"]), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        extra = {"ort_intra_op_num_threads": session.get_session_options().intra_op_num_threads,
                 "ort_version": ort.__version__}
        return (lambda x: session.run(None, {name: x})[0]), extra
    if backend == "pytorch":
        from bench import torch_peer

        frames = input_shape(model, size)[2] if model == "i3d_rgb" else SIZES[size]["segments"][0]
        net = torch_peer.inference_net(model, frames, files["params"])
        return (lambda x: torch_peer.infer(net, x)), {"torch_threads": torch_peer.torch.get_num_threads()}

    from src.runtime import init_context

    init_context("CPU", "gr")
    import mindspore as ms
    from mindspore import nn

    if backend == "mindspore_ckpt":
        net = build_network(model, size)
        if model == "i3d_rgb":
            from src.i3d import load_i3d_checkpoint

            load_i3d_checkpoint(net, str(files["ckpt"]))
        else:
            from src.eco_lite import load_eco_checkpoint

            load_eco_checkpoint(net, str(files["ckpt"]), allow_new_head=False)
        net.set_train(False)
    else:
        net = nn.GraphCell(ms.load(str(files["mindir"])))

    def forward(x):
        out = net(ms.Tensor(x))
        return np.asarray((out[0] if isinstance(out, (tuple, list)) else out).asnumpy())

    return forward, {}


def child_run(model, size, backend, scratch, warmup, repeats):
    """Time one Python-side backend: load, `warmup` calls (the first compiles), `repeats` timed calls."""
    import numpy as np

    files = paths(scratch, model)
    clip = np.load(files["input"])
    start = time.perf_counter()
    forward, extra = load_runner(model, size, backend, files)
    load_s = time.perf_counter() - start
    warm_s, times = time_calls(lambda: forward(clip), warmup, repeats)
    logits = forward(clip)
    target = logits_path(scratch, model, backend)
    target.parent.mkdir(parents=True, exist_ok=True)
    np.save(target, logits)
    median = statistics.median(times)
    return {"load_s": round(load_s, 3), "first_call_s": round(warm_s / warmup, 3) if warmup else None,
            "times_ms": [round(t * 1000, 2) for t in times], "ms_per_clip": round(median * 1000 / BATCH, 2),
            "clips_per_s": rate(BATCH, median), "peak_rss_mib": peak_rss_mib(), **extra}


def child_cpp(model, scratch, app, warmup, repeats):
    """Time the C++ app over warmup + repeats copies of the clip; the first file(s) are its warm-up.

    Per-file times are the app's own (around Predict only, printed per file); time_Result holds their mean over all
    files, warm-up included. Peak memory is the app's (this Python only writes files and waits).
    """
    import resource

    import numpy as np

    files = paths(scratch, model)
    clip = np.load(files["input"])
    work = Path(scratch) / f"cpp_{model}"
    shutil.rmtree(work, ignore_errors=True)
    inputs = work / "inputs"
    inputs.mkdir(parents=True)
    for index in range(warmup + repeats):
        clip.tofile(inputs / f"clip_{index}.bin")
    command = [app, f"--mindir_path={files['onnx']}", f"--input0_path={inputs}", "--backend=onnxruntime",
               f"--result_path={work / 'result_Files'}", f"--time_path={work / 'time_Result'}"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=work)
    wall_s = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"app exit {done.returncode}: {(done.stderr or done.stdout).strip()[-300:]}")
    per_file = [float(match["ms"]) for match in map(APP_TIME_LINE.match, done.stdout.splitlines()) if match]
    if len(per_file) != warmup + repeats:
        raise RuntimeError(f"expected {warmup + repeats} per-file times in the app's output, got {len(per_file)}")
    app_mean = (work / "time_Result" / "test_perform_static.txt").read_text().strip()
    outputs = [np.fromfile(work / "result_Files" / f"clip_{index}_0.bin", np.float32).reshape(BATCH, -1)
               for index in range(warmup + repeats)]
    target = logits_path(scratch, model, "cpp_app")
    target.parent.mkdir(parents=True, exist_ok=True)
    np.save(target, outputs[-1])
    timed = per_file[warmup:]
    median_ms = statistics.median(timed)
    return {"first_call_s": round(per_file[0] / 1000, 3) if warmup else None, "times_ms": timed,
            "ms_per_clip": round(median_ms / BATCH, 2), "clips_per_s": rate(BATCH, median_ms / 1000),
            "wall_s": round(wall_s, 3),
            "load_and_io_s": round(wall_s - sum(per_file) / 1000, 3),
            "app_time_result": app_mean,
            "max_abs_diff_between_runs": float(max(np.abs(out - outputs[0]).max() for out in outputs)),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


def build_app(scratch):
    """Build the C++ app's ONNX Runtime backend into scratch: (path of the binary, None) or (None, error)."""
    if not (shutil.which("cmake") and shutil.which(os.environ.get("CXX", "g++"))):
        return None, "cmake/g++ not found"
    build = Path(scratch) / "infer_build"
    env = dict(os.environ, INFER_BUILD_DIR=str(build), PYTHON_BIN=sys.executable)
    done = subprocess.run(["bash", str(REPO_ROOT / "ascend_310_infer" / "build.sh"), "onnxruntime"], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        return None, "build failed: " + " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
    return str(build / "main"), None


def measure(size, scratch, repeats=None):
    """Export once, then time every (model, backend) in its own child; logit differences against mindspore_ckpt."""
    import numpy as np

    warmup, timed = REPEATS[size]
    timed = repeats or timed
    exported = run_child("inference.py", ["--child", "export", "--size", size, "--scratch", scratch])
    result = {"size": size, "batch": BATCH, "warmup": warmup, "repeats": timed}
    if "error" in exported:
        return {**result, "export": exported, "results": []}
    result.update(input={model: exported[model]["input_shape"] for model in MODELS}, export=exported, results=[])
    app, app_error = build_app(scratch)
    for model in MODELS:
        reference = None
        for backend in BACKENDS:
            if backend == "cpp_app" and app_error:
                entry = {"error": app_error}
            elif backend == "pytorch" and importlib.util.find_spec("torch") is None:
                continue
            else:
                args = ["--child", "run", "--model", model, "--backend", backend, "--size", size,
                        "--scratch", scratch, "--warmup", warmup, "--repeats", timed]
                entry = run_child("inference.py", args + (["--app", app] if backend == "cpp_app" else []))
            if "error" not in entry:
                logits = np.load(logits_path(scratch, model, backend))
                if backend == "mindspore_ckpt":
                    reference = logits
                    entry["max_abs_logit"] = float(np.abs(logits).max())
                entry["max_abs_diff_vs_ckpt"] = (float(np.abs(logits - reference).max())
                                                 if reference is not None else None)
            result["results"].append({"model": model, "backend": backend, **entry})
    threads = [entry["ort_intra_op_num_threads"] for entry in result["results"] if "ort_intra_op_num_threads" in entry]
    result["threads"] = {
        "onnxruntime_intra_op_num_threads": threads[0] if threads else None,
        "note": "library defaults everywhere: ORT's 0 means one thread per physical core; the C++ app creates "
                "default OrtSessionOptions (same default); MindSpore's CPU thread settings untouched",
    }
    return result


def markdown(result):
    """Table lines: one row per (model, backend), speed relative to the MindSpore checkpoint of the same model and
    time relative to the PyTorch peer's (below 1: faster than PyTorch)."""
    shapes = ", ".join(f"{model} {'x'.join(map(str, shape))}" for model, shape in result.get("input", {}).items())
    lines = [f"Inference, size `{result['size']}`, batch {result['batch']}, median of {result['repeats']} timed calls "
             f"after {result['warmup']} warm-up; inputs {shapes}.", "",
             "| model | backend | ms/clip | clips/s | speed vs MindSpore ckpt | time ÷ PyTorch "
             "| max \\|Δ\\| vs ckpt |",
             "|---|---|---:|---:|---:|---:|---:|"]
    if "error" in result.get("export", {}):
        lines.append(f"| all | export | error: {result['export']['error']} | | | | |")
    ok = [entry for entry in result["results"] if "error" not in entry]
    baseline = {entry["model"]: entry.get("clips_per_s") for entry in ok if entry["backend"] == "mindspore_ckpt"}
    peer = {entry["model"]: entry["ms_per_clip"] for entry in ok if entry["backend"] == "pytorch"}
    for entry in result["results"]:
        if "error" in entry:
            lines.append(f"| {entry['model']} | {entry['backend']} | error: {entry['error']} | | | | |")
            continue
        base = baseline.get(entry["model"])
        speed = f"{entry['clips_per_s'] / base:.2f}x" if base and entry["clips_per_s"] else "n/a"
        ratio = f"{entry['ms_per_clip'] / peer[entry['model']]:.2f}" if peer.get(entry["model"]) else "n/a"
        diff = entry.get("max_abs_diff_vs_ckpt")
        lines.append(f"| {entry['model']} | {entry['backend']} | {entry['ms_per_clip']:.2f} | "
                     f"{entry['clips_per_s']:.3f} | {speed} | {ratio} | {'n/a' if diff is None else f'{diff:.2e}'} |")
    return lines


def report(result, as_markdown):
    print("\n".join(markdown(result)) if as_markdown else json.dumps(result))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--scratch", help="work folder (default: a temporary one, removed afterwards)")
    parser.add_argument("--repeats", type=int, help="timed calls (default: the size's)")
    parser.add_argument("--markdown", action="store_true", help="print the table instead of the JSON")
    parser.add_argument("--child", choices=["export", "run"], help=argparse.SUPPRESS)
    parser.add_argument("--model", choices=MODELS, help=argparse.SUPPRESS)
    parser.add_argument("--backend", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--app", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "export":
        emit(child_export(args.size, args.scratch))
    elif args.child == "run" and args.backend == "cpp_app":
        emit(child_cpp(args.model, args.scratch, args.app, args.warmup, args.repeats))
    elif args.child == "run":
        emit(child_run(args.model, args.size, args.backend, args.scratch, args.warmup, args.repeats))
    elif args.scratch:
        Path(args.scratch).mkdir(parents=True, exist_ok=True)
        report(measure(args.size, str(Path(args.scratch).resolve()), args.repeats), args.markdown)
    else:
        with tempfile.TemporaryDirectory(prefix="bench_inference_") as scratch:
            report(measure(args.size, scratch, args.repeats), args.markdown)


if __name__ == "__main__":
    main()
