"""docs/benchmarks.md from bench/run.py's report: the machine, the command, one table per section, the targets.

    .venv/bin/python bench/report.py bench/results/benchmarks_seed.json [> docs/benchmarks.md]

re-renders a saved report without measuring again.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import inference, loader, profile_step  # noqa: E402
from bench.common import SIZES  # noqa: E402

LOADER_TARGET, FLOW_TARGET = 4.0, 1.8
TRAIN_PEER_TARGET, INFERENCE_PEER_TARGET = 1.0, 0.6  # this project's time ÷ PyTorch's, same run
ORIGINAL_CROP = 224  # the originals' training crop: the training targets are judged at it


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def failed(section):
    return section is None or "error" in section


def train_rows(section):
    rows = []
    for r in section["results"]:
        shape = f"{r['frames']} seg. x {r['crop']}²" if r["model"] == "eco_lite" else f"{r['frames']}x{r['crop']}²"
        head = [r["model"], shape, r["batch"], r["mode"], r["amp"]]
        if "error" in r:
            what = "does not run on this machine" if r.get("unsupported") else "failed"
            rows.append(head + [f"{what}: {r['error'][:120]}".replace("|", "/")] + [""] * 8)
            continue
        rows.append(head + [f"{r['s_per_step']:.3f}", f"{r['clips_per_s']:.3f}", f"{r['first_steps_s']:.1f}",
                            f"{r['peak_rss_mib']:,.0f}", f"{r['forward_gflops_per_clip']:.1f}",
                            f"{r['achieved_gflop_per_s']:.1f}"] + peer_cells(r))
    return rows


def peer_cells(r):
    """PyTorch s/step, project ÷ PyTorch time, project ÷ PyTorch peak memory; blank where no peer ran."""
    peer = r.get("pytorch")
    if peer is None:
        return ["", "", ""]
    if "error" in peer:
        return [f"PyTorch cannot run it: {peer['error'][:100]}".replace("|", "/"), "", ""]
    return [f"{peer['s_per_step']:.3f}", f"{r['s_per_step'] / peer['s_per_step']:.2f}",
            f"{r['peak_rss_mib'] / peer['peak_rss_mib']:.2f}"]


def peer_ratios(section):
    """[(label, time ratio, memory ratio, at the originals' crop)] of the rows with a PyTorch peer."""
    found = []
    for r in section["results"]:
        peer = r.get("pytorch")
        if peer and "error" not in peer and "error" not in r:
            frames = f"{r['frames']} seg. x " if r["model"] == "eco_lite" else f"{r['frames']}x"
            shape = f"{frames}{r['crop']}²"
            found.append((f"{r['model']} {shape} batch {r['batch']}", r["s_per_step"] / peer["s_per_step"],
                          r["peak_rss_mib"] / peer["peak_rss_mib"], r["crop"] == ORIGINAL_CROP))
    return found


def peer_list(ratios):
    return ", ".join(f"{label} {ratio:.2f} / {memory:.2f}" for label, ratio, memory, _ in ratios)


def graph_vs_pynative(section):
    """[(model, frames, graph s/step, pynative s/step)] at batch 1, O0."""
    found = {}
    for r in section["results"]:
        if r["batch"] == 1 and r["amp"] == "O0" and "error" not in r:
            found.setdefault((r["model"], f"{r['frames']}x{r['crop']}"), {})[r["mode"]] = r["s_per_step"]
    return [(model, clip, modes["graph"], modes["pynative"]) for (model, clip), modes in found.items()
            if {"graph", "pynative"} <= modes.keys()]


def consumption(section, size):
    """Training clips/s (GRAPH, O0, batch 1, the loader's clip size) per loader pipeline name."""
    crops = {SIZES[size]["crop"], SIZES[size]["eco_crop"]}
    rates = {}
    for r in section["results"]:
        if r["mode"] == "graph" and r["amp"] == "O0" and r["batch"] == 1 and r["crop"] in crops and "error" not in r:
            name = f"eco_{r['frames']}" if r["model"] == "eco_lite" else r["model"]
            rates[name] = r["clips_per_s"]
    return rates


def targets(report):
    """Markdown bullet lines: each of the issue's targets, measured."""
    sections, lines = report["sections"], []
    train, load, tools = sections.get("train"), sections.get("loader"), sections.get("data_tools")
    if not failed(load):
        for n in load["workers"]:
            worst = min(load["results"], key=lambda r: r[f"speedup_{n}w"])
            verdict = "met" if worst[f"speedup_{n}w"] >= LOADER_TARGET else "NOT met"
            lines.append(f"- Loader vs the seed-style loader, {n} worker(s): "
                         + ", ".join(f"{r['pipeline']} {r[f'speedup_{n}w']:.2f}x" for r in load["results"])
                         + f" (target >= {LOADER_TARGET:.0f}x: {verdict}; worst {worst['pipeline']}).")
        ceilings = ", ".join(f"{r['pipeline']} {r['decode_only_1w'] / r['seed_1w']:.1f}x (ours spends "
                             f"{1 - r['ours_1w'] / r['decode_only_1w']:.0%} of its time outside decoding)"
                             for r in load["results"])
        lines.append(f"- Decoding the JPEGs alone, one worker, is this many times faster than the seed-style loader: "
                     f"{ceilings}; no JPEG loader can beat that ceiling on one core.")
        if not failed(train):
            rates = consumption(train, report["size"])
            margins = [(r["pipeline"], r[f"ours_{load['workers'][-1]}w"] / rates[r["pipeline"]])
                       for r in load["results"] if r["pipeline"] in rates]
            if margins:
                lines.append("- Loader vs the model's training speed: " + ", ".join(
                    f"{name} {margin:,.0f}x faster" for name, margin in margins) + ".")
    if not failed(train):
        pairs = graph_vs_pynative(train)
        if pairs:
            lines.append("- GRAPH vs PYNATIVE training step (batch 1): " + ", ".join(
                f"{model} {clip}: PYNATIVE takes {py / gr:.2f}x GRAPH's time" for model, clip, gr, py in pairs)
                + (" (GRAPH not slower: met)." if all(gr <= py for _, _, gr, py in pairs)
                   else " (GRAPH slower somewhere: NOT met)."))
        ratios = peer_ratios(train)
        judged = [row for row in ratios if row[3]]
        others = [row for row in ratios if not row[3]]
        if judged:
            time_met = all(ratio <= TRAIN_PEER_TARGET for _, ratio, _, _ in judged)
            memory_met = all(memory <= 1.0 for _, _, memory, _ in judged)
            lines.append(f"- Training step at the originals' {ORIGINAL_CROP}² crops, this project ÷ PyTorch (same "
                         "run; time, peak memory): " + peer_list(judged)
                         + f" (time <= {TRAIN_PEER_TARGET}: {'met' if time_met else 'NOT met'}; memory <= 1: "
                           f"{'met' if memory_met else 'NOT met'}).")
        if others:
            lines.append("- Training step at smaller sizes, this project ÷ PyTorch (time, peak memory; not a target): "
                         + peer_list(others) + ".")
    inference_section = sections.get("inference")
    if not failed(inference_section):
        ok = [r for r in inference_section["results"] if "error" not in r]
        peers = {r["model"]: r["ms_per_clip"] for r in ok if r["backend"] == "pytorch"}
        best = {}
        for r in ok:
            if r["backend"] != "pytorch" and r["model"] in peers:
                best[r["model"]] = min(best.get(r["model"], (float("inf"), "")), (r["ms_per_clip"], r["backend"]))
        if best:
            met = all(ms / peers[model] <= INFERENCE_PEER_TARGET for model, (ms, _) in best.items())
            lines.append("- Inference, fastest backend ÷ PyTorch: " + ", ".join(
                f"{model} {backend} {ms / peers[model]:.2f}" for model, (ms, backend) in best.items())
                + f" (target <= {INFERENCE_PEER_TARGET}: {'met' if met else 'NOT met'}).")
    loop = sections.get("loop")
    if not failed(loop):
        lines.append("- train.py's loop vs the bare step: " + ", ".join(
            f"{r['mode']} {r['loop_over_bare']:.2f}x" for r in loop["results"]) + ".")
    if not failed(tools):
        verdict = "met" if tools["flow_speedup"] >= FLOW_TARGET and tools["outputs_identical_across_worker_counts"] \
            else "NOT met"
        lines.append(f"- TV-L1 flow, {tools['machine']['cpu_count']} workers vs 1: {tools['flow_speedup']:.2f}x, "
                     f"outputs identical: {tools['outputs_identical_across_worker_counts']} "
                     f"(target >= {FLOW_TARGET}x: {verdict}).")
    profile = sections.get("profile")
    if not failed(profile):
        lines.append(f"- I3D rgb training: {profile['achieved_gflop_per_s']:.1f} GFLOP/s achieved, "
                     f"{profile['share_of_peak']:.0%} of this machine's float32 matrix-product speed "
                     f"({profile['matmul_peak_gflop_per_s']:.1f} GFLOP/s).")
    return lines


def profile_markdown(section):
    """I3D's profile, then ECO-lite's where the run has one."""
    lines = profile_step.markdown(section)
    eco = section.get("eco_lite")
    if eco is not None:
        lines += [""] + ([f"ECO-lite profile failed: {eco['error']}"] if "error" in eco else profile_step.markdown(eco))
    return lines


def section_or_failure(title, section, body):
    lines = ["", f"## {title}", ""]
    if section is None:
        return []
    if "error" in section:
        return lines + [f"Failed: {section['error']}"]
    return lines + body(section)


def render(report):
    m = report["machine"]
    lines = ["# Benchmarks", "",
             f"Generated by `{report['command']}` on {report['date']} (size: {report['size']}); "
             + "; ".join(f"{name} measured by `{section.get('measured_by', report['command'])}` on "
                         f"{section.get('measured_at', report['date'])}"
                         for name, section in report["sections"].items())
             + ". Rerun `python bench/run.py` (with `--size tiny` for the small size) to regenerate this page and "
             "the JSON beside it (`bench/results/benchmarks_<size>.json`), `--sections` to redo some sections only.",
             "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['os']}; Python {m['python']}; "
             + ", ".join(f"{name} {version}" for name, version in m["versions"].items() if version)
             + f"; oneDNN ISA cap {m['ONEDNN_MAX_CPU_ISA']}"
             + (f"; OpenBLAS kernels of the compiled convolutions: {m['openblas_core']}" if m.get("openblas_core")
                else "") + ".",
             "", "Figures come from one run and are ratios within it; this machine's speed drifts by 10-30 % between "
             "runs, so compare ratios, not absolute values across runs.", "", "## Targets", ""]
    lines += targets(report) or ["(no section with targets was run)"]
    sections = report["sections"]
    lines += section_or_failure("Training step", sections.get("train"), lambda s: [
        "Forward + backward + optimizer update, built as train.py builds it (I3D: Adam and build_train_network; "
        "ECO-lite: Nesterov SGD, parameter groups, clipping), random input fed from host memory each step. "
        "s/step is the median of the timed steps after one warm-up step; \"first steps\" is that warm-up, "
        "compilation included. GFLOP/s counts a training step as 3x the analytic forward FLOPs. The PyTorch peer "
        "(bench/torch_peer.py: piergiaj's I3D, zhang-can's ECO-lite, same optimizer and input) runs right after each "
        "GRAPH O0 row in the same run, with PyTorch's default threads and no oneDNN ISA cap.", ""] + table(
        ["model", "clip", "batch", "mode", "AMP", "s / step", "clips / s", "first step (s)", "peak RSS (MiB)",
         "forward GFLOPs / clip", "GFLOP/s", "PyTorch s / step", "÷ PyTorch", "peak RSS ÷ PyTorch"],
        train_rows(s)) + [
        "", "AMP levels run on this CPU but its fp16 convolutions are computed in fp32, so they add casts and no "
        "speed (docs: mindspore-cpu-facts); on Ascend train.py defaults to O3."])
    lines += section_or_failure("Training loop against the bare step", sections.get("loop"), lambda s: [
        f"train.py on a small sample dataset ({s['clip']} clips, batch {s['batch']}, 2 loader workers, no "
        "evaluation); seconds per step over epochs 2-3 (epoch 1 holds the compilation) against the bare step of "
        "the same size.", ""] + table(
        ["mode", "epoch times (s)", "steps / epoch", "loop s / step", "bare s / step", "loop / bare"],
        [[r["mode"], ", ".join(f"{t:.2f}" for t in r["loop"]["epoch_s"]), r["loop"]["steps_per_epoch"],
          f"{r['loop']['s_per_step']:.3f}", f"{r['bare_s_per_step']:.3f}", f"{r['loop_over_bare']:.2f}x"]
         for r in s["results"]]) + ["", f"PYNATIVE's loop takes {s['pynative_over_graph_loop']:.2f}x GRAPH's time "
                                        "per step."])
    lines += section_or_failure("Where one training step goes", sections.get("profile"), profile_markdown)
    lines += section_or_failure("Inference backends", sections.get("inference"), lambda s: [
        "One exported model and one random clip through each backend; logits compared with the MindSpore "
        "checkpoint's.", ""] + inference.markdown(s))
    lines += section_or_failure("Data loader", sections.get("loader"), lambda s: [
        f"Training clips from JPEG frames ({s['videos']} rendered videos of {s['frames_per_video']} frames, short "
        f"side {s['frame_short_side']}, linked to make the epoch long), clips/s, median of 3 runs, each loader in "
        "a fresh process. "
        "Seed-style: bench/seed_loader.py (per frame a PIL open and float64 numpy work, in GeneratorDataset worker "
        "processes, as the seeds did). Before: our clip code through MindSpore's GeneratorDataset (the training "
        "pipeline until this benchmark); after: src.data.pipeline.epoch_batches (threads, no extra copies). "
        "\"Decode only\" is the ceiling of any JPEG loader on one core. \"Model trains\" is the GRAPH training "
        "step's clips/s at the same clip size.", ""] + loader.markdown(
        s, consumption(sections["train"], report["size"]) if not failed(sections.get("train")) else None))
    lines += section_or_failure("Frame extraction and TV-L1 flow", sections.get("data_tools"), lambda s: [
        f"`bench/data_tools.py`: sample-dataset videos, frames written at short side {s['frame_size_short_side']}, "
        "1 worker against all cores.", ""] + table(
        ["step", "workers", "frames", "seconds", "frames / s"],
        [[name.rsplit("_", 1)[0], name.rsplit("_", 1)[1], r.get("frames", r.get("flow_frames")), r["seconds"],
          r["frames_per_s"]] for name, r in s["results"].items()]) + [
        "", f"Speed-up with all cores: extraction {s['extract_speedup']:.2f}x, flow {s['flow_speedup']:.2f}x; "
            f"outputs byte-identical across worker counts: {s['outputs_identical_across_worker_counts']}."])
    return "\n".join(lines) + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: bench/report.py REPORT.json")
    sys.stdout.write(render(json.loads(Path(argv[0]).read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
