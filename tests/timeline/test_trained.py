"""A trained sample checkpoint on a long video of joined sample clips: its segments match the known boundaries.

The quick start's I3D rgb recipe (sample dataset of 6 classes, frames at short side 96, trained from scratch for 30
epochs on 16-frame 64x64 clips), then timeline.py on the test videos of split 1 joined class after class
(scripts/timeline_sample.py), 16-frame windows every 4 frames, scores smoothed over the 5 windows within half a window:
segment IoU >= 0.8 (0.88 measured; 0.75 unsmoothed, where windows straddling two clips of a class see a jump, e.g. a
zoom-in's large object followed by the next clip's small one). About 3 minutes on 2 idle cores, mostly training."""
import re

import pytest

from tests.helpers import run_cli

pytestmark = pytest.mark.slow

QUIET = ["--no-progress"]
CLIP = ["--spatial_size", "64", "--test_sample_duration", "16", "--train_sample_duration", "16"]


def train(mode, data, run_dir):
    run_cli(["train.py", "--dataset", "ucf101", "--mode", mode, "--video_path", data / mode / "jpg",
             "--annotation_path", data / mode / "annotation/ucf101_01.json", "--num_classes", "6", *CLIP,
             "--batch_size", "8", "--num_workers", "2", "--optimizer", "adam", "--lr", "0.001", "--lr_de_epochs", "6",
             "--bn_momentum", "0.1", "--num_epochs", "30", "--no_eval", "--save_dir", run_dir, "--device_target",
             "CPU", *QUIET])
    return next((run_dir / f"ucf101_{mode}/checkpoints").glob("i3d-30_*.ckpt"))


def test_timeline_of_joined_test_clips(tmp_path, monkeypatch):
    root = tmp_path
    monkeypatch.setenv("I3D_CACHE_DIR", str(root / "cache"))  # the ONNX export, not the user's cache
    raw, rgb = root / "raw", root / "rgb"
    run_cli(["-m", "src.tools.make_sample_dataset", raw, "--datasets", "ucf101", *QUIET])
    run_cli(["-m", "src.tools.generate_rgb_jpgs", raw / "ucf101/videos", rgb / "jpg", "ucf101", "--size", "96", *QUIET])
    run_cli(["-m", "src.tools.generate_n_frames", rgb / "jpg", *QUIET])
    run_cli(["-m", "src.tools.ucf101_json", raw / "ucf101/splits", rgb / "jpg", rgb / "annotation"])
    run_cli(["train.py", "--dataset", "ucf101", "--mode", "rgb", "--video_path", rgb / "jpg", "--annotation_path",
             rgb / "annotation/ucf101_01.json", "--num_classes", "6", *CLIP, "--batch_size", "8", "--num_workers", "2",
             "--optimizer", "adam", "--lr", "0.001", "--lr_de_epochs", "6", "--bn_momentum", "0.1", "--num_epochs",
             "30", "--no_eval", "--save_dir", root / "i3d", "--device_target", "CPU", *QUIET])
    checkpoint = next((root / "i3d/ucf101_rgb/checkpoints").glob("i3d-30_*.ckpt"))
    run_cli(["scripts/timeline_sample.py", raw / "ucf101", root / "long"])
    result = run_cli(["timeline.py", root / "long/sample_long.avi", "--truth", root / "long/sample_long_truth.csv",
                      "--rgb_path", checkpoint, "--label_map", raw / "ucf101/label_map.txt", "--sample_duration",
                      "16", "--spatial_size", "64", "--frame_size", "96", "--stride", "4", "--smooth", "5",
                      "--out_png", root / "timeline.png", "--device_target", "CPU", *QUIET])
    iou = float(re.search(r"segment IoU against .*: ([0-9.]+)", result.stdout).group(1))
    print(f"segment IoU of the trained checkpoint: {iou:.4f}")
    assert iou >= 0.8, result.stdout
