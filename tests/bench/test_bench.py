"""The benchmark harness's smoke run at the tiny size: every section runs and reports sane figures.

Benchmarks are not tests: nothing here checks a speed, only that each measurement ran, the backends agree and the
report is written (and can be re-rendered from its JSON)."""
import importlib.util
import json
import shutil
import subprocess
import sys

import pytest

from tests.helpers import REPO_ROOT

pytestmark = pytest.mark.slow  # the whole benchmark harness at its tiny size: minutes
HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.fixture(scope="module")
def tiny_run(module_mktemp):
    out = module_mktemp("bench")
    done = subprocess.run([sys.executable, "bench/run.py", "--size", "tiny", "--out_dir", str(out)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=1500)
    return done, out


def test_every_section_runs(tiny_run):
    done, out = tiny_run
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((out / "benchmarks_tiny.json").read_text())
    sections = report["sections"]
    assert set(sections) == {"train", "loop", "profile", "inference", "loader", "data_tools"}
    assert report["machine"]["cores"] >= 1 and report["command"].startswith("python bench/run.py --size tiny")

    trains = sections["train"]["results"]
    assert {(r["model"], r["mode"]) for r in trains} >= {("i3d_rgb", "graph"), ("i3d_rgb", "pynative"),
                                                          ("i3d_flow", "graph"), ("eco_lite", "graph")}
    assert {r["amp"] for r in trains} == {"O0", "O1", "O2", "O3"}
    for result in trains:
        assert "error" not in result, result
        assert result["clips_per_s"] > 0 and result["peak_rss_mib"] > 100 and result["forward_gflops_per_clip"] > 0
    if HAS_TORCH:  # the PyTorch peer runs after every GRAPH O0 row; at the tiny size only ECO-lite's can train
        peers = {(r["model"], r["mode"], r["amp"]): r.get("pytorch") for r in trains}
        assert all((peer is not None) == (mode == "graph" and amp == "O0") for (_, mode, amp), peer in peers.items())
        assert peers[("eco_lite", "graph", "O0")]["s_per_step"] > 0

    assert [r["mode"] for r in sections["loop"]["results"]] == ["graph", "pynative"]
    assert sum(sections["profile"]["by_kind_ms"].values()) > 0
    top_ops = sections["profile"]["top_ops_ms"]
    assert top_ops.get("Conv3D", 0) + top_ops.get("Custom: convolution forward", 0) > 0
    assert sections["profile"]["eco_lite"]["model"] == "eco_lite"
    kinds = set(sections["profile"]["convolution_gflop_per_s"])
    gradients = ({"convolution gradient (input)", "convolution gradient (weights)"},  # MindSpore's kernels
                 {"convolution gradients (compiled, input and weights)"})  # src/ops where built
    assert "convolution forward" in kinds and any(kind <= kinds for kind in gradients), kinds

    backends = {(r["model"], r["backend"]): r for r in sections["inference"]["results"]}
    expected = {"mindspore_ckpt", "mindspore_mindir", "onnxruntime"} | (
        {"cpp_app"} if shutil.which("cmake") and shutil.which("g++") else set()) | (
        {"pytorch"} if HAS_TORCH else set())
    for model in ("i3d_rgb", "eco_lite"):
        for backend in expected:
            result = backends[(model, backend)]
            assert "error" not in result, result
            assert result["max_abs_diff_vs_ckpt"] < 1e-3

    for row in sections["loader"]["results"]:
        assert min(row[key] for key in row if key.endswith("w")) > 0
    assert sections["data_tools"]["outputs_identical_across_worker_counts"] is True


def test_report_is_written_and_rerenders_from_its_json(tiny_run):
    done, out = tiny_run
    markdown = (out / "benchmarks_tiny.md").read_text()
    for heading in ("## Targets", "## Training step", "## Training loop against the bare step",
                    "## Where one training step goes", "## Inference backends", "## Data loader",
                    "## Frame extraction and TV-L1 flow"):
        assert heading in markdown
    assert "failed" not in markdown.lower()
    rendered = subprocess.run([sys.executable, "bench/report.py", str(out / "benchmarks_tiny.json")], cwd=REPO_ROOT,
                              capture_output=True, text=True, check=True).stdout
    assert rendered == markdown


def test_unknown_section_is_refused():
    done = subprocess.run([sys.executable, "bench/run.py", "--sections", "train,warp"], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "warp" in done.stderr
