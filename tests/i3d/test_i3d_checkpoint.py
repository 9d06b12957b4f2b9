"""Checkpoint loading (our, seed, piergiaj, hassony2 namings), the pt2ckpt converter, error messages and numerical
parity with a PyTorch reference of the published I3D."""
import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mindspore as ms
from mindspore import nn

from src.engine.checkpoint_io import save_checkpoint
from src.i3d.checkpoint import CheckpointError, load_i3d_checkpoint, map_checkpoint
from src.i3d.network import InceptionI3D
from src.tools import pt2ckpt

REPO_ROOT = Path(__file__).resolve().parents[2]
# Key lists (name<TAB>shape) of the published PyTorch checkpoints.
KEY_LISTS = Path(__file__).resolve().parents[1] / "fixtures" / "checkpoint-keys"

TORCH_BN = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"}
HASSONY2_BRANCHES = {"branch_0": "b0", "branch_1.0": "b1a", "branch_1.1": "b1b", "branch_2.0": "b2a",
                     "branch_2.1": "b2b", "branch_3.1": "b3b"}


pytestmark = pytest.mark.usefixtures("pynative_mode")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# Expected destinations, written independently of src/i3d/checkpoint.py's name maps.
def piergiaj_to_ours(key):
    module, leaf = key.rsplit(".", 1)
    return f"{module}.bn2d.{TORCH_BN[leaf]}" if module.endswith(".bn") else key


def hassony2_to_ours(key):
    module, leaf = key.rsplit(".", 1)
    module = re.sub(r"^conv3d_0c_1x1\b", "logits", module)
    module = re.sub(r"^conv3d_(\d[a-z]_\dx\d)\b", r"Conv3d_\1", module)
    module = re.sub(r"^mixed_", "Mixed_", module)
    for theirs, ours in HASSONY2_BRANCHES.items():
        module = module.replace(f".{theirs}.", f".{ours}.")
    if module.endswith(".batch3d"):
        return f"{module[:-len('.batch3d')]}.bn.bn2d.{TORCH_BN[leaf]}"
    return f"{module}.{leaf}"


def ours_to_seed(name, head="logits_conv3d"):
    for pattern, replacement in ((r"^(Conv3d_\w+?)\.conv3d\.weight$", r"\1.weight"),
                                 (r"^(Conv3d_\w+?)\.bn\.bn2d\.(\w+)$", r"\1_bn.bn2d.\2"),
                                 (r"^(Mixed_\w\w)\.(b\w+?)\.(.+)$", r"\1_\2.\3"),
                                 (r"^logits\.conv3d\.(\w+)$", head + r".\1")):
        if re.match(pattern, name):
            return re.sub(pattern, replacement, name)
    raise AssertionError(f"no seed name for {name}")


TO_OURS = {"piergiaj": piergiaj_to_ours, "hassony2": hassony2_to_ours}


def read_key_list(naming, mode):
    path = KEY_LISTS / f"{naming}_{mode}.tsv"
    return [(key, ast.literal_eval(shape)) for key, shape in (line.split("\t") for line in
                                                             path.read_text().splitlines())]


def synthetic_state_dict(torch, naming, mode, seed=0, fill=None):
    """Random (or constant) tensors with the published checkpoint's keys and shapes."""
    generator = torch.Generator().manual_seed(seed)
    state_dict = {}
    for key, shape in read_key_list(naming, mode):
        if key.endswith("num_batches_tracked"):
            state_dict[key] = torch.tensor(12345)
        elif fill is None:
            state_dict[key] = torch.randn(shape, generator=generator)
        else:
            state_dict[key] = torch.full(shape, fill)
    return state_dict


def parameter_values(net):
    return {param.name: param.asnumpy() for param in net.get_parameters()}


def random_parameters(net, seed=0):
    rng = np.random.default_rng(seed)
    return {param.name: rng.standard_normal(param.shape, dtype=np.float32) for param in net.get_parameters()}


