"""The compiled 3-D max-pool gradient (src/ops) against MindSpore's nn.MaxPool3d: same forward, same gradient on
post-ReLU inputs (many ties at zero) for I3D's four pool configurations in GRAPH and PYNATIVE mode, an I3D training
step within 1e-5, and exported graphs free of Custom operators. The libraries are built into a temporary folder
(conftest.py); the tests skip where they cannot be built."""
import numpy as np
import pytest

import mindspore as ms
from mindspore import nn

from src.ops import library
from src.ops.maxpool3d import MaxPool2dValid, MaxPool3dSame

# (kernel, stride, input shape) of I3D's pools at small sizes; odd sizes exercise the uneven SAME padding.
CONFIGS = [((1, 3, 3), (1, 2, 2), (1, 4, 5, 13, 12)), ((3, 3, 3), (2, 2, 2), (2, 3, 7, 9, 8)),
           ((2, 2, 2), (2, 2, 2), (1, 5, 5, 7, 6)), ((3, 3, 3), (1, 1, 1), (2, 6, 4, 7, 5))]


@pytest.fixture(scope="module")
def pool_library(built):
    return str(built / library.LIBRARIES["pool"].file)


def post_relu(shape, seed):
    return np.maximum(np.random.default_rng(seed).standard_normal(shape).astype(np.float32), 0)


class WeightedSum(nn.Cell):
    def __init__(self, pool):
        super().__init__()
        self.pool = pool

    def construct(self, x, w):
        return (self.pool(x) * w).sum()


def forward_and_gradient(pool, x, w):
    return pool(ms.Tensor(x)).asnumpy(), ms.grad(WeightedSum(pool))(ms.Tensor(x), ms.Tensor(w)).asnumpy()


def check_configs(pool_library):
    for index, (kernel, stride, shape) in enumerate(CONFIGS):
        x = post_relu(shape, index)
        reference = nn.MaxPool3d(kernel_size=kernel, stride=stride, pad_mode="same")
        w = np.random.default_rng(10 + index).standard_normal(reference(ms.Tensor(x)).shape).astype(np.float32)
        y_ref, g_ref = forward_and_gradient(reference, x, w)
        y, g = forward_and_gradient(MaxPool3dSame(kernel, stride, pool_library), x, w)
        np.testing.assert_array_equal(y, y_ref)
        np.testing.assert_allclose(g, g_ref, rtol=0, atol=1e-5, err_msg=f"kernel {kernel} stride {stride}")


def test_gradient_equals_builtin_graph(pool_library):
    check_configs(pool_library)


def test_gradient_equals_builtin_pynative(pool_library, pynative_mode):
    check_configs(pool_library)


def test_float16_gradient_is_cast(pool_library, pynative_mode):
    x = post_relu((1, 2, 3, 5, 5), 0)
    pool = MaxPool3dSame((3, 3, 3), (1, 1, 1), pool_library)
    gradient = ms.grad(lambda t: pool(t).sum())(ms.Tensor(x, ms.float16))
    assert gradient.dtype == ms.float16
    reference = ms.grad(lambda t: nn.MaxPool3d(3, 1, pad_mode="same")(t).sum())(ms.Tensor(x))
    np.testing.assert_allclose(gradient.asnumpy(), reference.asnumpy(), atol=1e-3)


def tiny_i3d(seed=0):
    from src.i3d import InceptionI3D

    ms.set_seed(seed)
    return InceptionI3D(num_classes=3, final_endpoint="Mixed_4b")


def test_training_step_matches_builtin(use_library, monkeypatch):
    nets = [tiny_i3d()]
    assert any(isinstance(cell, MaxPool3dSame) for _, cell in nets[0].cells_and_names())
    monkeypatch.setenv(library.ENV_VARIABLE, "off")
    library.library_path.cache_clear()
    nets.append(tiny_i3d())
    assert not any(isinstance(cell, MaxPool3dSame) for _, cell in nets[1].cells_and_names())
    ms.load_param_into_net(nets[1], {param.name: param for param in nets[0].get_parameters()})
    x = ms.Tensor(np.random.default_rng(1).uniform(-1, 1, (1, 3, 8, 32, 32)).astype(np.float32))
    after = []
    for net in nets:
        net.set_train(True)
        optimizer = nn.SGD(net.trainable_params(), learning_rate=0.1)
        step = ms.value_and_grad(lambda clip: (net(clip) ** 2).mean(), None, optimizer.parameters)
        loss, grads = step(x)
        optimizer(grads)
        after.append({param.name: param.asnumpy() for param in net.get_parameters()})
    assert after[0].keys() == after[1].keys()
    for name, value in after[0].items():
        np.testing.assert_allclose(value, after[1][name], rtol=0, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("file_format", ["ONNX", "MINDIR"])
def test_export_has_no_custom_operator(use_library, tmp_path, file_format):
    net = tiny_i3d()
    net.set_train(False)
    ms.export(net, ms.Tensor(shape=(1, 3, 8, 32, 32), dtype=ms.float32), file_name=str(tmp_path / "net"),
              file_format=file_format)
    exported = (tmp_path / f"net.{file_format.lower()}").read_bytes()
    assert b"MaxPool3D" in exported or b"MaxPool" in exported
    assert b"Conv3D" in exported or b"Conv" in exported
    for custom in (b"Custom", b"MaxPool3dSameGrad", b"Conv3dForward", b"Conv3dGradInput", b"Conv3dGradFilter"):
        assert custom not in exported


# (kernel, stride, input shape) of ECO-lite's 2-D pools after their zero row and column, at small sizes.
CONFIGS_2D = [(3, 2, (2, 4, 13, 13)), (3, 2, (1, 3, 8, 11)), (2, 2, (1, 2, 6, 7))]


@pytest.mark.parametrize("mode", ["graph", "pynative"])
def test_2d_valid_gradient_equals_builtin(pool_library, request, mode):
    if mode == "pynative":
        request.getfixturevalue("pynative_mode")
    for index, (kernel, stride, shape) in enumerate(CONFIGS_2D):
        x = post_relu(shape, index)
        x[..., -1, :] = 0  # the zero row and column CeilMaxPool2d appends: ties with the ReLU's zeros
        x[..., :, -1] = 0
        reference = nn.MaxPool2d(kernel_size=kernel, stride=stride, pad_mode="valid")
        w = np.random.default_rng(20 + index).standard_normal(reference(ms.Tensor(x)).shape).astype(np.float32)
        y_ref, g_ref = forward_and_gradient(reference, x, w)
        y, g = forward_and_gradient(MaxPool2dValid(kernel, stride, pool_library), x, w)
        np.testing.assert_array_equal(y, y_ref)
        np.testing.assert_array_equal(g, g_ref, err_msg=f"kernel {kernel} stride {stride} shape {shape}")
