"""Small utilities shared by the tests."""
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_cli(args, cwd=REPO_ROOT, check=True, **kwargs):
    """Run a command with this interpreter; returns CompletedProcess with text stdout/stderr."""
    env = dict(os.environ, PYTHONPATH="")
    result = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def tree_bytes(root):
    """{relative path: bytes} of every file below root, to compare whole outputs; the `.lock` files that name the
    run holding a folder are no output."""
    root = Path(root)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def make_tiny_i3d_data(root):
    """Tiny prepared UCF101-style data made with the real tools (3 classes, 12 training and 6 validation videos of
    8 frames, 32 px): {'rgb', 'flow', 'annotation', 'root'}."""
    from src.tools import convert_rgb_to_flow, generate_n_frames, generate_rgb_jpgs, make_sample_dataset, ucf101_json

    quiet = ["--workers", "1", "--no-progress"]
    raw, rgb, flow = root / "raw", root / "rgb", root / "flow"
    assert make_sample_dataset.main([str(raw), "--num_classes", "3", "--groups", "3", "--clips", "2", "--num_frames",
                                     "8", "--width", "48", "--height", "32", "--datasets", "ucf101", *quiet]) == 0
    assert generate_rgb_jpgs.main([str(raw / "ucf101/videos"), str(rgb), "ucf101", "--size", "32", *quiet]) == 0
    assert convert_rgb_to_flow.main(["--rgb_path", str(rgb), "--flow_path", str(flow), *quiet]) == 0
    assert generate_n_frames.main([str(rgb), *quiet]) == 0
    assert generate_n_frames.main([str(flow), *quiet]) == 0
    assert ucf101_json.main([str(raw / "ucf101/splits"), str(rgb), str(root / "annotation")]) == 0
    return {"rgb": rgb, "flow": flow, "annotation": root / "annotation/ucf101_01.json", "root": root}


def make_random_i3d_checkpoints(root, num_classes=3, seed=3):
    """Random-init I3D rgb and flow checkpoints, {'rgb': path, 'flow': path}, for tests that need any model."""
    import mindspore as ms
    from src.engine.checkpoint_io import save_checkpoint
    from src.i3d import InceptionI3D

    ms.set_seed(seed)
    paths = {}
    for mode in ("rgb", "flow"):
        paths[mode] = root / f"{mode}.ckpt"
        save_checkpoint(InceptionI3D(num_classes, mode), paths[mode])
    return paths


def make_tiny_eco_data(root, height=32):
    """Tiny ECO-lite data made with the real tools (3 classes, 8-frame 48 px wide videos, frames + split-1 lists):
    {'root', 'train', 'val'}."""
    from src.tools import extract_frames, gen_dataset_lists, make_sample_dataset

    quiet = ["--workers", "1", "--no-progress"]
    assert make_sample_dataset.main([str(root / "raw"), "--num_classes", "3", "--groups", "3", "--clips", "2",
                                     "--num_frames", "8", "--width", "48", "--height", str(height), "--datasets",
                                     "ucf101", *quiet]) == 0
    assert extract_frames.main(["--video_src_path", str(root / "raw/ucf101/videos"), "--image_save_path",
                                str(root / "frames"), *quiet]) == 0
    assert gen_dataset_lists.main(["ucf101", str(root / "frames"), "--splits_path", str(root / "raw/ucf101/splits"),
                                   "--out_list_path", str(root / "lists"), "--num_split", "1"]) == 0
    return {"root": root, "train": root / "lists/ucf101_rgb_train_split_1.txt",
            "val": root / "lists/ucf101_rgb_val_split_1.txt"}
