"""Fault injection for the data tools, preprocess.py and extract_features: kill -9 of the main process at seeded random
moments then the same command again, a second run while one runs, a full or read-only output disk, and bad inputs.

The data are tiny (12 videos of 32 frames, 64x48; flow from 16-pixel frames) so that each tool runs for a fraction
of a second; kill moments are fractions of the measured length of an uninterrupted run, so they land mid-run on a
slow or a fast machine alike. Outputs are compared byte for byte, without the `.lock` files (their text names the
last run).
"""
import math
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest

from src.data.locking import LOCK_NAME
from src.tools import extract_frames, generate_n_frames, generate_rgb_jpgs, make_sample_dataset, ucf101_json
from tests.helpers import tree_bytes
from tests.reliability.faults import (kill_after, kill_points, python_command, run, run_on_restricted_disk, start,
                                      wait_group_gone)

QUIET = ["--workers", "1", "--no-progress"]
PARALLEL = ["--workers", "2", "--no-progress"]
NUM_VIDEOS = 12


@pytest.fixture(scope="module")
def data(module_mktemp):
    """The inputs, made with the tools in this process: videos, rgb frames (32 px) with n_frames and annotation,
    16-pixel frames for flow, ECO-lite frames and split files."""
    root = module_mktemp("fault_data")
    assert make_sample_dataset.main([str(root / "raw"), "--num_classes", "3", "--groups", "4", "--clips", "1",
                                     "--num_frames", "32", "--width", "64", "--height", "48", "--datasets", "ucf101",
                                     *QUIET]) == 0
    videos = root / "raw/ucf101/videos"
    assert generate_rgb_jpgs.main([str(videos), str(root / "rgb"), "ucf101", "--size", "32", *QUIET]) == 0
    shutil.copytree(root / "rgb", root / "counted", ignore=shutil.ignore_patterns(LOCK_NAME))
    assert generate_n_frames.main([str(root / "counted"), *QUIET]) == 0
    assert ucf101_json.main([str(root / "raw/ucf101/splits"), str(root / "counted"), str(root / "annotation"),
                             "--splits", "1"]) == 0
    assert generate_rgb_jpgs.main([str(videos), str(root / "small"), "ucf101", "--size", "16", *QUIET]) == 0
    assert extract_frames.main(["--video_src_path", str(videos), "--image_save_path", str(root / "eco"), *QUIET]) == 0
    return {"videos": videos, "rgb": root / "rgb", "counted": root / "counted", "small": root / "small",
            "eco": root / "eco", "splits": root / "raw/ucf101/splits",
            "annotation": root / "annotation/ucf101_01.json"}


@dataclass
class Case:
    """One tool's command writing into a folder `out`, and what tells that its work has begun."""
    command: Callable[[Path], list]
    started: Optional[Callable[[Path], Callable[[], bool]]] = None  # None: from the process start
    prepare: Callable[[Path], None] = lambda out: None  # what `out` holds before the run (tools that write in place)
    full_kb: Callable[[Path], int] = lambda out: 256  # a tmpfs this size fills up part-way through the run


def lock_taken(out):
    return lambda: (out / LOCK_NAME).is_file()


def tmpfs_kb(folder, spare_pages):
    """Enough tmpfs for what `folder` holds (whole 4 KiB pages) plus `spare_pages`."""
    pages = sum(math.ceil(path.stat().st_size / 4096) for path in folder.rglob("*") if path.is_file())
    return 4 * (pages + spare_pages)


def make_case(name, data, request):
    if name == "generate_rgb_jpgs":
        return Case(lambda out: python_command("-m", "src.tools.generate_rgb_jpgs", data["videos"], out, "ucf101",
                                               "--size", "32", *PARALLEL), lock_taken)
    if name == "convert_rgb_to_flow":
        return Case(lambda out: python_command("-m", "src.tools.convert_rgb_to_flow", f"--rgb_path={data['small']}",
                                               f"--flow_path={out}", *PARALLEL), lock_taken)
    if name == "extract_frames":
        return Case(lambda out: python_command("./src/extract_frames.py", "--video_src_path", data["videos"],
                                               "--image_save_path", out, *PARALLEL), lock_taken)
    if name == "generate_n_frames":
        return Case(lambda out: python_command("-m", "src.tools.generate_n_frames", out, *PARALLEL), lock_taken,
                    prepare=lambda out: shutil.copytree(data["rgb"], out, ignore=shutil.ignore_patterns(LOCK_NAME)),
                    full_kb=lambda out: tmpfs_kb(out, spare_pages=4))
    if name == "gen_dataset_lists":
        return Case(lambda out: python_command("./src/gen_dataset_lists.py", "ucf101", data["eco"], "--splits_path",
                                               data["splits"], "--out_list_path", out),
                    full_kb=lambda out: 8)
    if name == "preprocess":
        return Case(lambda out: python_command("preprocess.py", "--dataset=ucf101", "--mode=rgb",
                                               f"--video_path={data['counted']}",
                                               f"--annotation_path={data['annotation']}", "--test_sample_duration=32",
                                               "--spatial_size=32", "--batch_size=1", "--num_workers=1",
                                               f"--save_dir={out}", "--no-progress"),
                    lambda out: lambda: (out / "label/ucf101/rgb/preprocess_info.json").is_file(),
                    full_kb=lambda out: 1024)  # 393 KiB per file: two of six fit
    if name == "extract_features":
        checkpoint = request.getfixturevalue("random_i3d_checkpoints")["rgb"]
        return Case(lambda out: python_command("-m", "src.tools.extract_features", "--mode", "rgb",
                                               "--checkpoint_path", checkpoint, "--out_dir", out, "--video_path",
                                               data["counted"], "--annotation_path", data["annotation"], "--window",
                                               "8", "--spatial_size", "32", "--batch_size", "1", "--num_workers", "1",
                                               "--device_target", "CPU", "--no-progress"),
                    lambda out: lambda: any(out.rglob("*.npy")),
                    full_kb=lambda out: 64)  # 16 KiB per video: three of twelve fit
    raise ValueError(name)


