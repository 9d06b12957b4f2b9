"""InceptionI3D: shapes, parameter counts, TF-SAME padding, the head, BatchNorm statistics, fine-tune freezing,
ONNX export."""
import math

import numpy as np
import pytest

import mindspore as ms
from mindspore import nn

from src.i3d.network import (VALID_ENDPOINTS, I3DHead, InceptionI3D, Unit3D, max_pool_same, same_padding,
                             select_finetune_parameters)


pytestmark = pytest.mark.usefixtures("pynative_mode")


def clip(shape, seed=0):
    return ms.Tensor(np.random.RandomState(seed).uniform(-1, 1, shape).astype(np.float32))


def trainable_count(net):
    params = net.trainable_params()
    return len(params), sum(param.size for param in params)


@pytest.fixture(scope="module")
def five_class_nets():
    return {mode: InceptionI3D(num_classes=5, mode=mode) for mode in ("rgb", "flow")}


@pytest.mark.parametrize("mode, channels", [("rgb", 3), ("flow", 2)])
@pytest.mark.parametrize("frames, height, width", [(8, 64, 64), (7, 65, 57)])
@pytest.mark.parametrize("train", [True, False])
def test_logits_shape(five_class_nets, mode, channels, frames, height, width, train):
    net = five_class_nets[mode]
    net.set_train(train)
    logits = net(clip((2, channels, frames, height, width)))
    assert logits.shape == (2, 5)
    assert np.isfinite(logits.asnumpy()).all()


@pytest.mark.parametrize("endpoint, channels, t_stride, s_stride", [
    ("Conv3d_1a_7x7", 64, 2, 2), ("MaxPool3d_2a_3x3", 64, 2, 4), ("MaxPool3d_3a_3x3", 192, 2, 8),
    ("Mixed_3c", 480, 2, 8), ("Mixed_4f", 832, 4, 16), ("Mixed_5c", 1024, 8, 32)])
def test_final_endpoint_truncates(endpoint, channels, t_stride, s_stride):
    net = InceptionI3D(mode="flow", final_endpoint=endpoint)
    net.set_train(False)
    assert net.endpoints[-1] == endpoint and not hasattr(net, "logits")
    assert net.endpoints == VALID_ENDPOINTS[:VALID_ENDPOINTS.index(endpoint) + 1]
    features = net(clip((1, 2, 7, 65, 57)))
    assert features.shape == (1, channels, math.ceil(7 / t_stride), math.ceil(65 / s_stride),
                              math.ceil(57 / s_stride))


def test_mixed_5c_features_at_224():
    net = InceptionI3D(final_endpoint="Mixed_5c")
    net.set_train(False)
    assert net(clip((1, 3, 16, 224, 224))).shape == (1, 1024, 2, 7, 7)


@pytest.mark.parametrize("mode, num_classes, expected", [
    ("rgb", 400, 12_697_264), ("flow", 400, 12_675_312), ("rgb", 51, 12_339_539), ("rgb", 101, 12_390_789),
    ("flow", 51, 12_317_587)])
def test_parameter_counts(mode, num_classes, expected):
    net = InceptionI3D(num_classes=num_classes, mode=mode)
    assert trainable_count(net) == (173, expected)
    assert len(list(net.get_parameters())) == 287


def test_parameter_names_start_with_endpoints():
    names = [param.name for param in InceptionI3D(num_classes=51).get_parameters()]
    assert names[:2] == ["Conv3d_1a_7x7.conv3d.weight", "Conv3d_1a_7x7.bn.bn2d.moving_mean"]
    assert "Mixed_3b.b1a.conv3d.weight" in names and "Mixed_3b.b1a.bn.bn2d.gamma" in names
    assert names[-2:] == ["logits.conv3d.weight", "logits.conv3d.bias"]
    assert all(name.split(".")[0] in VALID_ENDPOINTS for name in names)


