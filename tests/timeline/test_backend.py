"""The ONNX Runtime backend (src/predictors.py): the cached export gives MindSpore's logits within 1e-4; `auto` picks
it on a CPU target only; a missing onnxruntime or a shape the export cannot take is a clear error."""
import numpy as np
import pytest

from src.predictors import ModelError, resolve_backend

pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("model", ["eco_lite", "i3d_rgb"])
def test_onnxruntime_matches_mindspore_and_is_cached(model, tmp_path, monkeypatch):
    import mindspore as ms

    from src.eco_lite import ECOLite
    from src.engine.checkpoint_io import save_checkpoint
    from src.i3d import InceptionI3D
    from src.predictors import cached_onnx_path, load_eco, load_i3d, make_predictor, network_tag

    monkeypatch.setenv("I3D_CACHE_DIR", str(tmp_path / "cache"))
    ms.set_seed(11)
    checkpoint = tmp_path / f"{model}.ckpt"
    if model == "eco_lite":
        save_checkpoint(ECOLite(3, 4), checkpoint)
        net, _ = load_eco(checkpoint, 4)
        shape, scale = (2, 12, 64, 64), 60.0  # BGR minus the Caffe means
    else:
        save_checkpoint(InceptionI3D(3, "rgb"), checkpoint)
        net, _ = load_i3d(checkpoint, "rgb")
        shape, scale = (2, 3, 8, 32, 32), 0.5  # [-1, 1]
    clips = (np.random.default_rng(0).normal(size=shape) * scale).astype(np.float32)
    reference, used = make_predictor(net, checkpoint, shape, "mindspore")
    assert used == "mindspore"
    onnx, used = make_predictor(net, checkpoint, shape, "auto", "CPU")
    assert used == "onnxruntime" and cached_onnx_path(checkpoint, network_tag(net), shape).is_file()
    expected = reference(clips)
    assert np.abs(onnx(clips) - expected).max() < 1e-4, np.abs(onnx(clips) - expected).max()
    again, _ = make_predictor(net, checkpoint, shape, "onnxruntime")  # from the cache: no second export
    np.testing.assert_array_equal(again(clips), onnx(clips))
    assert len(list((tmp_path / "cache/onnx").iterdir())) == 1


def test_auto_is_onnxruntime_on_a_cpu_target_only(monkeypatch):
    assert resolve_backend("auto", "CPU") == "onnxruntime"
    assert resolve_backend("auto", "GPU") == resolve_backend("auto", "Ascend") == "mindspore"
    assert resolve_backend("onnxruntime", "GPU") == "onnxruntime"  # asked for: ONNX Runtime's CPU provider
    import src.predictors as predictors

    monkeypatch.setattr(predictors, "onnxruntime_available", lambda: False)
    assert resolve_backend("auto", "CPU") == "mindspore"
    with pytest.raises(ModelError, match="--backend onnxruntime: onnxruntime is not installed"):
        resolve_backend("onnxruntime", "CPU")
    with pytest.raises(ModelError, match="--backend 'tensorrt': choose one of auto, mindspore, onnxruntime"):
        resolve_backend("tensorrt")


def test_a_shape_the_export_cannot_take_is_named(tmp_path, monkeypatch):
    from src.eco_lite import ECOLite
    from src.engine.checkpoint_io import save_checkpoint
    from src.predictors import make_predictor

    monkeypatch.setenv("I3D_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # MindSpore writes rank_0/om/analyze_fail.ir into the working directory
    net, checkpoint = ECOLite(3, 4), tmp_path / "eco.ckpt"
    save_checkpoint(net, checkpoint)
    with pytest.raises(ModelError, match=r"cannot export eco_lite_4 to ONNX for input shape \[1, 12, 3, 3\]: "
                                         r"For 'MaxPool'.*--backend mindspore\)$"):
        make_predictor(net, checkpoint, (1, 12, 3, 3), "onnxruntime")
    assert not list((tmp_path / "cache/onnx").iterdir())  # nothing half-written is left to be found next time
