"""The compiled convolutions (src/ops/conv3d.cc) against MindSpore's nn.Conv3d/nn.Conv2d: forward pass and both
gradients within float32 rounding for I3D's and ECO-lite's geometries (TF-SAME with odd sizes, strides, explicit
padding, bias, batches, chunks split over threads), in GRAPH and PYNATIVE mode; inference and exported graphs use
MindSpore's layer; whole training steps of both networks match."""
import numpy as np
import pytest

import mindspore as ms
from mindspore import nn

from src.ops import conv
from src.ops import library

# (in, out, kernel, stride, pad_mode, padding, input shape)
CONV3D = [
    (5, 7, (3, 3, 3), (1, 1, 1), "same", 0, (2, 5, 6, 9, 10)),
    (3, 4, (7, 7, 7), (2, 2, 2), "same", 0, (1, 3, 9, 15, 16)),  # I3D's stem, odd sizes
    (6, 8, (1, 1, 1), (1, 1, 1), "same", 0, (2, 6, 4, 7, 7)),  # pointwise: no im2col
    (4, 6, (3, 3, 3), (2, 2, 2), "pad", 1, (2, 4, 5, 9, 8)),  # ECO-lite's strided 3-D convolution
    (4, 6, (1, 3, 3), (1, 2, 2), "same", 0, (1, 4, 3, 9, 8)),
    (8, 5, (3, 3, 3), (1, 1, 1), "same", 0, (1, 8, 8, 23, 24)),  # several chunks, split inside a frame
    (64, 16, (3, 3, 3), (1, 1, 1), "same", 0, (1, 64, 4, 56, 56)),  # chunks cut by the column-buffer limit
    (4, 5, (1, 1, 1), (1, 1, 1), "pad", (0, 1, 0, 0, 1, 0), (2, 4, 3, 4, 5)),  # 1x1x1 but padded: not pointwise
    (4, 5, (1, 1, 1), (2, 2, 2), "same", 0, (1, 4, 5, 7, 6)),  # stride larger than the kernel
    (3, 4, (3, 3, 3), (1, 1, 1), "pad", 2, (1, 3, 3, 4, 5)),  # padding larger than kernel - 1
    (3, 4, (3, 3, 3), (1, 1, 1), "pad", 1, (1, 3, 4, 5, 2)),  # a frame narrower than the kernel
    (3, 4, (3, 3, 3), (2, 2, 2), "same", 0, (1, 3, 2, 2, 2)),  # output of one voxel
]
CONV2D = [  # ECO-lite's trunk: explicit symmetric padding, bias
    (3, 8, 7, 2, 3, (3, 3, 20, 21)),
    (8, 5, 3, 1, 1, (2, 8, 9, 9)),
    (8, 5, 1, 1, 0, (2, 8, 9, 9)),
]


class WeightedSum(nn.Cell):
    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def construct(self, x, target):
        return (self.layer(x) * target).sum()


def outputs_and_gradients(layer, x, target):
    layer.set_train(True)
    net = WeightedSum(layer)
    net.set_train(True)
    _, (grad_x, grad_weights) = ms.value_and_grad(net, grad_position=0, weights=layer.trainable_params())(
        ms.Tensor(x), ms.Tensor(target))
    return [layer(ms.Tensor(x)).asnumpy(), grad_x.asnumpy()] + [g.asnumpy() for g in grad_weights]


def assert_close(found, expected, what):
    for index, (a, b) in enumerate(zip(found, expected)):
        scale = max(float(np.abs(b).max()), 1e-6)
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-6 * scale, err_msg=f"{what}: output {index}")


def compare(compiled, reference, shape, seed):
    rng = np.random.default_rng(seed)
    reference.weight.set_data(compiled.weight.data.copy())
    if compiled.has_bias:
        reference.bias.set_data(ms.Tensor(rng.standard_normal(compiled.bias.shape).astype(np.float32)))
        compiled.bias.set_data(reference.bias.data.copy())
    x = rng.standard_normal(shape).astype(np.float32)
    # The compiled layer runs first: an output element a kernel left unwritten must not find the reference's value in
    # a reused buffer.
    compiled.set_train(True)
    target = rng.standard_normal(compiled(ms.Tensor(x)).shape).astype(np.float32)
    found = outputs_and_gradients(compiled, x, target)
    return found, outputs_and_gradients(reference, x, target)