def save_entries(path, entries):
    ms.save_checkpoint([{"name": name, "data": ms.Tensor(value)} for name, value in entries.items()], str(path))
    return path


@pytest.fixture(scope="module")
def rgb400(module_mktemp):
    """A checkpoint in our naming of a 400-class rgb network, with its values."""
    values = random_parameters(InceptionI3D(num_classes=400), seed=1)
    path = save_entries(module_mktemp("ckpt") / "rgb400.ckpt", values)
    return path, values


@pytest.mark.parametrize("naming", ["piergiaj", "hassony2"])
@pytest.mark.parametrize("mode", ["rgb", "flow"])
def test_pytorch_checkpoint_converts_every_tensor_by_value(torch, tmp_path, naming, mode):
    state_dict = synthetic_state_dict(torch, naming, mode)
    pretrained = tmp_path / "model.pt"
    torch.save(state_dict, pretrained)
    converted = tmp_path / "model.ckpt"
    net, detected = pt2ckpt.convert(pretrained, converted)
    assert (detected, net.mode, net.num_classes) == (naming, mode, 400)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.ckpt", "model.pt"]

    fresh = InceptionI3D(num_classes=400, mode=mode)
    assert load_i3d_checkpoint(fresh, converted) == "i3d"
    loaded = parameter_values(fresh)
    expected = {TO_OURS[naming](key): tensor.numpy() for key, tensor in state_dict.items()
                if not key.endswith("num_batches_tracked")}
    assert expected.keys() == loaded.keys()
    for name, value in expected.items():
        np.testing.assert_array_equal(loaded[name], value, err_msg=name)


@pytest.mark.parametrize("naming", ["piergiaj", "hassony2"])
def test_pytorch_checkpoint_loads_directly(torch, tmp_path, naming):
    state_dict = synthetic_state_dict(torch, naming, "flow", seed=3)
    torch.save(state_dict, tmp_path / "flow.pth")
    net = InceptionI3D(num_classes=400, mode="flow")
    assert load_i3d_checkpoint(net, tmp_path / "flow.pth") == naming
    key = {"piergiaj": "Mixed_4c.b1b.bn.running_var", "hassony2": "mixed_4c.branch_1.1.batch3d.running_var"}[naming]
    np.testing.assert_array_equal(net.Mixed_4c.b1b.bn.bn2d.moving_variance.asnumpy(), state_dict[key].numpy())


def convert_error(torch, naming, edit):
    state_dict = synthetic_state_dict(torch, naming, "rgb", fill=0.5)
    edit(state_dict)
    with pytest.raises(CheckpointError) as error:
        pt2ckpt.convert_state_dict(state_dict, source="edited.pt")
    return str(error.value)


@pytest.mark.parametrize("naming, key", [("piergiaj", "Mixed_4c.b1b.bn.running_var"),
                                         ("hassony2", "mixed_4c.branch_1.1.batch3d.running_var"),
                                         ("piergiaj", "logits.conv3d.bias")])
def test_missing_key_is_named(torch, naming, key):
    message = convert_error(torch, naming, lambda state_dict: state_dict.pop(key))
    assert f"'{key}'" in message and "edited.pt" in message


def test_unknown_key_is_named(torch):
    def add_unknown(state_dict):
        state_dict["Mixed_4c.b1c.conv3d.weight"] = torch.zeros(3)
    message = convert_error(torch, "piergiaj", add_unknown)
    assert "Mixed_4c.b1c.conv3d.weight" in message and "unexpected" in message


def test_shape_mismatch_names_key_and_shapes(torch):
    def reshape(state_dict):
        state_dict["mixed_4c.branch_1.1.conv3d.weight"] = torch.zeros(224, 112, 1, 3, 3)
    message = convert_error(torch, "hassony2", reshape)
    assert "'mixed_4c.branch_1.1.conv3d.weight'" in message
    assert "(224, 112, 1, 3, 3)" in message and "(224, 112, 3, 3, 3)" in message


