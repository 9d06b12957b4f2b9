"""ECO-lite checkpoints: the seed's released and training checkpoints load by name (optimizer state skipped), a
400-class head is left fresh for fine-tuning, and every gap or unreadable file is a named error."""
import numpy as np
import pytest

import mindspore as ms
from mindspore import nn

from src.eco_lite.checkpoint import CheckpointError, load_eco_checkpoint, load_eco_parameters
from src.engine.checkpoint_io import save_checkpoint
from src.eco_lite.network import ECOLite, optim_groups

pytestmark = pytest.mark.usefixtures("pynative_mode")

HEAD = ("new_fc.weight", "new_fc.bias")


def parameter_values(net):
    return {param.name: param.asnumpy() for param in net.get_parameters()}


def randomised(net, seed):
    """`net` with non-default BN statistics, gamma, beta and biases, so a parameter left unloaded shows up."""
    rng = np.random.default_rng(seed)
    for param in net.get_parameters():
        name = param.name
        if name.endswith(("moving_variance", "gamma")):
            value = rng.uniform(0.5, 1.5, param.shape)
        elif name.endswith(("moving_mean", "beta", "bias")):
            value = rng.normal(0.0, 0.1, param.shape)
        else:
            value = param.asnumpy() * rng.uniform(0.9, 1.1)
        param.set_data(ms.Tensor(np.asarray(value, np.float32)))
    return net


def save_entries(path, entries):
    ms.save_checkpoint([{"name": name, "data": ms.Tensor(value)} for name, value in entries.items()], str(path))
    return path


def logits(net, seed=0):
    net.set_train(False)
    clip_batch = np.random.default_rng(seed).normal(0, 50, (2, 12, 64, 64)).astype(np.float32)
    return net(ms.Tensor(clip_batch)).asnumpy()


@pytest.fixture(scope="module")
def kinetics_values():
    """Parameter values of a 400-class network, as in the released ms_model_kinetics_checkpoint0720.ckpt."""
    return parameter_values(randomised(ECOLite(num_classes=400), seed=1))


@pytest.fixture
def ckpt_dir(tmp_path):
    """A folder whose (150 MB) checkpoints are deleted after the test, so old pytest temp folders stay small."""
    yield tmp_path
    for path in tmp_path.glob("*.ckpt"):
        path.chmod(0o600)
        path.unlink()


def test_seed_training_checkpoint_loads_by_name_and_reproduces_outputs(ckpt_dir):
    source = randomised(ECOLite(num_classes=101), seed=2)
    values = parameter_values(source)
    entries = dict(values)
    for name in ("new_fc.weight", "base_model.res5b_2_conv3d.weight", "base_model.conv1.bn2d.gamma"):
        entries[f"moments.{name}"] = np.zeros_like(values[name])  # the seed's SGD state
    entries.update({key: np.array(value, np.float32) for key, value in (
        ("learning_rate", 1e-5), ("momentum", 0.9), ("global_step", 120), ("scale_sense", 65536.0),
        ("current_iterator_step", 120), ("last_overflow_iterator_step", 0))})
    path = save_entries(ckpt_dir / "ucf101bestacc.ckpt", entries)

    net = ECOLite(num_classes=101)
    assert not np.allclose(logits(net), logits(source))
    assert load_eco_checkpoint(net, path) is True
    for name, value in parameter_values(net).items():
        np.testing.assert_array_equal(value, values[name], err_msg=name)
    expected = logits(source)
    assert expected.std() > 1e-3
    np.testing.assert_array_equal(logits(net), expected)


def test_training_cell_state_is_skipped():
    """The entries MindSpore's own train wrappers save beside the network (SGD accum/stat, loss scale, step)."""
    source = randomised(ECOLite(num_classes=5), seed=3)
    optimizer = nn.SGD(optim_groups(source, partial_bn=False), learning_rate=0.01, momentum=0.9, nesterov=True)
    train_cell = nn.TrainOneStepWithLossScaleCell(
        nn.WithLossCell(source, nn.SoftmaxCrossEntropyWithLogits(sparse=True)), optimizer,
        scale_sense=nn.DynamicLossScaleUpdateCell(65536, 2, 2000))
    entries = {param.name: param.asnumpy() for param in train_cell.get_parameters()}
    assert {"accum.new_fc.weight", "stat.new_fc.bias", "scale_sense", "global_step"} <= entries.keys()
    net = ECOLite(num_classes=5)
    assert load_eco_parameters(net, entries, "train-cell") is True
    loaded = parameter_values(net)
    for name, value in parameter_values(source).items():
        np.testing.assert_array_equal(loaded[name], value, err_msg=name)


