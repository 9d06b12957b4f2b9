"""The ONNX Runtime backend (src/predictors.py): the cached export gives MindSpore's logits within 1e-4."""
import numpy as np
import pytest

pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("model", ["eco_lite", "i3d_rgb"])
def test_onnxruntime_matches_mindspore_and_is_cached(model, tmp_path, monkeypatch):
    import mindspore as ms

    from src.eco_lite import ECOLite
    from src.engine.checkpoint_io import save_checkpoint
    from src.i3d import InceptionI3D
    from src.predictors import cached_onnx_path, load_eco, load_i3d, make_predictor

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
    reference, used = make_predictor(net, checkpoint, model, shape, "mindspore")
    assert used == "mindspore"
    onnx, used = make_predictor(net, checkpoint, model, shape, "auto")
    assert used == "onnxruntime" and cached_onnx_path(checkpoint, model, shape).is_file()
    expected = reference(clips)
    assert np.abs(onnx(clips) - expected).max() < 1e-4, np.abs(onnx(clips) - expected).max()
    again, _ = make_predictor(net, checkpoint, model, shape, "onnxruntime")  # from the cache: no second export
    np.testing.assert_array_equal(again(clips), onnx(clips))
    assert len(list((tmp_path / "cache/onnx").iterdir())) == 1
