"""Networks loaded from checkpoints for raw-video inference (demo.py, timeline.py), and the backend that runs them.

The class count comes from the checkpoint's head, so any trained checkpoint loads without options. A loaded network
becomes `predict_batch(float32 batch) -> logits` through MindSpore, or through ONNX Runtime: the network is exported
once (src.engine.drivers.export_network) to a file cached under the checkpoint's content hash and the input shape, so a
later run starts at once. ONNX Runtime on CPU runs both networks about twice as fast as MindSpore
(docs/benchmarks.md), and is what `auto` picks when it is installed.
"""
import hashlib
import importlib.util
import sys
from pathlib import Path

import numpy as np

from src.i3d.pretrained import KINETICS400, cache_dir, converted_kinetics400_checkpoint

BACKENDS = ("auto", "mindspore", "onnxruntime")
ONNX_CACHE = "onnx"


class ModelError(Exception):
    """A checkpoint that does not fit what was asked of it; the message names the file."""


# ---------------------------------------------------------------------------------------------------- networks

def load_i3d(path, mode, num_classes=None):
    """(InceptionI3D built for the checkpoint's head and loaded from it, the checkpoint file); `path` may be
    'kinetics400' (DeepMind's weights, converted once)."""
    from src.i3d import InceptionI3D
    from src.i3d.checkpoint import load_mapped_checkpoint, map_checkpoint, read_checkpoint

    if path == KINETICS400:
        path = converted_kinetics400_checkpoint()
    mapped = map_checkpoint(read_checkpoint(path), str(path))
    if num_classes and mapped.num_classes != num_classes:
        raise ModelError(f"{path} has a {mapped.num_classes}-class head, not --num_classes {num_classes}")
    net = InceptionI3D(mapped.num_classes, mode)
    load_mapped_checkpoint(net, mapped)
    return net, Path(path)


def load_eco(path, num_segments, num_classes=None):
    """(ECOLite built for the checkpoint's new_fc and loaded from it, the checkpoint file)."""
    from src.eco_lite import ECOLite, load_eco_parameters
    from src.engine.checkpoint_io import read_mindspore_checkpoint

    entries = read_mindspore_checkpoint(path)
    if "new_fc.weight" not in entries:
        raise ModelError(f"{path} has no new_fc.weight: not an ECO-lite checkpoint")
    classes = int(entries["new_fc.weight"].shape[0])
    if num_classes and classes != num_classes:
        raise ModelError(f"{path} has a {classes}-class head, not --num_classes {num_classes}")
    net = ECOLite(classes, num_segments)
    load_eco_parameters(net, entries, str(path), allow_new_head=False)
    return net, Path(path)


# ----------------------------------------------------------------------------------------------------- backends

def onnxruntime_available():
    return importlib.util.find_spec("onnxruntime") is not None


def resolve_backend(name):
    """'auto' -> onnxruntime when it is installed, else mindspore; an explicit onnxruntime must be installed."""
    if name == "auto":
        return "onnxruntime" if onnxruntime_available() else "mindspore"
    if name == "onnxruntime" and not onnxruntime_available():
        raise ModelError("--backend onnxruntime: onnxruntime is not installed in this environment "
                         "(pip install onnxruntime, or use --backend mindspore)")
    return name


def _file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def cached_onnx_path(checkpoint, tag, input_shape):
    """Where the ONNX export of `checkpoint` (built as `tag`, e.g. 'i3d_rgb') for `input_shape` is kept."""
    shape = "x".join(str(dim) for dim in input_shape)
    return cache_dir() / ONNX_CACHE / f"{tag}_{_file_digest(checkpoint)}_{shape}.onnx"


def export_onnx(net, input_shape, target):
    """Export `net` (inference mode) for the fixed `input_shape` to `target`, atomically; needs GRAPH mode."""
    import mindspore as ms

    from src.engine.drivers import export_network

    previous = ms.get_context("mode")
    ms.set_context(mode=ms.GRAPH_MODE)
    try:
        net.set_train(False)
        export_network(net, ms.Tensor(np.zeros(input_shape, np.float32)), target, "ONNX")
    finally:
        ms.set_context(mode=previous)


def onnxruntime_predictor(model_path):
    """predict(batch) -> logits of an ONNX model on ONNX Runtime's CPU execution provider."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    model_input, output = session.get_inputs()[0], session.get_outputs()[0]

    def predict(batch):
        return session.run([output.name], {model_input.name: np.ascontiguousarray(batch, dtype=np.float32)})[0]
    return predict


def make_predictor(net, checkpoint, tag, input_shape, backend):
    """(predict_batch for batches of exactly `input_shape`, the backend used: 'mindspore' or 'onnxruntime').

    ONNX Runtime runs the export of `checkpoint` cached by cached_onnx_path, made now if missing.
    """
    backend = resolve_backend(backend)
    if backend == "mindspore":
        from src.engine.predictor import mindspore_predictor

        return mindspore_predictor(net), backend
    target = cached_onnx_path(checkpoint, tag, input_shape)
    if not target.is_file():
        print(f"onnx: exporting {tag} {list(input_shape)} once to {target}", file=sys.stderr, flush=True)
        export_onnx(net, input_shape, target)
    return onnxruntime_predictor(target), backend