def test_cli_runs_as_module_and_replaces_existing_file(torch, tmp_path):
    torch.save(synthetic_state_dict(torch, "hassony2", "rgb", seed=5), tmp_path / "rgb.pt")
    target = tmp_path / "out" / "rgb.ckpt"
    target.parent.mkdir()
    target.write_bytes(b"old")
    target.chmod(0o400)
    result = subprocess.run([sys.executable, "-m", "src.tools.pt2ckpt", f"--pretrained_path={tmp_path / 'rgb.pt'}",
                             f"--save_path={target}"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "hassony2 naming, rgb, 400 classes" in result.stdout
    assert load_i3d_checkpoint(InceptionI3D(num_classes=400), target) == "i3d"
    assert [path.name for path in target.parent.iterdir()] == ["rgb.ckpt"]


def test_cli_runs_as_script_and_fails_cleanly(torch, tmp_path):
    state_dict = synthetic_state_dict(torch, "piergiaj", "flow", fill=0.0)
    state_dict["logits.conv3d.extra"] = torch.zeros(1)
    torch.save(state_dict, tmp_path / "flow.pt")
    result = subprocess.run([sys.executable, "pt2ckpt.py", f"--pretrained_path={tmp_path / 'flow.pt'}",
                             f"--save_path={tmp_path / 'flow.ckpt'}"], cwd=REPO_ROOT / "src" / "tools",
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "logits.conv3d.extra" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "flow.ckpt").exists()


@pytest.mark.parametrize("content", [b"", b"\x80\x02not a pickle" * 10])
def test_cli_reports_unreadable_pytorch_file(tmp_path, content):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(content)
    with pytest.raises(SystemExit) as exit_info:
        pt2ckpt.main([f"--pretrained_path={bad}", f"--save_path={tmp_path / 'bad.ckpt'}"])
    assert str(bad) in str(exit_info.value.code)


@pytest.mark.parametrize("variant, num_classes, head", [("released", 400, "logits_conv3d"),
                                                        ("fine-tuned", 51, "logits.logits_conv3d")])
def test_seed_checkpoint_loads_by_value(tmp_path, variant, num_classes, head):
    net = InceptionI3D(num_classes=num_classes)
    values = random_parameters(net, seed=2)
    entries = {ours_to_seed(name, head): value for name, value in values.items()}
    if variant == "fine-tuned":
        for name in list(entries):
            if name.startswith(("Mixed_5", "logits")):
                entries[f"moment1.{name}"] = np.zeros_like(entries[name])
                entries[f"moment2.{name}"] = np.ones_like(entries[name])
        entries.update({key: np.array(value, np.float32) for key, value in
                        (("global_step", 30), ("learning_rate", 0.01), ("beta1_power", 0.9),
                         ("beta2_power", 0.999))})
    path = save_entries(tmp_path / f"i3d-{variant}.ckpt", entries)
    assert load_i3d_checkpoint(net, path) == "seed"
    loaded = parameter_values(net)
    for name, value in values.items():
        np.testing.assert_array_equal(loaded[name], value, err_msg=name)


def test_own_training_checkpoint_with_optimizer_state_loads(tmp_path):
    source = InceptionI3D(num_classes=6, mode="flow")
    optimizer = nn.Adam(source.trainable_params(), learning_rate=0.01)
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    path = tmp_path / "i3d-1_10.ckpt"
    ms.save_checkpoint(nn.TrainOneStepCell(nn.WithLossCell(source, loss), optimizer), str(path),
                       append_dict={"epoch_num": 1, "step_num": 10})
    assert {"moment1.logits.conv3d.weight", "global_step", "epoch_num"} <= set(ms.load_checkpoint(str(path)))
    target = InceptionI3D(num_classes=6, mode="flow")
    assert load_i3d_checkpoint(target, path) == "i3d"
    loaded = parameter_values(target)
    for name, value in parameter_values(source).items():
        np.testing.assert_array_equal(loaded[name], value, err_msg=name)


def test_save_replaces_existing_checkpoint(tmp_path, rgb400):
    path, values = rgb400
    target = tmp_path / "model.ckpt"
    save_checkpoint(InceptionI3D(num_classes=400), target)
    net = InceptionI3D(num_classes=400)
    load_i3d_checkpoint(net, path)
    save_checkpoint(net, target)
    assert [entry.name for entry in tmp_path.iterdir()] == ["model.ckpt"]
    check = InceptionI3D(num_classes=400)
    load_i3d_checkpoint(check, target)
    np.testing.assert_array_equal(check.logits.conv3d.weight.asnumpy(), values["logits.conv3d.weight"])


def test_class_count_mismatch_tells_what_to_do(rgb400):
    path, _ = rgb400
    with pytest.raises(CheckpointError) as error:
        load_i3d_checkpoint(InceptionI3D(num_classes=51), path)
    assert str(error.value) == (f"checkpoint {path} has a 400-class head but the network has 51 classes: "
                                f"build with num_classes=400 and fine-tune with finetune_num_classes=51")


def test_mode_mismatch_is_explained(rgb400):
    path, _ = rgb400
    with pytest.raises(CheckpointError, match=r"holds rgb weights \(3 input channels\) but the network is built for "
                                              r"flow \(2 channels\): build it with mode='rgb'"):
        load_i3d_checkpoint(InceptionI3D(num_classes=400, mode="flow"), path)


def test_truncated_network_skips_cut_off_tensors(rgb400):
    path, values = rgb400
    net = InceptionI3D(final_endpoint="Mixed_4f")
    load_i3d_checkpoint(net, path)
    for name, value in parameter_values(net).items():
        np.testing.assert_array_equal(value, values[name], err_msg=name)


@pytest.mark.parametrize("kind, message", [("missing", "does not exist"), ("empty", "is empty"),
                                           ("truncated", "not a readable MindSpore checkpoint"),
                                           ("random", "not a readable MindSpore checkpoint"),
                                           ("foreign", "holds no I3D parameters")])
def test_unreadable_or_foreign_file_is_named(tmp_path, rgb400, kind, message):
    path = tmp_path / f"{kind}.ckpt"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        data = rgb400[0].read_bytes()
        path.write_bytes(data[:len(data) // 2])
    elif kind == "random":
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif kind == "foreign":
        ms.save_checkpoint(nn.Dense(3, 2), str(path))
    with pytest.raises(CheckpointError, match=message) as error:
        load_i3d_checkpoint(InceptionI3D(num_classes=400), path)
    assert str(path) in str(error.value)


def test_two_entries_for_one_parameter_are_refused():
    entries = {"Conv3d_1a_7x7.weight": np.zeros(1), "logits_conv3d.bias": np.zeros(3),
               "logits.logits_conv3d.bias": np.zeros(3)}
    with pytest.raises(CheckpointError, match="both 'logits_conv3d.bias' and 'logits.logits_conv3d.bias'"):
        map_checkpoint(entries, "mixed.ckpt")


@pytest.mark.parametrize("mode", ["rgb", "flow"])
def test_logits_match_pytorch_reference(torch, mode):
    from tests.torch_i3d_reference import reference_i3d

    reference = reference_i3d(mode, num_classes=400, seed=7)
    net, naming = pt2ckpt.convert_state_dict(reference.state_dict(), source=f"reference_{mode}")
    assert naming == "piergiaj"
    net.set_train(False)
    channels = {"rgb": 3, "flow": 2}[mode]
    clip = np.random.default_rng(8).uniform(-1, 1, (1, channels, 16, 224, 224)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(clip)).mean(dim=2).numpy()
    assert expected.std() > 1.0  # logits of useful scale, so the tolerance means something
    np.testing.assert_allclose(net(ms.Tensor(clip)).asnumpy(), expected, rtol=0, atol=1e-3)
