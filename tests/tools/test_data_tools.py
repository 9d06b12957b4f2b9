"""The data-preparation tools on a tiny generated dataset: outputs, CLIs, parallelism, sharding, resume."""
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from src.data.annotations import load_annotation, read_list_file
from src.data.flow import dequantize_flow, quantize_flow, tvl1_estimator, video_flow
from src.tools import (convert_rgb_to_flow, extract_frames, gen_dataset_lists, generate_n_frames,
                       generate_rgb_jpgs, hmdb51_json, make_sample_dataset, ucf101_json)
from src.data.locking import LOCK_NAME
from tests.helpers import REPO_ROOT, run_cli, tree_bytes

QUIET = ["--workers", "1", "--no-progress"]
NUM_FRAMES = 8


def outputs(root):
    """tree_bytes without the lock files (their text names the last run)."""
    return {name: data for name, data in tree_bytes(root).items() if Path(name).name != LOCK_NAME}


@pytest.fixture(scope="module")
def raw(module_mktemp):
    out = module_mktemp("raw")
    assert make_sample_dataset.main([str(out), "--num_classes", "3", "--groups", "3", "--clips", "1",
                                     "--num_frames", str(NUM_FRAMES), "--width", "48", "--height", "32",
                                     *QUIET]) == 0
    return out


@pytest.fixture(scope="module")
def prepared(raw, module_mktemp):
    """The full I3D + ECO preparation chain, run through the tools' main functions."""
    out = module_mktemp("prepared")
    for ds in ("ucf101", "hmdb51"):
        rgb, flow = out / "rgb" / ds / "jpg", out / "flow" / ds / "jpg"
        assert generate_rgb_jpgs.main([str(raw / ds / "videos"), str(rgb), ds, "--size", "40", *QUIET]) == 0
        assert convert_rgb_to_flow.main(["--rgb_path", str(rgb), "--flow_path", str(flow), *QUIET]) == 0
        assert generate_n_frames.main([str(rgb), *QUIET]) == 0
        assert generate_n_frames.main([str(flow), *QUIET]) == 0
        tool = ucf101_json if ds == "ucf101" else hmdb51_json
        assert tool.main([str(raw / ds / "splits"), str(rgb), str(out / "rgb" / ds / "annotation")]) == 0
    eco = out / "eco"
    assert extract_frames.main(["--video_src_path", str(raw / "ucf101" / "videos"),
                                "--image_save_path", str(eco / "frames"), *QUIET]) == 0
    assert gen_dataset_lists.main(["ucf101", str(eco / "frames"), "--splits_path", str(raw / "ucf101" / "splits"),
                                   "--out_list_path", str(eco / "lists")]) == 0
    return out


def test_rgb_frames_layout_and_size(prepared):
    video = prepared / "rgb/ucf101/jpg/MoveUp/v_MoveUp_g01_c01"
    names = sorted(p.name for p in video.iterdir())
    assert names == [f"image_{i:05d}.jpg" for i in range(1, NUM_FRAMES + 1)] + ["n_frames"]
    assert cv2.imread(str(video / "image_00001.jpg")).shape == (40, 60, 3)  # short side 40, aspect kept
    assert (video / "n_frames").read_text().strip() == str(NUM_FRAMES)


def test_flow_layout_pairing_and_n_frames(prepared):
    video = prepared / "flow/hmdb51/jpg/move_up/move_up_g01_c01"
    names = {p.name for p in video.iterdir()}
    count = NUM_FRAMES - 1  # flow k = frame k -> k+1
    assert names == {f"image_{i:05d}{axis}.jpg" for i in range(1, count + 1) for axis in "xy"} | {"n_frames"}
    assert (video / "n_frames").read_text().strip() == str(count)
    assert cv2.imread(str(video / "image_00001x.jpg"), cv2.IMREAD_UNCHANGED).ndim == 2


def test_annotation_json_schema(prepared):
    ucf = load_annotation(prepared / "rgb/ucf101/annotation/ucf101_01.json")
    assert ucf["labels"] == ["MoveUp", "MoveDown", "MoveSideways"]
    entry = ucf["database"]["v_MoveUp_g01_c01"]
    assert entry == {"subset": "validation", "annotations": {"label": "MoveUp", "segment": [1, NUM_FRAMES + 1]}}
    assert ucf["database"]["v_MoveDown_g02_c01"]["subset"] == "training"
    hmdb = load_annotation(prepared / "rgb/hmdb51/annotation/hmdb51_3.json")
    assert hmdb["labels"] == ["move_down", "move_sideways", "move_up"]
    assert hmdb["database"]["move_up_g03_c01"]["subset"] == "validation"
    assert sorted(p.name for p in (prepared / "rgb/hmdb51/annotation").iterdir()) == \
        ["hmdb51_1.json", "hmdb51_2.json", "hmdb51_3.json"]


def test_eco_frames_and_lists(prepared):
    frames = prepared / "eco/frames"
    assert sorted(p.name for p in (frames / "v_MoveUp_g01_c01").iterdir())[:2] == ["img_000001.jpg", "img_000002.jpg"]
    assert cv2.imread(str(frames / "v_MoveUp_g01_c01/img_000001.jpg")).shape == (32, 48, 3)  # native size
    train = read_list_file(prepared / "eco/lists/ucf101_rgb_train_split_1.txt")
    val = read_list_file(prepared / "eco/lists/ucf101_rgb_val_split_1.txt")
    assert len(train) == 6 and len(val) == 3
    assert (str(frames / "v_MoveSideways_g01_c01"), NUM_FRAMES, 2) in val
    assert sorted(p.name for p in (prepared / "eco/lists").iterdir()) == sorted(
        f"ucf101_rgb_{s}_split_{k}.txt" for s in ("train", "val") for k in (1, 2, 3))