def check_conv3d(config, bias):
    cin, cout, kernel, stride, pad_mode, padding, shape = config
    compiled = conv.conv3d(cin, cout, kernel, stride, pad_mode=pad_mode, padding=padding, has_bias=bias)
    assert isinstance(compiled, conv.CompiledConv3d)
    reference = nn.Conv3d(cin, cout, kernel, stride, pad_mode=pad_mode, padding=padding, has_bias=bias)
    found, expected = compare(compiled, reference, shape, seed=cin + cout)
    assert [a.shape for a in found] == [b.shape for b in expected]
    assert_close(found, expected, f"{config} bias={bias}")


@pytest.mark.parametrize("config", CONV3D, ids=lambda c: f"{c[2]}s{c[3]}{c[4]}{c[6]}")
def test_conv3d_graph(use_library, config):
    check_conv3d(config, bias=False)


def test_conv3d_with_bias_pynative(use_library, pynative_mode):
    for config in CONV3D[:5]:
        check_conv3d(config, bias=True)


@pytest.mark.parametrize("mode", ["graph", "pynative"])
def test_conv2d(use_library, request, mode):
    if mode == "pynative":
        request.getfixturevalue("pynative_mode")
    for cin, cout, kernel, stride, padding, shape in CONV2D:
        compiled = conv.conv2d(cin, cout, kernel, stride, pad_mode="pad", padding=padding, has_bias=True)
        assert isinstance(compiled, conv.CompiledConv2d)
        reference = nn.Conv2d(cin, cout, kernel, stride, pad_mode="pad", padding=padding, has_bias=True)
        found, expected = compare(compiled, reference, shape, seed=kernel)
        assert_close(found, expected, f"2-D kernel {kernel} stride {stride}")


@pytest.mark.parametrize("threads", [1, 3, 7])
def test_any_thread_count_and_batch(use_library, monkeypatch, pynative_mode, threads):
    """Input gradients split by sample (batch >= threads) or into private buffers (batch < threads)."""
    monkeypatch.setenv("MS_VIDEO_OPS_THREADS", str(threads))
    for batch in (1, 3, 9):
        check_conv3d((3, 4, (3, 3, 3), (1, 1, 1), "same", 0, (batch, 3, 4, 9, 8)), bias=False)


@pytest.mark.parametrize("threads", [2, 5])
def test_small_planes_split_channels_over_threads(use_library, monkeypatch, threads):
    """Fewer chunks than threads (a 7x7 map; four chunks of a 2x12x12 map on 5 threads): each chunk's matrix product is
    split by output channel (forward pass, weight gradient) or input channel (input gradient). Weight gradients of
    planes up to 256 positions always are, sample after sample."""
    monkeypatch.setenv("MS_VIDEO_OPS_THREADS", str(threads))
    for config in [(16, 24, (3, 3, 3), (1, 1, 1), "same", 0, (1, 16, 1, 7, 7)),
                   (16, 24, (1, 1, 1), (1, 1, 1), "same", 0, (1, 16, 1, 7, 7)),
                   (16, 24, (3, 3, 3), (1, 1, 1), "same", 0, (3, 16, 2, 7, 7)),
                   (6, 5, (3, 3, 3), (1, 1, 1), "same", 0, (1, 6, 2, 12, 12)),
                   (3, 4, (3, 3, 3), (1, 1, 1), "same", 0, (1, 3, 1, 2, 2))]:  # fewer channels than threads
        check_conv3d(config, bias=False)


def test_repeatable_bit_for_bit(use_library):
    cin, cout, kernel, stride, pad_mode, padding, shape = CONV3D[5]
    layer = conv.conv3d(cin, cout, kernel, stride, pad_mode=pad_mode, padding=padding, has_bias=False)
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(np.float32)
    target = rng.standard_normal(shape[:1] + (cout,) + shape[2:]).astype(np.float32)
    first, second = outputs_and_gradients(layer, x, target), outputs_and_gradients(layer, x, target)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_inference_is_mindspores_layer(use_library):
    layer = conv.conv3d(4, 6, 3, 1, pad_mode="same", has_bias=True)
    reference = nn.Conv3d(4, 6, 3, 1, pad_mode="same", has_bias=True)
    reference.weight.set_data(layer.weight.data.copy())
    reference.bias.set_data(layer.bias.data.copy())
    layer.set_train(False)
    x = ms.Tensor(np.random.default_rng(0).standard_normal((1, 4, 3, 5, 5)).astype(np.float32))
    np.testing.assert_array_equal(layer(x).asnumpy(), reference(x).asnumpy())


