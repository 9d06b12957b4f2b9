"""ECOLite: shapes, parameter counts and names, agreement with an independent PyTorch rendering of the
seed's forward pass, head and dropout settings, optimizer groups and real partial BN."""
import numpy as np
import pytest

import mindspore as ms
from mindspore import nn

from src.eco_lite.network import ECOLite, batchnorm_layers, optim_groups

pytestmark = pytest.mark.usefixtures("pynative_mode")

# The original network's layer list, written out independently of the network code.
UNITS_2D = ["conv1", "conv2", "conv3"] + [f"{block}.{unit}" for block in ("block3a", "block3b")
                                          for unit in ("b1", "b2.0", "b2.1", "b3.0", "b3.1", "b3.2", "b4")] + [
    "conv4", "conv5"]
CONVS_3D = ["res3a_2", "res3b_1", "res3b_2", "res4a_1", "res4a_2", "res4a_down", "res4b_1", "res4b_2",
            "res5a_1", "res5a_2", "res5a_down", "res5b_1", "res5b_2"]
BNS_3D = ["res3a_bn", "res3b_1_bn", "res3b_bn", "res4a_1_bn", "res4a_bn", "res4b_1_bn", "res4b_bn",
          "res5a_1_bn", "res5a_bn", "res5b_1_bn", "res5b_bn"]
BN_TENSORS = ("moving_mean", "moving_variance", "gamma", "beta")


def expected_parameter_names():
    names = []
    for unit in UNITS_2D:
        names += [f"base_model.{unit}.conv2d.{kind}" for kind in ("weight", "bias")]
        names += [f"base_model.{unit}.bn2d.{kind}" for kind in BN_TENSORS]
    names += [f"base_model.{conv}_conv3d.{kind}" for conv in CONVS_3D for kind in ("weight", "bias")]
    names += [f"base_model.{bn}_bn3d.bn2d.{kind}" for bn in BNS_3D for kind in BN_TENSORS]
    return names + ["new_fc.weight", "new_fc.bias"]


def clips(batch, segments, size, seed=0):
    data = np.random.RandomState(seed).randn(batch, 3 * segments, size, size).astype(np.float32)
    return ms.Tensor(data)


@pytest.fixture(scope="module")
def net101():
    return ECOLite(num_classes=101)


@pytest.mark.parametrize("segments, size", [(4, 64), (8, 64), (16, 64), (4, 96)])
@pytest.mark.parametrize("train", [True, False])
def test_logits_shape(segments, size, train):
    net = ECOLite(num_classes=7, num_segments=segments)
    net.set_train(train)
    logits = net(clips(2, segments, size))
    assert logits.shape == (2, 7)
    assert np.isfinite(logits.asnumpy()).all()


def test_trunk_gives_96x28x28_per_frame_at_224(net101):
    net101.set_train(False)
    frames = clips(1, 4, 224).reshape(4, 3, 224, 224)
    features = net101.base_model.trunk(frames)
    assert features.shape == (4, 96, 28, 28)
    stacked = net101.base_model.stack_frames(features)
    assert stacked.shape == (1, 96, 4, 28, 28)
    np.testing.assert_array_equal(stacked.asnumpy()[0, :, 2], features.asnumpy()[2])


def test_wrong_channel_count_is_refused():
    net = ECOLite(num_classes=3, num_segments=8)
    with pytest.raises(ValueError, match="expected 24 input channels"):
        net(clips(1, 4, 64))


def test_parameter_counts(net101):
    params = list(net101.get_parameters())
    trainable = net101.trainable_params()
    assert (len(params), len(trainable)) == (186, 126)
    assert sum(param.size for param in trainable) == 37_350_469
    assert sum(param.size for param in params) == 37_360_389
    assert sum("moving_" in param.name for param in params) == 60

    def part(param):
        if param.name.startswith("new_fc."):
            return "fc"
        return "3d" if "_conv3d." in param.name or "_bn3d." in param.name else "2d"

    sizes = {"2d": 0, "3d": 0, "fc": 0}
    for param in trainable:
        sizes[part(param)] += param.size
    assert sizes == {"2d": 681_568, "3d": 36_617_088, "fc": 51_813}

    bns = batchnorm_layers(net101)
    assert len(bns) == 30
    assert sum(bn.gamma.name.endswith("_bn3d.bn2d.gamma") for bn in bns) == 11


def test_parameter_names_are_the_seeds(net101):
    names = [param.name for param in net101.get_parameters()]
    assert len(names) == len(set(names))
    assert set(names) == set(expected_parameter_names())
    assert names[:2] == ["base_model.conv1.conv2d.weight", "base_model.conv1.conv2d.bias"]
    assert names[-2:] == ["new_fc.weight", "new_fc.bias"]