def test_eco_list_shuffle_is_seeded(prepared, raw, tmp_path):
    args = ["ucf101", str(prepared / "eco/frames"), "--splits_path", str(raw / "ucf101/splits"), "--num_split", "1"]
    gen_dataset_lists.main([*args, "--out_list_path", str(tmp_path / "a")])
    gen_dataset_lists.main([*args, "--out_list_path", str(tmp_path / "b")])
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")


def test_seed_command_lines(raw, tmp_path):
    """The seed README's invocations: `python -m X` and `python X.py` inside src/tools, ECO from the root."""
    tools = REPO_ROOT / "src" / "tools"
    rgb, flow = tmp_path / "rgb", tmp_path / "flow"
    run_cli(["-m", "generate_rgb_jpgs", str(raw / "ucf101/videos"), str(rgb), "ucf101", "--n_jobs", "1", "--size", "32"], cwd=tools)
    run_cli(["convert_rgb_to_flow.py", f"--rgb_path={rgb}", f"--flow_path={flow}", "--workers", "1"], cwd=tools)
    run_cli(["generate_n_frames.py", str(rgb)], cwd=tools)
    run_cli(["-m", "ucf101_json", str(raw / "ucf101/splits"), str(rgb), str(tmp_path / "annotation")], cwd=tools)
    run_cli(["./src/extract_frames.py", "--video_src_path", str(raw / "ucf101/videos"),
             "--image_save_path", str(tmp_path / "eco")])
    run_cli(["./src/gen_dataset_lists.py", "ucf101", str(tmp_path / "eco"), "--splits_path",
             str(raw / "ucf101/splits"), "--out_list_path", str(tmp_path / "lists")])
    assert (tmp_path / "annotation/ucf101_02.json").is_file()
    assert (tmp_path / "lists/ucf101_rgb_val_split_3.txt").is_file()
    assert len(list(flow.rglob("*x.jpg"))) == 9 * (NUM_FRAMES - 1)


def test_flow_measures_a_known_shift_and_quantizes_linearly():
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.integers(0, 256, (64, 80), dtype=np.uint8), (0, 0), 1.2)
    shifted = np.roll(texture, 3, axis=1)  # content moves 3 px to the right
    flow = next(video_flow([texture, shifted], tvl1_estimator()))
    decoded = dequantize_flow(quantize_flow(flow))
    assert np.median(decoded[8:-8, 8:-8, 0]) == pytest.approx(3.0, abs=0.25)
    assert np.median(np.abs(decoded[8:-8, 8:-8, 1])) < 0.25
    assert quantize_flow(np.array([[[-25.0, 0.0]], [[20.0, 10.0]]])).tolist() == [[[0, 128]], [[255, 191]]]


def test_seed_pairing_starts_with_zero_flow(prepared, tmp_path):
    flow = tmp_path / "flow"
    assert convert_rgb_to_flow.main(["--rgb_path", str(prepared / "rgb/ucf101/jpg"), "--flow_path", str(flow),
                                     "--seed_pairing", *QUIET]) == 0
    video = flow / "MoveUp/v_MoveUp_g01_c01"
    assert len(list(video.glob("*x.jpg"))) == NUM_FRAMES
    first = cv2.imread(str(video / "image_00001x.jpg"), cv2.IMREAD_GRAYSCALE).astype(int)
    assert np.abs(first - 128).max() <= 2
    default = prepared / "flow/ucf101/jpg/MoveUp/v_MoveUp_g01_c01"
    assert (video / "image_00002y.jpg").read_bytes() == (default / "image_00001y.jpg").read_bytes()


def test_parallel_and_sharded_runs_equal_a_serial_run(prepared, tmp_path):
    rgb = str(prepared / "rgb/ucf101/jpg")
    convert_rgb_to_flow.main(["--rgb_path", rgb, "--flow_path", str(tmp_path / "parallel"), "--workers", "2",
                              "--no-progress"])
    for shard_id in (0, 1):
        convert_rgb_to_flow.main(["--rgb_path", rgb, "--flow_path", str(tmp_path / f"shard{shard_id}"),
                                  "--num_shards", "2", "--shard_id", str(shard_id), *QUIET])
    serial = {k: v for k, v in outputs(prepared / "flow/ucf101/jpg").items() if not k.endswith("n_frames")}
    assert outputs(tmp_path / "parallel") == serial
    shard0, shard1 = outputs(tmp_path / "shard0"), outputs(tmp_path / "shard1")
    assert shard0 and shard1 and not set(shard0) & set(shard1)
    assert {**shard0, **shard1} == serial


def test_interrupted_run_resumes_to_the_same_result(prepared, tmp_path):
    rgb, out = str(prepared / "rgb/ucf101/jpg"), tmp_path / "flow"
    command = [sys.executable, "-m", "src.tools.convert_rgb_to_flow", "--rgb_path", rgb, "--flow_path", str(out),
               "--workers", "1", "--no-progress"]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and len([p for p in out.glob("*/*") if not p.name.startswith(".")]) < 2:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = [p for p in out.glob("*/*") if not p.name.startswith(".")]
    assert 2 <= len(finished) < 9, "the run should have been stopped part-way"
    reference = {k: v for k, v in outputs(prepared / "flow/ucf101/jpg").items() if not k.endswith("n_frames")}
    for folder in finished:  # whatever looks finished is complete
        prefix = str(folder.relative_to(out)) + "/"
        assert {k: v for k, v in outputs(out).items() if k.startswith(prefix)} == \
            {k: v for k, v in reference.items() if k.startswith(prefix)}
    result = run_cli(command[1:])
    assert f"skipped {len(finished)}" in result.stderr
    assert outputs(out) == reference
    assert not list(out.rglob(".*partial"))
