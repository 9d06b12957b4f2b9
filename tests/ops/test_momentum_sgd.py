"""The compiled in-place SGD step (src/ops/momentum_sgd.cc) against torch.optim.SGD's formula, and MomentumSGD with
and without it against nn.SGD."""
import mindspore as ms
import numpy as np
import pytest
from mindspore import nn

from src.engine.optimizers import MomentumSGD
from src.ops.momentum_sgd import compiled_momentum_update
from tests.engine.test_optimizers import train


class OneStep(nn.Cell):
    """The kernel on one parameter and its buffer."""

    def __init__(self, kernel, param, accum):
        super().__init__()
        self.kernel = kernel
        self.param = ms.Parameter(ms.Tensor(param), name="param")
        self.accum = ms.Parameter(ms.Tensor(accum), name="accum")

    def construct(self, gradient, learning_rate, factor, config):
        return self.kernel(self.param, self.accum, gradient, learning_rate, factor, config)


def expected_step(param, accum, gradient, lr, factor, momentum, decay, nesterov):
    step = factor * gradient + decay * param
    accum = momentum * accum + step
    return param - lr * (step + momentum * accum if nesterov else accum), accum


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("size", [(3, 5), (2 ** 19 + 7,)])  # one thread; the pass split over threads
def test_one_step_in_place_as_torch_sgd(use_library, nesterov, size):
    kernel = compiled_momentum_update()
    assert kernel is not None
    rng = np.random.default_rng(0)
    param, accum, gradient = (rng.standard_normal(size).astype(np.float32) for _ in range(3))
    step = OneStep(kernel, param, accum)
    config = np.array([0.9, 5e-4, float(nesterov)], np.float32)
    done = step(ms.Tensor(gradient), ms.Tensor(0.1, ms.float32), ms.Tensor(0.5, ms.float32), ms.Tensor(config))
    assert done.asnumpy().tolist() == [1.0]
    want_param, want_accum = expected_step(param.astype(np.float64), accum.astype(np.float64),
                                           gradient.astype(np.float64), 0.1, 0.5, 0.9, 5e-4, nesterov)
    np.testing.assert_allclose(step.accum.asnumpy(), want_accum, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(step.param.asnumpy(), want_param, rtol=1e-6, atol=1e-6)


def assert_steps_as_nn_sgd(nesterov, clip_norm, compiled):
    found, optimizer = train(MomentumSGD, nesterov, clip_norm)
    assert (optimizer.kernel is not None) == compiled
    expected, _ = train(nn.SGD, nesterov, clip_norm)
    initial, _ = train(nn.SGD, nesterov, clip_norm, steps=0)
    for name, value in expected.items():
        assert not np.allclose(value, initial[name]), name
        np.testing.assert_allclose(found[name], value, rtol=1e-5, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("nesterov", [True, False])
@pytest.mark.parametrize("clip_norm", [0.0, 0.05])
def test_momentum_sgd_compiled_steps_as_nn_sgd(use_library, nesterov, clip_norm):
    """Three steps of a conv-BN-dense net: an in-place write ahead of a read of its parameter (the dense weight in
    the input gradient, say) would change every later value."""
    assert_steps_as_nn_sgd(nesterov, clip_norm, compiled=True)


def test_momentum_sgd_compiled_steps_in_pynative_mode(use_library, pynative_mode):
    assert_steps_as_nn_sgd(True, 0.05, compiled=True)


def test_momentum_sgd_falls_back_without_the_library(without_library):
    assert_steps_as_nn_sgd(True, 0.05, compiled=False)