def test_kinetics_checkpoint_fine_tunes_with_fresh_head(ckpt_dir, kinetics_values, capsys):
    path = save_entries(ckpt_dir / "ms_model_kinetics_checkpoint0720.ckpt", kinetics_values)
    net = ECOLite(num_classes=101)
    fresh_head = {name: value for name, value in parameter_values(net).items() if name in HEAD}
    assert load_eco_checkpoint(net, path) is False
    assert "400 classes and the network 101" in capsys.readouterr().out
    for name, value in parameter_values(net).items():
        np.testing.assert_array_equal(value, fresh_head[name] if name in HEAD else kinetics_values[name],
                                      err_msg=name)


def test_head_mismatch_can_be_refused(kinetics_values):
    with pytest.raises(CheckpointError, match="kinetics.ckpt has a 400-class head .* network has 101 classes"):
        load_eco_parameters(ECOLite(num_classes=101), kinetics_values, "kinetics.ckpt", allow_new_head=False)


def load_error(entries, **kwargs):
    with pytest.raises(CheckpointError) as error:
        load_eco_parameters(ECOLite(num_classes=400), entries, "edited.ckpt", **kwargs)
    return str(error.value)


@pytest.mark.parametrize("key", ["base_model.res4a_bn_bn3d.bn2d.moving_variance", "base_model.block3b.b4.conv2d.bias",
                                 "new_fc.bias"])
def test_missing_parameter_is_named(kinetics_values, key):
    entries = {name: value for name, value in kinetics_values.items() if name != key}
    message = load_error(entries)
    assert f"'{key}'" in message and "edited.ckpt" in message and "lacks 1 parameter" in message


def test_shape_mismatch_names_key_and_shapes(kinetics_values):
    entries = dict(kinetics_values, **{"base_model.res5a_down_conv3d.weight": np.zeros((512, 256, 1, 3, 3),
                                                                                         np.float32)})
    message = load_error(entries)
    assert "'base_model.res5a_down_conv3d.weight'" in message
    assert "(512, 256, 1, 3, 3)" in message and "(512, 256, 3, 3, 3)" in message


def test_head_of_wrong_feature_size_is_an_error(kinetics_values):
    entries = dict(kinetics_values, **{"new_fc.weight": np.zeros((101, 1024), np.float32),
                                       "new_fc.bias": np.zeros(101, np.float32)})
    assert "'new_fc.weight' has shape (101, 1024)" in load_error(entries)


def test_unexpected_entry_is_an_error_unless_not_strict(kinetics_values, capsys):
    entries = dict(kinetics_values, **{"base_model.dense1.weight": np.zeros((400, 512), np.float32)})
    message = load_error(entries)
    assert "'base_model.dense1.weight'" in message and "strict=False" in message
    assert load_eco_parameters(ECOLite(num_classes=400), entries, "edited.ckpt", strict=False) is True
    assert "skipping" in capsys.readouterr().out


def test_save_is_atomic_and_replaces_existing_file(ckpt_dir):
    target = ckpt_dir / "eco.ckpt"
    target.write_bytes(b"old")
    source = randomised(ECOLite(num_classes=6), seed=4)
    save_checkpoint(source, target)
    assert [path.name for path in ckpt_dir.iterdir()] == ["eco.ckpt"]
    net = ECOLite(num_classes=6)
    assert load_eco_checkpoint(net, target) is True
    np.testing.assert_array_equal(logits(net), logits(source))


@pytest.mark.parametrize("kind, message", [("missing", "does not exist"), ("empty", "is empty"),
                                           ("truncated", "not a readable MindSpore checkpoint"),
                                           ("random", "not a readable MindSpore checkpoint"),
                                           ("foreign", "holds no ECO-lite parameters")])
def test_unreadable_or_foreign_file_is_named(tmp_path, kind, message):
    path = tmp_path / f"{kind}.ckpt"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        ms.save_checkpoint(nn.Dense(64, 32), str(tmp_path / "whole.ckpt"))
        data = (tmp_path / "whole.ckpt").read_bytes()
        path.write_bytes(data[:len(data) // 2])
    elif kind == "random":
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif kind == "foreign":
        ms.save_checkpoint(nn.Dense(3, 2), str(path))
    with pytest.raises(CheckpointError, match=message) as error:
        load_eco_checkpoint(ECOLite(num_classes=101), path)
    assert str(path) in str(error.value)