def outputs(root):
    """{relative path: bytes} of the files below root, lock files left out."""
    return {name: content for name, content in tree_bytes(root).items() if Path(name).name != LOCK_NAME}


def leftovers(names):
    """Temporary names among relative paths: what a failed or killed write must not leave behind for good."""
    return sorted(name for name in names if ".partial" in name or name.endswith(".old"))


def error_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.fixture(scope="module")
def references(data, module_mktemp):
    """name -> (outputs of an uninterrupted run, its seconds from `started` to the end), each made once."""
    made = {}

    def reference(name, case):
        if name not in made:
            out = module_mktemp(f"reference_{name}")
            shutil.rmtree(out)
            case.prepare(out)
            process = start(case.command(out))
            started = case.started(out) if case.started else (lambda: True)
            while not started() and process.poll() is None:
                time.sleep(0.005)
            begin = time.monotonic()
            stdout, stderr = process.communicate(timeout=600)
            assert process.returncode == 0, stdout + stderr
            made[name] = outputs(out), time.monotonic() - begin
        return made[name]
    return reference


KILL_CASES = [("generate_rgb_jpgs", 11, 3), ("convert_rgb_to_flow", 12, 2), ("extract_frames", 13, 3),
              ("generate_n_frames", 14, 2), ("gen_dataset_lists", 15, 2), ("preprocess", 16, 3),
              ("extract_features", 17, 2)]


@pytest.mark.fault_injection
@pytest.mark.parametrize("name, seed, points", KILL_CASES)
def test_kill_9_then_rerun_equals_an_uninterrupted_run(name, seed, points, data, references, request, tmp_path):
    """kill -9 of the main process only (as `kill -9 $!`): no process of the run survives it (workers die with their
    parent), and the same command again ends with the files of an uninterrupted run, no temporary left."""
    case = make_case(name, data, request)
    reference, seconds = references(name, case)
    killed = []
    for point, fraction in enumerate(kill_points(seed, points, low=0.1, high=0.8)):
        out = tmp_path / f"kill{point}"
        case.prepare(out)
        returncode, _, _, pgid = kill_after(case.command(out), fraction * seconds,
                                             ready=case.started(out) if case.started else None)
        assert wait_group_gone(pgid), f"a process of the killed {name} run outlived it"
        killed.append(returncode is None)
        rerun = run(case.command(out))
        assert rerun.returncode == 0, rerun.stderr
        assert outputs(out) == reference, f"kill point {point} ({fraction * seconds:.3f} s)"
        assert not leftovers(tree_bytes(out))
    assert any(killed), f"every run ended before its kill (uninterrupted run: {seconds:.3f} s)"


@pytest.mark.fault_injection
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_other_signals_stop_the_workers_too(sig, data, references, request, tmp_path):
    """SIGTERM or Ctrl-C's SIGINT to the main process of a parallel run, while its workers write frames: no worker
    survives; after Ctrl-C no temporary is left either; a rerun completes the output."""
    case = make_case("generate_rgb_jpgs", data, request)
    reference, _ = references("generate_rgb_jpgs", case)
    out = tmp_path / "out"
    inherited = signal.signal(sig, signal.SIG_DFL)  # an ignored signal (a background job's) would stay ignored there
    try:
        process = start(case.command(out))
    finally:
        signal.signal(sig, inherited)
    while process.poll() is None and not any(".partial" in path.name for path in out.rglob("*")):
        time.sleep(0.001)
    os.killpg(process.pid, signal.SIGSTOP)  # held mid-run while the signal goes to the main process alone
    assert process.poll() is None, "the run ended before the signal"
    process.send_signal(sig)
    os.killpg(process.pid, signal.SIGCONT)
    _, stderr = process.communicate(timeout=60)
    assert wait_group_gone(process.pid)
    if sig == signal.SIGINT:
        assert process.returncode == 130 and "interrupted; finished videos are kept" in stderr
        assert "Traceback" not in stderr and not leftovers(tree_bytes(out))
    assert run(case.command(out)).returncode == 0
    assert outputs(out) == reference