def test_replace_logits_keeps_names():
    net = InceptionI3D(num_classes=400)
    names = [param.name for param in net.get_parameters()]
    net.replace_logits(51)
    assert [param.name for param in net.get_parameters()] == names
    assert net.logits.conv3d.weight.shape == (51, 1024, 1, 1, 1)
    assert trainable_count(net) == (173, 12_339_539)
    net.set_train(False)
    assert net(clip((1, 3, 8, 64, 64))).shape == (1, 51)
    with pytest.raises(ValueError, match="no logits head"):
        InceptionI3D(final_endpoint="Mixed_5c").replace_logits(51)


def test_constructor_validates_arguments():
    assert InceptionI3D(mode="flow", in_channels=2, final_endpoint="Conv3d_1a_7x7").in_channels == 2
    for kwargs in ({"mode": "depth"}, {"mode": "rgb", "in_channels": 2}, {"final_endpoint": "Mixed_6a"},
                   {"dropout_keep_prob": 0.0}):
        with pytest.raises(ValueError):
            InceptionI3D(**kwargs)


@pytest.mark.parametrize("size, kernel, stride, expected", [
    (5, 2, 2, (0, 1)), (6, 3, 2, (0, 1)), (224, 7, 2, (2, 3)), (7, 3, 1, (1, 1)), (4, 2, 2, (0, 0)),
    (8, 1, 1, (0, 0)), (1, 7, 2, (3, 3))])
def test_same_padding(size, kernel, stride, expected):
    assert same_padding(size, kernel, stride) == expected
    before, after = expected
    assert (size + before + after - kernel) // stride + 1 == math.ceil(size / stride)


def padded(array, kernel, stride, value):
    pads = [(0, 0), (0, 0)] + [same_padding(size, k, s) for size, k, s in zip(array.shape[2:], kernel, stride)]
    return np.pad(array, pads, constant_values=value)


def windows(array, kernel, stride):
    """All VALID windows of (N,C,T,H,W): shape (N,C,T',H',W',kT,kH,kW)."""
    view = np.lib.stride_tricks.sliding_window_view(array, kernel, axis=(2, 3, 4))
    return view[:, :, ::stride[0], ::stride[1], ::stride[2]]


@pytest.mark.parametrize("shape, kernel, stride", [
    ((1, 2, 5, 6, 7), (2, 2, 2), (2, 2, 2)), ((1, 2, 6, 5, 6), (3, 3, 3), (2, 2, 2)),
    ((1, 2, 7, 9, 8), (7, 7, 7), (2, 2, 2)), ((1, 2, 4, 6, 5), (1, 3, 3), (1, 2, 2))])
def test_conv_and_max_pool_match_manual_same_padding(shape, kernel, stride):
    x = np.random.RandomState(1).randn(*shape).astype(np.float32)
    unit = Unit3D(shape[1], 3, kernel, stride)
    weight = unit.conv3d.weight.asnumpy()
    expected_conv = np.einsum("nctxyijk,ocijk->notxy", windows(padded(x, kernel, stride, 0.0), kernel, stride),
                              weight)
    np.testing.assert_allclose(unit.conv3d(ms.Tensor(x)).asnumpy(), expected_conv, rtol=1e-4, atol=1e-4)

    expected_pool = windows(padded(x, kernel, stride, -np.inf), kernel, stride).max(axis=(-3, -2, -1))
    np.testing.assert_array_equal(max_pool_same(kernel, stride)(ms.Tensor(x)).asnumpy(), expected_pool)


@pytest.mark.parametrize("feature_shape", [(1, 4, 8, 7, 7), (2, 4, 5, 9, 8), (1, 4, 1, 3, 2)])
def test_head_is_windowed_average_pool_then_mean(feature_shape):
    features = np.random.RandomState(2).randn(*feature_shape).astype(np.float32)
    head = I3DHead(feature_shape[1], 3, dropout_keep_prob=0.5)
    head.set_train(False)
    window = tuple(min(w, size) for w, size in zip((2, 7, 7), feature_shape[2:]))
    pooled = windows(features, window, (1, 1, 1)).mean(axis=(-3, -2, -1))
    weight = head.conv3d.weight.asnumpy()[:, :, 0, 0, 0]
    logits = np.einsum("nctxy,oc->notxy", pooled, weight) + head.conv3d.bias.asnumpy()[:, None, None, None]
    np.testing.assert_allclose(head(ms.Tensor(features)).asnumpy(), logits.mean(axis=(2, 3, 4)), rtol=1e-5,
                               atol=1e-5)


