"""The benchmark's PyTorch peers (bench/torch_peer.py over tests/torch_*_reference.py) compute the project's networks:
the project's parameters loaded by name give the same logits (1e-4), in eval mode (moving statistics) and, for
ECO-lite, in train mode (batch statistics)."""
import numpy as np
import pytest

import mindspore as ms

torch = pytest.importorskip("torch")

from bench.torch_peer import build  # noqa: E402
from src.eco_lite import ECOLite  # noqa: E402
from src.i3d import InceptionI3D  # noqa: E402
from tests.torch_i3d_reference import load_mindspore_parameters  # noqa: E402


def randomize(net, seed):
    """Random biases, BN affine parameters and moving statistics, so every tensor counts in the logits."""
    rng = np.random.default_rng(seed)
    for param in net.get_parameters():
        name = param.name
        if name.endswith(("gamma", "moving_variance")):
            value = rng.uniform(0.5, 1.5, param.shape)
        elif name.endswith(("beta", "moving_mean", "bias")):
            value = rng.normal(0, 0.2, param.shape)
        else:
            continue
        param.set_data(ms.Tensor(value.astype(np.float32)))
    return {param.name: param.asnumpy() for param in net.get_parameters()}


def peer_logits(model, params, num_classes, frames, clip, train):
    peer = load_mindspore_parameters(build(model, num_classes, frames), params)
    peer.train(train)
    if train:
        peer.dropout.eval()  # the project's nets are built with dropout keep probability 1
    with torch.no_grad():
        return peer(torch.from_numpy(clip)).numpy()


@pytest.mark.parametrize("train", [False, True])
def test_eco_lite_peer_matches(train, pynative_mode):
    net = ECOLite(num_classes=10, num_segments=4, dropout_keep_prob=1.0)
    params = randomize(net, 1)
    clip = np.random.default_rng(2).normal(0, 1, (2, 12, 64, 64)).astype(np.float32)
    net.set_train(train)
    logits = net(ms.Tensor(clip)).asnumpy()
    expected = peer_logits("eco_lite", params, 10, 4, clip, train)
    assert expected.std() > 0.1
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)


def test_i3d_peer_matches(pynative_mode):
    ms.set_seed(0)
    net = InceptionI3D(num_classes=7, dropout_keep_prob=1.0)
    params = randomize(net, 3)
    clip = np.random.default_rng(4).uniform(-1, 1, (1, 3, 16, 64, 64)).astype(np.float32)
    net.set_train(False)
    logits = net(ms.Tensor(clip)).asnumpy()
    expected = peer_logits("i3d_rgb", params, 7, 16, clip, False)
    assert expected.std() > 0.01
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
