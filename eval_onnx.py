"""Evaluate exported I3D ONNX models with onnxruntime, through the same code path as eval.py. See
docs/evaluation.md.

    python eval_onnx.py --dataset=hmdb51 --test_mode=rgb --rgb_path=i3d_rgb.onnx --video_path=... --annotation_path=...

The models' fixed input shape sets the batch size, and the clip length and crop size unless --test_sample_duration
and --spatial_size are given (then they must match it).
"""
import sys

import src.runtime  # noqa: F401  (first: caps oneDNN at AVX2 before MindSpore, which the drivers load, starts)
from config import DEFAULTS, parse_eval_onnx_args
from src.cli import fail
from src.engine.drivers import run_evaluation
from src.evaluation import EvaluationError
from src.i3d.recipe import EVAL_JOINT_LINE, ONNX_JOINT_LINE, I3DRecipe, check_fixed_input


def execution_providers(device_target, device_id):
    """CUDA (on device_id) then CPU for --device_target GPU when onnxruntime has CUDA; CPU otherwise."""
    import onnxruntime as ort

    if device_target == "GPU":
        if "CUDAExecutionProvider" in ort.get_available_providers():
            return [("CUDAExecutionProvider", {"device_id": device_id}), "CPUExecutionProvider"]
        print("note: this onnxruntime has no CUDAExecutionProvider; running on CPU", file=sys.stderr, flush=True)
    return ["CPUExecutionProvider"]


def open_sessions(args, streams):
    """{stream: onnxruntime session} of the streams' models. --test_sample_duration and --spatial_size, when not
    given, become the first model's fixed clip length and crop size (with a note)."""
    import onnxruntime as ort

    providers = execution_providers(args.device_target, args.device_id)
    sessions = {}
    for stream in streams:
        model_path = getattr(args, f"{stream}_path")
        try:
            sessions[stream] = ort.InferenceSession(model_path, providers=providers)
        except Exception as error:  # onnxruntime raises its own unexported exception types
            raise EvaluationError(f"{model_path}: cannot load the ONNX model: {error}") from None
        shape = sessions[stream].get_inputs()[0].shape
        fixed = {flag: dim for flag, dim in (("test_sample_duration", shape[2] if len(shape) == 5 else None),
                                             ("spatial_size", shape[3] if len(shape) == 5 else None))}
        for flag, dim in fixed.items():
            if getattr(args, flag) is None and isinstance(dim, int) and dim > 0:
                setattr(args, flag, dim)
                print(f"note: --{flag} not given; using {dim}, the input shape of {model_path}", file=sys.stderr,
                      flush=True)
    for flag, default in (("test_sample_duration", DEFAULTS.test_sample_duration),
                          ("spatial_size", DEFAULTS.spatial_size)):
        if getattr(args, flag) is None:
            setattr(args, flag, default)
    return sessions


def onnx_predictor(args, sessions):
    """make_predictor for run_evaluation: the stream's onnxruntime session, its input shape checked against the
    data."""
    def make_predictor(stream, model_path, source):
        session = sessions[stream]
        model_input, output = session.get_inputs()[0], session.get_outputs()[0]
        batch_size = check_fixed_input(model_input.shape, stream, args.batch_size, args.test_sample_duration,
                                       args.spatial_size, model_path)
        classes = output.shape[-1] if output.shape else None
        if isinstance(classes, int) and classes != source.num_classes:
            raise EvaluationError(f"{model_path}: the model has {classes} classes but the annotation lists "
                                  f"{source.num_classes}")
        return (lambda clips: session.run([output.name], {model_input.name: clips})[0]), batch_size

    return make_predictor


def main(argv=None):
    args = parse_eval_onnx_args(argv)
    recipe = I3DRecipe(args)
    try:
        sessions = open_sessions(args, recipe.eval_streams())
    except EvaluationError as error:
        fail(str(error))
    return run_evaluation(recipe, onnx_predictor(args, sessions), joint_lines=(EVAL_JOINT_LINE, ONNX_JOINT_LINE))


if __name__ == "__main__":
    sys.exit(main())