def test_layer_settings(net101):
    assert net101.new_fc.weight.shape == (101, 512)
    np.testing.assert_array_equal(net101.new_fc.bias.asnumpy(), np.zeros(101, np.float32))
    bound = np.sqrt(6.0 / (512 + 101))  # xavier_uniform
    weight = net101.new_fc.weight.asnumpy()
    assert np.abs(weight).max() <= bound and weight.std() > 0.5 * bound / np.sqrt(3)
    for bn in batchnorm_layers(net101):  # MindSpore stores 1 - its momentum argument, i.e. PyTorch's momentum
        assert bn.momentum == pytest.approx(0.1) and bn.eps == pytest.approx(1e-5)
    base = net101.base_model
    assert base.res3a_2_conv3d.pad_mode == "same" and base.res4a_1_conv3d.pad_mode == "pad"
    assert base.res4a_down_conv3d.stride == (2, 2, 2) and base.res4a_down_conv3d.padding == 1
    assert base.block3a.b4.conv2d.weight.shape == (32, 192, 1, 1)
    assert base.block3b.b4.conv2d.weight.shape == (64, 256, 1, 1)


def test_dropout_flag_is_a_keep_probability():
    assert ECOLite(num_classes=3).dropout.p == pytest.approx(0.3)
    assert ECOLite(num_classes=3, dropout_keep_prob=0.5).dropout.p == pytest.approx(0.5)
    assert ECOLite(num_classes=3, dropout_keep_prob=1.0).dropout.p == 0.0


@pytest.mark.parametrize("kwargs", [{"num_classes": 0}, {"num_classes": 3, "num_segments": 0},
                                    {"num_classes": 3, "dropout_keep_prob": 0.0},
                                    {"num_classes": 3, "bn_momentum": 1.0}])
def test_constructor_validates_arguments(kwargs):
    with pytest.raises(ValueError):
        ECOLite(**kwargs)


def test_replace_head_keeps_names():
    net = ECOLite(num_classes=400)
    names = [param.name for param in net.get_parameters()]
    net.replace_head(51)
    assert [param.name for param in net.get_parameters()] == names
    assert net.num_classes == 51 and net.new_fc.weight.shape == (51, 512)
    assert sum(param.size for param in net.trainable_params()) == 37_350_469 - 51_813 + 512 * 51 + 51
    net.set_train(False)
    assert net(clips(1, 4, 64)).shape == (1, 51)