CONCURRENT_CASES = ["generate_rgb_jpgs", "convert_rgb_to_flow", "extract_frames", "generate_n_frames", "preprocess",
                    "extract_features"]
LOCK_FOLDER = {"preprocess": "label/ucf101/rgb"}


@pytest.mark.fault_injection
@pytest.mark.parametrize("name", CONCURRENT_CASES)
def test_second_run_is_refused_while_the_first_runs(name, data, references, request, tmp_path):
    """A second run on the same output is refused with one error naming the first (its pid), changes nothing, and the
    first, held still meanwhile, then finishes with the output of a run alone."""
    case = make_case(name, data, request)
    reference, _ = references(name, case)
    out = tmp_path / "out"
    case.prepare(out)
    lock = out / LOCK_FOLDER.get(name, ".") / LOCK_NAME
    first = start(case.command(out))
    try:
        while first.poll() is None and f"pid {first.pid} " not in (lock.read_text() if lock.is_file() else ""):
            time.sleep(0.002)
        assert first.poll() is None, "the first run ended before the second could start"
        os.killpg(first.pid, signal.SIGSTOP)  # it holds the lock; keep it from finishing during the second run
        second = run(case.command(out))
        assert second.returncode == 1
        assert len(error_lines(second.stderr)) == 1 and "Traceback" not in second.stderr
        assert f"is in use by pid {first.pid} " in second.stderr
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    stdout, stderr = first.communicate(timeout=600)
    assert first.returncode == 0, stdout + stderr
    assert outputs(out) == reference


DISK_CASES = ["generate_rgb_jpgs", "convert_rgb_to_flow", "extract_frames", "generate_n_frames", "gen_dataset_lists",
              "preprocess", "extract_features"]
RUNNER_TOOLS = {"generate_rgb_jpgs", "convert_rgb_to_flow", "extract_frames", "generate_n_frames", "extract_features"}


@pytest.mark.fault_injection
@pytest.mark.parametrize("name", DISK_CASES)
def test_full_disk_stops_the_run_with_one_clear_error(name, data, request, tmp_path):
    """The output on a tmpfs that fills up part-way: exit status 1, one `error:` line saying the disk is full, no
    traceback, no temporary left; the per-video tools stop at the first failure and say how many finished."""
    case = make_case(name, data, request)
    out = tmp_path / "out"
    case.prepare(out)
    result, listing = run_on_restricted_disk(case.command(out), out, "full", case.full_kb(out))
    assert result.returncode == 1, result.stdout + result.stderr
    errors = error_lines(result.stderr)
    assert len(errors) == 1 and "No space left on device (the disk is full;" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not leftovers(listing)
    if name in RUNNER_TOOLS:
        summary = next(line for line in result.stderr.splitlines() if "] done " in line)
        failed = int(summary.rsplit("failed ", 1)[1].split()[0].rstrip(","))
        assert 1 <= failed <= 2, summary  # what the two workers were doing, not every remaining video
        assert "stopped after" in errors[0] and "not started" in errors[0]


@pytest.mark.fault_injection
@pytest.mark.parametrize("name", DISK_CASES)
def test_read_only_output_is_one_clear_error(name, data, request, tmp_path):
    """The output folder read-only: exit status 1, one `error:` line saying so, no traceback, nothing changed."""
    case = make_case(name, data, request)
    out = tmp_path / "out"
    case.prepare(out)
    before = tree_bytes(out) if out.exists() else {}
    result, listing = run_on_restricted_disk(case.command(out), out, "readonly")
    assert result.returncode == 1, result.stdout + result.stderr
    errors = error_lines(result.stderr)
    assert len(errors) == 1 and "Read-only file system (the file system is read-only;" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert listing == {name: len(content) for name, content in before.items()}


