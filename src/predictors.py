"""Networks loaded from checkpoints for inference on a CPU (demo.py, timeline.py, feature extraction, eval.py), and
the backend that runs them.

The class count comes from the checkpoint's head, so any trained checkpoint loads without options. A loaded network
becomes `predict_batch(float32 batch) -> output` through MindSpore, or through ONNX Runtime: the network is exported
once (src.engine.exporting.export_network) to a file cached under the content hash of the checkpoint and of the
network's code, and the input shape, so a later run starts at once and a changed network is exported again. ONNX
Runtime on CPU runs both networks 1.25-2x as fast as MindSpore (docs/benchmarks.md), and is what `auto` picks on a CPU
target when it is installed.
"""
import hashlib
import importlib.util
import sys
from pathlib import Path

import numpy as np

from src.cli import BACKENDS
from src.i3d.pretrained import KINETICS400, cache_dir, converted_kinetics400_checkpoint

ONNX_CACHE = "onnx"
SRC_ROOT = Path(__file__).resolve().parent
# The code an exported graph is made from: an edit to any of these makes the cached exports stale.
NETWORK_SOURCES = ("i3d/network.py", "eco_lite/network.py", "layers.py", "ops/*.py")


class ModelError(Exception):
    """A checkpoint, backend or input shape that cannot do what was asked; the message names the file, flag or shape."""


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


def resolve_backend(name, device_target="CPU"):
    """'auto' -> onnxruntime on a CPU target when it is installed, else mindspore (on GPU or Ascend MindSpore uses the
    device); an explicit onnxruntime must be installed, and runs on the CPU whatever the target."""
    if name not in BACKENDS:
        raise ModelError(f"--backend {name!r}: choose one of {', '.join(BACKENDS)}")
    if name == "auto":
        return "onnxruntime" if device_target == "CPU" and onnxruntime_available() else "mindspore"
    if name == "onnxruntime" and not onnxruntime_available():
        raise ModelError("--backend onnxruntime: onnxruntime is not installed in this environment "
                         "(pip install onnxruntime, or use --backend mindspore)")
    return name


def network_tag(net):
    """A network's build as a cache-file prefix: 'i3d_rgb', 'i3d_flow_Mixed_5c' (truncated), 'eco_lite_4'."""
    if hasattr(net, "final_endpoint"):
        return f"i3d_{net.mode}" + ("" if net.has_logits else f"_{net.final_endpoint}")
    return f"eco_lite_{net.num_segments}"


def _digest(paths):
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def cached_onnx_path(checkpoint, tag, input_shape):
    """Where the ONNX export of `checkpoint` (built as `tag`, e.g. 'i3d_rgb') for `input_shape` is kept; the name holds
    the digest of the checkpoint and of NETWORK_SOURCES."""
    sources = sorted(path for pattern in NETWORK_SOURCES for path in SRC_ROOT.glob(pattern))
    shape = "x".join(str(dim) for dim in input_shape)
    return cache_dir() / ONNX_CACHE / f"{tag}_{_digest([checkpoint, *sources])}_{shape}.onnx"


def _first_line(error):
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def export_onnx(net, input_shape, target):
    """Export `net` (inference mode) for the fixed `input_shape` to `target`, atomically; needs GRAPH mode. A shape
    the network or the exporter cannot take is a ModelError naming it."""
    import mindspore as ms

    from src.data.atomic import describe_os_error
    from src.engine.exporting import ExportError, export_network

    previous = ms.get_context("mode")
    ms.set_context(mode=ms.GRAPH_MODE)
    try:
        net.set_train(False)
        export_network(net, ms.Tensor(np.zeros(input_shape, np.float32)), target, "ONNX")
    except (ValueError, TypeError, RuntimeError) as error:
        raise ModelError(f"cannot export {network_tag(net)} to ONNX for input shape {list(input_shape)}: "
                         f"{_first_line(error)} (another clip length or crop size, or --backend mindspore)") from None
    except ExportError as error:
        raise ModelError(str(error)) from None
    except OSError as error:
        raise ModelError(f"cannot write the ONNX cache: {describe_os_error(error)}") from None
    finally:
        ms.set_context(mode=previous)


def onnxruntime_predictor(model_path):
    """predict(batch) -> output of an ONNX model on ONNX Runtime's CPU execution provider."""
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own unexported exception types
        raise ModelError(f"{model_path}: ONNX Runtime cannot load the exported model: {_first_line(error)} "
                         "(use --backend mindspore)") from None
    model_input, output = session.get_inputs()[0], session.get_outputs()[0]

    def predict(batch):
        return session.run([output.name], {model_input.name: np.ascontiguousarray(batch, dtype=np.float32)})[0]
    return predict


def make_predictor(net, checkpoint, input_shape, backend, device_target="CPU"):
    """(predict_batch for batches of exactly `input_shape`, the backend used: 'mindspore' or 'onnxruntime').

    `backend` is resolved by resolve_backend; ONNX Runtime runs the export of `net` (loaded from `checkpoint`) cached
    by cached_onnx_path, made now if missing.
    """
    backend = resolve_backend(backend, device_target)
    if backend == "mindspore":
        from src.engine.predictor import mindspore_predictor

        return mindspore_predictor(net), backend
    target = cached_onnx_path(checkpoint, network_tag(net), input_shape)
    if not target.is_file():
        print(f"onnx: exporting {network_tag(net)} {list(input_shape)} once to {target}", file=sys.stderr, flush=True)
        export_onnx(net, input_shape, target)
    return onnxruntime_predictor(target), backend