def reference_logits(params, clip_batch, segments):
    """The original's forward pass in PyTorch: Caffe ceil-mode max-pools, pad-counting average pools,
    padding-1 3x3x3 convolutions, residual sums before BatchNorm, BatchNorm with batch statistics."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    p = {name: torch.from_numpy(value) for name, value in params.items()}

    def batch_norm(x, prefix):
        return functional.batch_norm(x, None, None, p[f"{prefix}.gamma"], p[f"{prefix}.beta"], training=True,
                                     eps=1e-5)

    def unit(x, name, stride=1, padding=0):
        prefix = f"base_model.{name}"
        x = functional.conv2d(x, p[f"{prefix}.conv2d.weight"], p[f"{prefix}.conv2d.bias"], stride, padding)
        return functional.relu(batch_norm(x, f"{prefix}.bn2d"))

    def inception(x, block):
        b1 = unit(x, f"{block}.b1")
        b2 = unit(unit(x, f"{block}.b2.0"), f"{block}.b2.1", padding=1)
        b3 = unit(unit(unit(x, f"{block}.b3.0"), f"{block}.b3.1", padding=1), f"{block}.b3.2", padding=1)
        b4 = unit(functional.avg_pool2d(x, 3, 1, 1, count_include_pad=True), f"{block}.b4")
        return torch.cat([b1, b2, b3, b4], dim=1)

    def conv(x, name, stride=1):
        return functional.conv3d(x, p[f"base_model.{name}_conv3d.weight"], p[f"base_model.{name}_conv3d.bias"],
                                 stride, 1)

    def bn_relu(x, name):
        return functional.relu(batch_norm(x, f"base_model.{name}_bn3d.bn2d"))

    x = torch.from_numpy(clip_batch)
    batch, _, height, width = x.shape
    x = x.reshape(batch * segments, 3, height, width)
    x = functional.max_pool2d(unit(x, "conv1", 2, 3), 3, 2, ceil_mode=True)
    x = functional.max_pool2d(unit(unit(x, "conv2"), "conv3", padding=1), 3, 2, ceil_mode=True)
    x = unit(unit(inception(inception(x, "block3a"), "block3b"), "conv4"), "conv5", padding=1)
    x = x.reshape(batch, segments, *x.shape[1:]).transpose(1, 2)

    res3a = conv(x, "res3a_2")
    x = bn_relu(conv(bn_relu(res3a, "res3a_bn"), "res3b_1"), "res3b_1_bn")
    x = bn_relu(res3a + conv(x, "res3b_2"), "res3b_bn")
    for stage in ("res4", "res5"):
        shortcut = conv(x, f"{stage}a_down", stride=2)
        total = conv(bn_relu(conv(x, f"{stage}a_1", stride=2), f"{stage}a_1_bn"), f"{stage}a_2") + shortcut
        x = bn_relu(conv(bn_relu(total, f"{stage}a_bn"), f"{stage}b_1"), f"{stage}b_1_bn")
        x = bn_relu(total + conv(x, f"{stage}b_2"), f"{stage}b_bn")
    features = x.mean(dim=(2, 3, 4))
    return functional.linear(features, p["new_fc.weight"], p["new_fc.bias"]).numpy()


@pytest.mark.parametrize("segments, size", [(4, 64), (8, 96)])
def test_forward_matches_pytorch_rendering_of_the_seed(segments, size):
    net = ECOLite(num_classes=10, num_segments=segments, dropout_keep_prob=1.0)
    rng = np.random.default_rng(segments)
    for param in net.trainable_params():
        if not param.name.endswith(".weight"):  # random biases, gamma and beta, so every term counts
            param.set_data(ms.Tensor(rng.uniform(0.5, 1.5, param.shape).astype(np.float32)
                                     if param.name.endswith("gamma") else
                                     rng.normal(0, 0.2, param.shape).astype(np.float32)))
    params = {param.name: param.asnumpy() for param in net.get_parameters()}
    batch = rng.normal(0, 1, (2, 3 * segments, size, size)).astype(np.float32)
    net.set_train(True)  # batch statistics keep activations at unit scale through every layer
    logits = net(ms.Tensor(batch)).asnumpy()
    expected = reference_logits(params, batch, segments)
    assert expected.std() > 0.1
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)


def group_names(groups):
    return [{param.name for param in group["params"]} for group in groups]


def test_optim_groups_without_partial_bn(net101):
    groups = optim_groups(net101, partial_bn=False, weight_decay=5e-4)
    decay, no_decay = group_names(groups)
    assert [group["weight_decay"] for group in groups] == [5e-4, 0.0]
    assert len(decay) == 33 and all(name.endswith(".weight") for name in decay)
    assert "new_fc.weight" in decay and "base_model.res3a_2_conv3d.weight" in decay
    assert len(no_decay) == 93 and not any(name.endswith(".weight") or "moving_" in name for name in no_decay)
    assert decay | no_decay == {param.name for param in net101.trainable_params()}
    assert all(bn.use_batch_statistics is None for bn in batchnorm_layers(net101))


def test_optim_groups_with_partial_bn_freezes_all_but_first_bn(net101):
    decay, no_decay = group_names(optim_groups(net101, partial_bn=True))
    bn_params = {name for name in no_decay if name.endswith(("gamma", "beta"))}
    assert bn_params == {"base_model.conv1.bn2d.gamma", "base_model.conv1.bn2d.beta"}
    assert (len(decay), len(no_decay), len(net101.trainable_params())) == (33, 35, 68)
    bns = batchnorm_layers(net101)
    assert bns[0].use_batch_statistics is None
    assert all(bn.use_batch_statistics is False and not bn.gamma.requires_grad for bn in bns[1:])
    assert len(group_names(optim_groups(net101, partial_bn=False))[1]) == 93  # switching back restores everything
    assert all(bn.use_batch_statistics is None for bn in bns)


@pytest.mark.parametrize("partial_bn, compiled", [(True, False), (True, True), (False, False)],
                         ids=["partial-pynative", "partial-graph", "full-pynative"])
def test_training_step_with_partial_bn_leaves_frozen_bn_untouched(partial_bn, compiled):
    net = ECOLite(num_classes=4)
    groups = optim_groups(net, partial_bn)
    optimizer = nn.SGD(groups, learning_rate=0.1, momentum=0.9, nesterov=True)
    loss_fn = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")

    def forward(x, labels):
        return loss_fn(net(x), labels)

    grad_fn = ms.value_and_grad(forward, None, optimizer.parameters)

    def train_step(x, labels):
        loss, grads = grad_fn(x, labels)
        optimizer(grads)
        return loss

    if compiled:
        train_step = ms.jit(train_step)
    net.set_train(True)
    before = {param.name: param.asnumpy().copy() for param in net.get_parameters()}
    loss = train_step(clips(2, 4, 64), ms.Tensor(np.array([1, 3], np.int32)))
    assert np.isfinite(loss.asnumpy())
    after = {param.name: param.asnumpy() for param in net.get_parameters()}
    changed = {name for name in before if not np.array_equal(before[name], after[name])}
    trained = {param.name for group in groups for param in group["params"]}
    first_bn = {f"base_model.conv1.bn2d.{kind}" for kind in ("moving_mean", "moving_variance", "gamma", "beta")}
    other_bns = {name for name in before if ".bn2d." in name} - first_bn
    # Biases feeding a batch-statistics BN get (near) zero gradients, so only weights are sure to move.
    assert changed <= trained | first_bn | other_bns
    assert {name for name in trained if name.endswith(".weight")} <= changed
    assert first_bn <= changed
    if partial_bn:
        assert not changed & other_bns
    else:
        assert other_bns <= changed