@pytest.mark.fault_injection
def test_rerun_rebuilds_frame_folders_it_cannot_verify(data, references, request, tmp_path):
    """Folders under their final names that a killed older version could leave (frames 9..32 of 32, a gap, flow x
    without its y) are rebuilt with a warning, not skipped as finished; n_frames files that disagree are rewritten."""
    damage = {"generate_rgb_jpgs": ("MoveUp/v_MoveUp_g01_c01", [f"image_{i:05d}.jpg" for i in range(1, 9)]),
              "extract_frames": ("v_MoveDown_g02_c01", ["img_000005.jpg"]),
              "convert_rgb_to_flow": ("MoveSideways/v_MoveSideways_g03_c01", ["image_00031y.jpg"])}
    for name, (folder, removed) in damage.items():
        case = make_case(name, data, request)
        reference, _ = references(name, case)
        out = tmp_path / name
        assert run(case.command(out)).returncode == 0
        for file_name in removed:
            (out / folder / file_name).unlink()
        rerun = run(case.command(out))
        assert rerun.returncode == 0, rerun.stderr
        assert f"existing output incomplete ({out / folder}:" in rerun.stderr
        assert f"done 1, skipped {NUM_VIDEOS - 1} (already finished), failed 0, rebuilt 1 incomplete" in rerun.stderr
        assert outputs(out) == reference
    case = make_case("generate_n_frames", data, request)
    reference, _ = references("generate_n_frames", case)
    out = tmp_path / "n_frames"
    case.prepare(out)
    assert run(case.command(out)).returncode == 0
    (out / "MoveUp/v_MoveUp_g02_c01/n_frames").write_text("90\n")
    rerun = run(case.command(out))
    assert "n_frames says 90, the folder holds 32 frames" in rerun.stderr
    assert outputs(out) == reference


@pytest.mark.fault_injection
def test_gen_dataset_lists_refuses_frame_folders_with_gaps_or_no_frames(data, tmp_path):
    """A gap in a folder's frame numbers, or no frames, is an error naming the folder and the frame (exit status 1,
    nothing written for the split); with --skip_missing the videos are left out with a warning and a count."""
    frames = tmp_path / "eco"
    shutil.copytree(data["eco"], frames)
    (frames / "v_MoveUp_g02_c01/img_000007.jpg").unlink()
    for image in (frames / "v_MoveDown_g01_c01").iterdir():
        image.unlink()
    command = python_command("./src/gen_dataset_lists.py", "ucf101", frames, "--splits_path", data["splits"],
                             "--out_list_path", tmp_path / "lists", "--num_split", "1")
    result = run(command)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"frame folder {frames / 'v_MoveUp_g02_c01'}: frames missing, e.g. index [7] of 1..32" in result.stderr
    assert f"frame folder {frames / 'v_MoveDown_g01_c01'}: no img_<number> frames" in result.stderr
    assert not (tmp_path / "lists").exists()
    result = run([*command, "--skip_missing"])
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("warning, skipped") == 2 and "left out 2 unusable listed video(s)" in result.stderr
    listed = "".join(path.read_text() for path in (tmp_path / "lists").iterdir())
    assert listed.count("\n") == NUM_VIDEOS - 2
    assert "v_MoveUp_g02_c01 " not in listed and "v_MoveDown_g01_c01 " not in listed


@pytest.mark.fault_injection
def test_postprocess_refuses_the_labels_of_an_unfinished_preprocess(data, request, tmp_path):
    """preprocess.py writes its labels and record first. One that fails part-way (a corrupt frame in the last video),
    or is killed as soon as its record is there: postprocess.py refuses its labels, naming the record and saying to
    rerun preprocess.py; after the rerun (the frame fixed) it accepts them and goes on to the results."""
    frames = tmp_path / "frames"
    shutil.copytree(data["counted"], frames, ignore=shutil.ignore_patterns(LOCK_NAME))
    case = make_case("preprocess", {**data, "counted": frames}, request)
    broken = frames / "MoveSideways/v_MoveSideways_g04_c01/image_00001.jpg"  # the last validation video
    intact = broken.read_bytes()
    broken.write_bytes(b"\xff\xd8 not a JPEG")
    failed_out, killed_out, results = tmp_path / "failed", tmp_path / "killed", tmp_path / "results"
    results.mkdir()
    failed = run(case.command(failed_out))
    assert failed.returncode == 1 and f"{broken}: frame is unreadable" in failed.stderr
    *_, pgid = kill_after(case.command(killed_out), 0, ready=case.started(killed_out))  # it cannot finish either
    assert wait_group_gone(pgid)
    for out in (failed_out, killed_out):
        label_dir = out / "label/ucf101/rgb"
        postprocess = python_command("postprocess.py", f"--label-path={label_dir}", f"--result_path={results}")
        refused = run(postprocess)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert len(error_lines(refused.stderr)) == 1
        assert f"{label_dir / 'preprocess_info.json'}: that preprocessing did not finish: " in refused.stderr
        assert "rerun preprocess.py with the same options" in refused.stderr
    broken.write_bytes(intact)
    assert run(case.command(failed_out)).returncode == 0
    accepted = run(python_command("postprocess.py", f"--label-path={failed_out / 'label/ucf101/rgb'}",
                                  f"--result_path={results}"))
    assert accepted.returncode == 1 and "did not finish" not in accepted.stderr
    assert "result file not found" in accepted.stderr
