"""MomentumSGD against the nn.SGD steps it replaces (ECO-lite's optimizer), with and without the clipping factor."""
import mindspore as ms
import numpy as np
import pytest
from mindspore import nn

from src.engine.optimizers import MomentumSGD
from src.engine.train_step import TrainStep


class Small(nn.Cell):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, has_bias=True)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Dense(4, 5)

    def construct(self, x):
        return self.fc(self.bn(self.conv(x)).mean(axis=(2, 3)))


def groups(net):
    weights = [p for p in net.trainable_params() if p.name.endswith(".weight")]
    others = [p for p in net.trainable_params() if not p.name.endswith(".weight")]
    return [{"params": weights, "weight_decay": 0.01}, {"params": others, "weight_decay": 0.0}]


def train(make_optimizer, nesterov, clip_norm, steps=3):
    ms.set_seed(0)
    net = Small()
    optimizer = make_optimizer(groups(net), learning_rate=0.1, momentum=0.9, nesterov=nesterov)
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    step = TrainStep(nn.WithLossCell(net, loss), optimizer, clip_norm)
    rng = np.random.default_rng(1)
    for _ in range(steps):
        step(ms.Tensor(rng.standard_normal((6, 3, 8, 8)).astype(np.float32) * 5),
             ms.Tensor(rng.integers(0, 5, 6).astype(np.int32)))
    return {p.name: p.asnumpy() for p in optimizer.parameters}, optimizer


@pytest.mark.parametrize("nesterov", [True, False])
@pytest.mark.parametrize("clip_norm", [0.0, 0.05])
def test_the_same_steps_as_nn_sgd(nesterov, clip_norm):
    found, optimizer = train(MomentumSGD, nesterov, clip_norm)
    expected, _ = train(nn.SGD, nesterov, clip_norm)
    for name, value in expected.items():
        np.testing.assert_allclose(found[name], value, rtol=1e-5, atol=1e-7, err_msg=name)
    assert optimizer.decays == (0.01, 0.01, 0.0, 0.0, 0.0, 0.0)  # conv, fc weights; conv bias, BN gamma/beta, fc bias


def test_one_state_tensor_per_parameter_named_as_nn_sgd():
    net = Small()
    optimizer = MomentumSGD(groups(net), learning_rate=0.1, momentum=0.9)
    names = {p.name for p in optimizer.get_parameters()}
    assert {f"accum.{p.name}" for p in net.trainable_params()} <= names
    assert not any(name.startswith("stat.") for name in names)


def test_one_learning_rate_only():
    net = Small()
    per_group = [{"params": net.trainable_params()[:2], "lr": 0.1}, {"params": net.trainable_params()[2:]}]
    with pytest.raises(ValueError, match="one fixed learning rate"):
        MomentumSGD(per_group, learning_rate=0.1, momentum=0.9)


def test_momentum_above_zero_only():
    with pytest.raises(ValueError, match="momentum above 0"):
        MomentumSGD(Small().trainable_params(), learning_rate=0.1, momentum=0.0)
