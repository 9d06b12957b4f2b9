"""The one train-step builder: MindSpore's AMP cell without clipping, TrainStep with clipping, loss scaling."""
import numpy as np
import mindspore as ms
import pytest
from mindspore import nn

from src.engine.train_step import TrainStep, build_train_step, clip_by_global_norm, uses_loss_scaling

pytestmark = pytest.mark.usefixtures("pynative_mode")


def batch():
    rng = np.random.RandomState(0)
    return ms.Tensor(rng.rand(6, 4).astype(np.float32)), ms.Tensor(np.array([0, 1, 2, 0, 1, 2], np.int32))


def train(make_cell, steps=3, input_scale=1.0):
    """Weights of a Dense(4, 3) after `steps` SGD steps through the cell make_cell(net, optimizer) builds."""
    ms.set_seed(1)
    net = nn.Dense(4, 3)
    cell = make_cell(net, nn.SGD(net.trainable_params(), learning_rate=0.5))
    data, labels = batch()
    data = data * input_scale
    losses = [float(cell(data, labels).asnumpy()) for _ in range(steps)]
    return net.weight.asnumpy(), losses


def test_without_clipping_it_is_plain_sgd_on_the_mean_cross_entropy():
    weights, losses = train(lambda net, opt: build_train_step(net, opt))
    reference, reference_losses = train(lambda net, opt: nn.TrainOneStepCell(
        nn.WithLossCell(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")), opt))
    np.testing.assert_allclose(weights, reference, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(losses, reference_losses, rtol=1e-6)
    assert losses[-1] < losses[0]


def test_clipping_limits_the_update_to_the_global_norm():
    before, _ = train(lambda net, opt: build_train_step(net, opt), steps=0)
    free, _ = train(lambda net, opt: build_train_step(net, opt), steps=1)
    clipped, _ = train(lambda net, opt: build_train_step(net, opt, clip_norm=1e-3), steps=1)
    # one SGD step of lr 0.5 moves the weights by 0.5 * the (clipped) gradient; the bias moves too, so <=
    assert np.linalg.norm(clipped - before) <= 0.5 * 1e-3 * (1 + 1e-5)
    assert np.linalg.norm(free - before) > 10 * np.linalg.norm(clipped - before)


def test_clip_by_global_norm_scales_by_the_global_l2_norm_only_above_the_limit():
    rng = np.random.RandomState(0)
    arrays = [rng.randn(*shape).astype(np.float32) for shape in ((8, 4, 3, 3, 3), (8, 4, 3, 3), (8,), (5, 7))]
    norm = np.sqrt(sum(np.sum(np.square(a.astype(np.float64))) for a in arrays))
    for clip_norm in (norm / 3, norm * 3):
        clipped = clip_by_global_norm(tuple(ms.Tensor(a) for a in arrays), float(clip_norm))
        for array, tensor in zip(arrays, clipped):
            assert tensor.shape == array.shape and tensor.dtype == ms.float32
            np.testing.assert_allclose(tensor.asnumpy(), array * min(1.0, clip_norm / norm), rtol=1e-6, atol=0)
    unclipped = clip_by_global_norm(tuple(ms.Tensor(a) for a in arrays), float(norm * 3))
    assert all(np.array_equal(tensor.asnumpy(), array) for array, tensor in zip(arrays, unclipped))


def test_clip_by_global_norm_is_the_same_in_every_call_for_large_gradients():
    """MindSpore's CPU sum over 200,000 or more elements adds its threads' partial sums in the order they finish; a
    resumed run then drifted from the uninterrupted one (its first steps are another process's later ones)."""
    rng = np.random.RandomState(1)
    grads = tuple(ms.Tensor(rng.randn(*shape).astype(np.float32)) for shape in ((256, 128, 3, 3, 3), (900_000,),
                                                                                 (1, 600_000), (64, 3, 7, 7)))

    @ms.jit
    def clip(*gradients):
        return clip_by_global_norm(gradients, 1.0)

    first = [tensor.asnumpy() for tensor in clip(*grads)]
    for _ in range(30):
        for expected, tensor in zip(first, clip(*grads)):
            np.testing.assert_array_equal(tensor.asnumpy(), expected)


def test_loss_scaling_gives_the_same_step_and_skips_overflowing_gradients():
    plain, _ = train(lambda net, opt: build_train_step(net, opt, clip_norm=5.0))
    scaled, _ = train(lambda net, opt: TrainStep(
        nn.WithLossCell(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")), opt, 5.0,
        ms.amp.DynamicLossScaler(scale_value=2.0 ** 10, scale_factor=2, scale_window=1000)))
    np.testing.assert_allclose(scaled, plain, rtol=1e-5, atol=1e-6)
    before, _ = train(lambda net, opt: build_train_step(net, opt), steps=0)
    overflow = ms.amp.DynamicLossScaler(scale_value=3.3e38, scale_factor=2, scale_window=1000)
    skipped, _ = train(lambda net, opt: TrainStep(
        nn.WithLossCell(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")), opt, 5.0, overflow),
        steps=1, input_scale=1000.0)
    np.testing.assert_array_equal(skipped, before)
    assert np.isclose(float(overflow.scale_value.asnumpy()), 1.65e38)


def test_loss_scaling_only_where_fp16_runs():
    assert not uses_loss_scaling("O0", "GPU") and not uses_loss_scaling("O3", "CPU")
    assert uses_loss_scaling("O1", "GPU") and uses_loss_scaling("O3", "Ascend")
