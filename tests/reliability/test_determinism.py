"""Same --seed, same run: dropout masks depend only on (seed, global step, rank, layer) (src/layers.py), so two trainings
with the default dropout give bit-identical checkpoints, and a run resumed after epoch 1 ends with the weights of an
uninterrupted one, for I3D and ECO-lite.

MindSpore's own CPU Dropout turns run-dependent from its 6th launch in a process (its thread split races on one
random engine), so every training here runs 2 epochs of 3 steps: 6 dropout launches.
"""
import json

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn

from src.layers import DROPOUT_KEY, GOLDEN, SeededDropout, dropout_key, mix32, set_dropout_step
from tests.reliability.faults import python_command, run, start

pytestmark = pytest.mark.fault_injection

SEED = 7
MODES = {"graph": ms.GRAPH_MODE, "pynative": ms.PYNATIVE_MODE}


@pytest.fixture(params=list(MODES))
def mode(request):
    previous = ms.get_context("mode")
    ms.set_context(mode=MODES[request.param])
    yield request.param
    ms.set_context(mode=previous)


def numpy_mix32(values):
    values = values.astype(np.uint64) & 0xFFFFFFFF
    values ^= values >> 16
    values = values * 0x7FEB352D & 0xFFFFFFFF
    values ^= values >> 15
    values = values * 0x846CA68B & 0xFFFFFFFF
    return values ^ values >> 16


def reference_keep(shape, p, seed, step, rank=0, layer=0):
    """The keep mask SeededDropout documents, computed independently with numpy."""
    layer_key = mix32(dropout_key(seed, step, rank) ^ mix32(GOLDEN * (layer + 1)))
    index = np.arange(int(np.prod(shape)), dtype=np.uint64)
    bits = numpy_mix32((index * GOLDEN + layer_key) & 0xFFFFFFFF)
    return ((bits >> 8) < round((1 - p) * 2 ** 24)).reshape(shape)


def dropped(cell, x, step, rank=0, seed=SEED):
    set_dropout_step(step, rank, seed=seed)
    return cell(ms.Tensor(x)).asnumpy()


# ------------------------------------------------------------------------------------------------- the cell

def test_mask_is_a_function_of_seed_step_rank_and_layer_only(mode):
    x = np.ones((4, 1024, 2, 1, 1), np.float32)
    first = SeededDropout(p=0.5)
    first.set_train(True)
    for step in range(7):                       # past MindSpore's 5 single-threaded launches
        dropped(first, x, step)
    second = SeededDropout(p=0.5)               # a fresh cell, never run: same (seed, step), same mask
    second.set_train(True)
    out = dropped(first, x, 3)
    assert np.array_equal(out, dropped(second, x, 3))
    np.testing.assert_array_equal(out != 0, reference_keep(x.shape, 0.5, SEED, 3))
    others = [dropped(first, x, 4), dropped(first, x, 3, rank=1), dropped(first, x, 3, seed=SEED + 1),
              dropped(SeededDropout(p=0.5, layer=1).set_train(True), x, 3)]
    for other in others:
        agreement = np.mean((other != 0) == (out != 0))
        assert 0.45 < agreement < 0.55             # independent masks agree on half the elements at p = 0.5


@pytest.mark.parametrize("p", [0.3, 0.5])
def test_drop_rate_matches_p_and_kept_values_are_scaled_by_the_keep_probability(p):
    x = np.random.default_rng(0).uniform(1, 2, (64, 4096)).astype(np.float32)
    cell = SeededDropout(p=p).set_train(True)
    out = dropped(cell, x, 0)
    kept = out != 0
    sigma = np.sqrt(p * (1 - p) / x.size)
    assert abs((1 - kept.mean()) - p) < 5 * sigma
    np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-6)
    rows = kept.mean(axis=1)                     # no structure along the flattened index
    assert rows.std() < 3 * np.sqrt(p * (1 - p) / x.shape[1])


def test_inference_mode_and_p_zero_are_the_identity(mode):
    x = np.random.default_rng(1).standard_normal((2, 512)).astype(np.float32)
    assert np.array_equal(dropped(SeededDropout(p=0.5).set_train(False), x, 0), x)
    assert np.array_equal(dropped(SeededDropout(p=0.0).set_train(True), x, 0), x)


class Head(nn.Cell):
    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(16, 16)
        self.dropout = SeededDropout(p=0.5)

    def construct(self, x):
        return self.dropout(self.dense(x))


@pytest.mark.parametrize("amp_level", ["O0", "O1", "O2", "O3"])
def test_the_step_key_is_no_parameter_of_any_network_even_after_amp(mode, amp_level, tmp_path, monkeypatch):
    """Checkpoints keep the published names: the key lives outside every cell, also in AMP O1's rewritten copy."""
    monkeypatch.chdir(tmp_path)                 # AMP O1 writes its rewritten source into the working directory
    net = ms.amp.auto_mixed_precision(Head(), amp_level)
    assert sorted(param.name for param in net.get_parameters()) == ["dense.bias", "dense.weight"]
    ms.save_checkpoint(net, str(tmp_path / "head.ckpt"))
    assert sorted(ms.load_checkpoint(str(tmp_path / "head.ckpt"))) == ["dense.bias", "dense.weight"]
    assert DROPOUT_KEY.name == "seeded_dropout_key"
    net.set_train(True)
    x = np.ones((2, 16), np.float32)
    a, b, again = dropped(net, x, 0), dropped(net, x, 1), dropped(net, x, 0)
    assert np.array_equal(a, again) and not np.array_equal(a != 0, b != 0)