def test_falls_back_without_library(without_library):
    assert type(conv.conv3d(2, 3, 3, pad_mode="same")) is nn.Conv3d
    assert type(conv.conv2d(2, 3, 3, pad_mode="pad", padding=1)) is nn.Conv2d


def conv3d_from(folder, monkeypatch, warning):
    """The layer conv3d builds with the libraries of `folder`, checking the warning that says why it falls back."""
    monkeypatch.setenv(library.ENV_VARIABLE, str(folder))
    library.library_path.cache_clear()
    try:
        with pytest.warns(UserWarning, match=warning):
            return conv.conv3d(2, 3, 3, pad_mode="same")
    finally:
        library.library_path.cache_clear()


def test_missing_library_warns_and_falls_back(tmp_path, monkeypatch):
    layer = conv3d_from(tmp_path, monkeypatch, "libms_video_conv.so is missing.*scipy-openblas32")
    assert type(layer) is nn.Conv3d


def test_moved_openblas_falls_back(built, tmp_path, monkeypatch):
    """A library whose OpenBLAS is gone (a moved or rebuilt environment) is not used."""
    for kind in library.LIBRARIES:
        (tmp_path / library.LIBRARIES[kind].file).write_bytes((built / library.LIBRARIES[kind].file).read_bytes())
    library.blas_record(tmp_path / library.LIBRARIES["conv"].file).write_text("/nowhere/libscipy_openblas.so\n")
    layer = conv3d_from(tmp_path, monkeypatch, "built against an OpenBLAS library that is gone")
    assert type(layer) is nn.Conv3d


def test_dilated_and_grouped_layers_use_mindspore(use_library):
    assert type(conv.conv3d(4, 4, 3, pad_mode="same", group=2)) is nn.Conv3d
    assert type(conv.conv2d(4, 4, 3, pad_mode="same", dilation=2)) is nn.Conv2d


def one_sgd_step(net, x):
    net.set_train(True)
    optimizer = nn.SGD(net.trainable_params(), learning_rate=0.1)
    step = ms.value_and_grad(lambda clip: (net(clip) ** 2).mean(), None, optimizer.parameters)
    _, grads = step(ms.Tensor(x))
    optimizer(grads)
    return {param.name: param.asnumpy() for param in net.get_parameters()}


def compare_training_step(build, x, monkeypatch, built):
    """build() with the compiled layers and with MindSpore's, same weights; one SGD step each; same parameters."""
    monkeypatch.setenv(library.ENV_VARIABLE, str(built))
    library.library_path.cache_clear()
    compiled = build()
    assert any(isinstance(cell, (conv.CompiledConv3d, conv.CompiledConv2d)) for _, cell in compiled.cells_and_names())
    monkeypatch.setenv(library.ENV_VARIABLE, "off")
    library.library_path.cache_clear()
    reference = build()
    library.library_path.cache_clear()
    ms.load_param_into_net(reference, {param.name: param for param in compiled.get_parameters()})
    after, expected = one_sgd_step(compiled, x), one_sgd_step(reference, x)
    assert after.keys() == expected.keys()
    for name, value in after.items():
        np.testing.assert_allclose(value, expected[name], rtol=1e-5, atol=1e-5, err_msg=name)


def test_i3d_training_step_matches_builtin(built, monkeypatch):
    from src.i3d import InceptionI3D

    def build():
        ms.set_seed(0)
        return InceptionI3D(num_classes=3, final_endpoint="Mixed_4b")

    x = np.random.default_rng(1).uniform(-1, 1, (1, 3, 8, 32, 32)).astype(np.float32)
    compare_training_step(build, x, monkeypatch, built)


def test_eco_training_step_matches_builtin(built, monkeypatch):
    from src.eco_lite import ECOLite

    def build():
        ms.set_seed(0)
        return ECOLite(5, 4, dropout_keep_prob=1.0)

    x = np.random.default_rng(2).uniform(-1, 1, (1, 12, 64, 64)).astype(np.float32)
    compare_training_step(build, x, monkeypatch, built)