def test_dropout_keep_prob_sets_drop_rate():
    assert InceptionI3D(num_classes=3).logits.dropout.p == pytest.approx(0.5)
    assert InceptionI3D(num_classes=3, dropout_keep_prob=0.8).logits.dropout.p == pytest.approx(0.2)


def test_batchnorm_statistics_move_like_pytorch_momentum_001():
    bn = Unit3D(2, 3).bn
    bn.set_train(True)
    x = np.random.RandomState(3).randn(2, 3, 2, 3, 4).astype(np.float32) * 2 + 5
    bn(ms.Tensor(x))
    np.testing.assert_allclose(bn.bn2d.moving_mean.asnumpy(), 0.01 * x.mean(axis=(0, 2, 3, 4)), rtol=1e-5)
    # Like PyTorch, the running variance takes the unbiased batch variance.
    np.testing.assert_allclose(bn.bn2d.moving_variance.asnumpy(), 0.99 + 0.01 * x.var(axis=(0, 2, 3, 4), ddof=1),
                               rtol=1e-5)
    assert bn.bn2d.eps == pytest.approx(1e-3)


def test_finetune_selection_counts():
    net = InceptionI3D(num_classes=51)
    trainable = select_finetune_parameters(net, "logits,Mixed_5")
    assert len(trainable) == 38 and sum(param.size for param in trainable) == 4_811_283
    assert all(param.name.startswith(("logits", "Mixed_5")) for param in trainable)
    assert not any("moving_" in param.name for param in trainable)
    assert [param.name for param in net.trainable_params()] == [param.name for param in trainable]
    assert net.Mixed_4f.b0.bn.bn2d.use_batch_statistics is False
    assert net.Mixed_5b.b0.bn.bn2d.use_batch_statistics is None
    everything = select_finetune_parameters(net, "")
    assert len(everything) == 173 and net.Mixed_4f.b0.bn.bn2d.use_batch_statistics is None


def make_train_step(net, trainable):
    optimizer = nn.Adam(trainable, learning_rate=0.01)
    loss_fn = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")

    def forward(x, labels):
        return loss_fn(net(x), labels)

    grad_fn = ms.value_and_grad(forward, None, optimizer.parameters)

    def train_step(x, labels):
        loss, grads = grad_fn(x, labels)
        optimizer(grads)
        return loss

    return train_step


@pytest.mark.parametrize("compiled", [False, True], ids=["pynative", "graph"])
def test_training_step_changes_only_selected_parameters(compiled):
    net = InceptionI3D(num_classes=4)
    trainable = select_finetune_parameters(net, "logits,Mixed_5")
    train_step = make_train_step(net, trainable)
    if compiled:
        train_step = ms.jit(train_step)
    net.set_train(True)
    before = {param.name: param.asnumpy().copy() for param in net.get_parameters()}
    loss = train_step(clip((2, 3, 8, 64, 64)), ms.Tensor(np.array([1, 3], np.int32)))
    assert np.isfinite(loss.asnumpy())
    after = {param.name: param.asnumpy() for param in net.get_parameters()}
    changed = {name for name in before if not np.array_equal(before[name], after[name])}
    trainable_names = {param.name for param in trainable}
    selected_statistics = {name for name in before if name.startswith("Mixed_5") and "moving_" in name}
    assert changed == trainable_names | selected_statistics


def test_onnx_export_matches(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    net = InceptionI3D(num_classes=7)
    net.set_train(False)
    shape = (1, 3, 8, 256, 64)  # an 8x2 feature map: the head pools 7x2 windows
    ms.export(net, ms.Tensor(shape=shape, dtype=ms.float32), file_name=str(tmp_path / "i3d"), file_format="ONNX")
    session = ort.InferenceSession(str(tmp_path / "i3d.onnx"))
    x = clip(shape)
    exported = session.run(None, {session.get_inputs()[0].name: x.asnumpy()})[0]
    np.testing.assert_allclose(exported, net(x).asnumpy(), rtol=1e-4, atol=1e-4)