def test_the_networks_train_with_seeded_dropout_and_keep_their_parameter_names(pynative_mode):
    from src.eco_lite import ECOLite
    from src.i3d import InceptionI3D

    ms.set_seed(SEED)
    i3d, eco = InceptionI3D(num_classes=3), ECOLite(num_classes=3, num_segments=4)
    assert isinstance(i3d.logits.dropout, SeededDropout) and isinstance(eco.dropout, SeededDropout)
    assert (len(list(i3d.get_parameters())), len(list(eco.get_parameters()))) == (287, 186)
    assert not [p.name for net in (i3d, eco) for p in net.get_parameters() if "key" in p.name]
    clips = {i3d: np.random.default_rng(2).standard_normal((2, 3, 8, 32, 32)).astype(np.float32),
             eco: np.random.default_rng(3).standard_normal((2, 12, 32, 32)).astype(np.float32)}
    for net, x in clips.items():
        net.set_train(True)
        a, b, again = dropped(net, x, 10), dropped(net, x, 11), dropped(net, x, 10)
        assert np.array_equal(a, again) and not np.allclose(a, b)


# ----------------------------------------------------------------------------------------- whole trainings

def i3d_command(data, save_dir, epochs, *extra):
    return python_command("train.py", "--dataset", "ucf101", "--mode", "rgb", "--video_path", data["rgb"],
                          "--annotation_path", data["annotation"], "--save_dir", save_dir, "--num_epochs", epochs,
                          "--device_target", "CPU", "--spatial_size", "32", "--train_sample_duration", "8",
                          "--test_sample_duration", "8", "--batch_size", "4", "--num_workers", "1", "--no_eval",
                          "--seed", SEED, "--no-progress", *extra)


def eco_command(data, save_dir, epochs, *extra):
    return python_command("train.py", "--train_list", data["train"], "--val_list", data["val"], "--input_size", "32",
                          "--batch-size", "4", "--num_classes", "3", "--num_workers", "1", "--resume", "",
                          "--save_dir", save_dir, "--epochs", epochs, "--seed", SEED, "--no-progress", *extra)


MODELS = {
    "i3d": {"command": i3d_command, "data": "tiny_i3d_data", "resume": ["--resume"],
            "final": "ucf101_rgb/checkpoints/i3d-2_3.ckpt", "log": "ucf101_rgb/train_log.jsonl"},
    "eco_lite": {"command": eco_command, "data": "tiny_eco_data", "resume": ["--continue_training", "True"],
                 "final": "ecolite_ucf101/checkpoints/eco-2_3.ckpt", "log": "ecolite_ucf101/train_log.jsonl"},
}


def checked(result):
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module", params=list(MODELS))
def runs(request, module_mktemp):
    """One model, the default dropout, one seed: two uninterrupted 2-epoch runs and a 1-epoch run, started side by
    side, then that run resumed to epoch 2 as the README says."""
    spec = MODELS[request.param]
    data = request.getfixturevalue(spec["data"])
    root = module_mktemp(f"runs_{request.param}")
    processes = [start(spec["command"](data, root / name, epochs)) for name, epochs in
                 (("first", 2), ("second", 2), ("resumed", 1))]
    for process in processes:
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stdout[-3000:] + stderr[-3000:]
    resumed = run(spec["command"](data, root / "resumed", 2, *spec["resume"]))
    assert resumed.returncode == 0 and "Resuming from" in resumed.stdout, resumed.stdout[-3000:] + resumed.stderr
    return {"spec": spec, **{name: root / name for name in ("first", "second", "resumed")}}


def checkpoint(path):
    return {name: value.asnumpy() for name, value in ms.load_checkpoint(str(path)).items()}


def assert_same_run(run_dir, expected_dir, spec):
    """Bit-identical final checkpoints (network and optimizer state) and per-epoch losses."""
    got, expected = checkpoint(run_dir / spec["final"]), checkpoint(expected_dir / spec["final"])
    assert sorted(got) == sorted(expected) and not [name for name in got if "key" in name]
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
    assert losses(run_dir, spec) == losses(expected_dir, spec)


def losses(run_dir, spec):
    return [json.loads(line)["loss"] for line in (run_dir / spec["log"]).read_text().splitlines()]


@pytest.mark.slow  # the fixture trains 4 times per model (~25 s on 2 free cores)
def test_same_seed_twice_gives_bit_identical_checkpoints(runs):
    assert_same_run(runs["second"], runs["first"], runs["spec"])


@pytest.mark.slow
def test_a_run_resumed_after_epoch_1_equals_the_uninterrupted_run(runs):
    assert_same_run(runs["resumed"], runs["first"], runs["spec"])
