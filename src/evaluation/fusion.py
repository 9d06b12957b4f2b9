"""Two-stream fusion, paired by video key (never by position), and per-video score files that can be fused again
offline (`python -m src.evaluation RGB.npz FLOW.npz`)."""
import warnings
from pathlib import Path

import numpy as np

from src.data.atomic import atomic_output
from src.evaluation.metrics import softmax
from src.evaluation.scoring import EvalResult, EvaluationError

FUSIONS = ("sum", "weighted", "softmax_avg")
SCORE_ARRAYS = ("keys", "labels", "scores", "class_names")


def fuse(rgb_scores, flow_scores, how="sum", weights=(1.0, 1.0)):
    """Combine the two streams' per-video scores.

    'sum': logit sum (the original's rule); 'weighted': w_rgb * rgb + w_flow * flow logits; 'softmax_avg': the mean of
    the two softmaxes (insensitive to the streams' logit scales).
    """
    rgb_scores, flow_scores = np.asarray(rgb_scores), np.asarray(flow_scores)
    if rgb_scores.shape != flow_scores.shape:
        raise EvaluationError(f"cannot fuse rgb scores {rgb_scores.shape} with flow scores {flow_scores.shape}")
    if how == "sum":
        return rgb_scores + flow_scores
    if how == "weighted":
        return np.float32(weights[0]) * rgb_scores + np.float32(weights[1]) * flow_scores
    if how == "softmax_avg":
        return ((softmax(rgb_scores) + softmax(flow_scores)) / 2).astype(np.float32)
    raise ValueError(f"fusion must be one of {FUSIONS}, got {how!r}")


def _listing(keys, limit=5):
    keys = list(keys)
    return ", ".join(keys[:limit]) + (f", ... ({len(keys) - limit} more)" if len(keys) > limit else "")


def pair_by_key(rgb_keys, flow_keys, skip_missing=False):
    """(rgb positions, flow positions) of the videos both streams have, in rgb order.

    A key in only one stream is an error naming the keys, or with skip_missing a warning, and the video is left out.
    """
    rgb_keys, flow_keys = list(rgb_keys), list(flow_keys)
    for name, keys in (("rgb", rgb_keys), ("flow", flow_keys)):
        if len(set(keys)) != len(keys):
            duplicates = sorted({key for key in keys if keys.count(key) > 1})
            raise EvaluationError(f"the {name} stream lists videos more than once: {_listing(duplicates)}")
    flow_position = {key: position for position, key in enumerate(flow_keys)}
    only_rgb = [key for key in rgb_keys if key not in flow_position]
    only_flow = sorted(set(flow_keys) - set(rgb_keys))
    if only_rgb or only_flow:
        problem = "; ".join(f"{len(keys)} video(s) only in the {name} stream: {_listing(keys)}"
                            for name, keys in (("rgb", only_rgb), ("flow", only_flow)) if keys)
        if not skip_missing:
            raise EvaluationError(f"the rgb and flow streams do not list the same videos: {problem} (check the "
                                  "annotation files and frame folders, or pass --skip_missing to fuse the videos "
                                  "both have)")
        warnings.warn(f"joint evaluation leaves out unpaired videos: {problem}", stacklevel=2)
    pairs = [(position, flow_position[key]) for position, key in enumerate(rgb_keys) if key in flow_position]
    if not pairs:
        raise EvaluationError("the rgb and flow streams have no video in common")
    rgb_positions, flow_positions = zip(*pairs)
    return np.array(rgb_positions), np.array(flow_positions)


def evaluate_joint(rgb_result, flow_result, how="sum", weights=(1.0, 1.0), skip_missing=False):
    """The fused result over the videos both streams scored; their labels must agree."""
    rgb_positions, flow_positions = pair_by_key(rgb_result.keys, flow_result.keys, skip_missing)
    labels = rgb_result.labels[rgb_positions]
    differ = np.flatnonzero(labels != flow_result.labels[flow_positions])
    if len(differ):
        keys = [f"{rgb_result.keys[rgb_positions[i]]} (rgb {labels[i]}, flow "
                f"{flow_result.labels[flow_positions[i]]})" for i in differ]
        raise EvaluationError(f"the rgb and flow annotations label {len(keys)} video(s) differently: {_listing(keys)}")
    fused = fuse(rgb_result.scores[rgb_positions], flow_result.scores[flow_positions], how, weights)
    return EvalResult.from_scores([rgb_result.keys[i] for i in rgb_positions], labels, fused)


def save_scores(path, result, class_names):
    """Write keys, labels, scores and class_names to an .npz, atomically."""
    with atomic_output(path) as temporary:
        with open(temporary, "wb") as handle:
            np.savez(handle, keys=np.array(result.keys, dtype=str), labels=result.labels, scores=result.scores,
                     class_names=np.array(class_names, dtype=str))


def load_scores(path):
    """(EvalResult, class_names) from a file written by save_scores."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise EvaluationError(f"{path}: cannot read scores ({error})") from None
    if not isinstance(data, np.lib.npyio.NpzFile) or not set(SCORE_ARRAYS) <= set(data.files):
        raise EvaluationError(f"{path}: not a scores file written by eval.py --scores_path (it needs the arrays "
                              f"{', '.join(SCORE_ARRAYS)})")
    with data:
        keys, labels, scores = data["keys"].tolist(), data["labels"], data["scores"]
        class_names = data["class_names"].tolist()
    if scores.ndim != 2 or scores.shape[1] != len(class_names):
        raise EvaluationError(f"{path}: scores of shape {scores.shape} do not match {len(class_names)} class names")
    return EvalResult.from_scores(keys, labels, scores), class_names


def scores_paths(path, streams):
    """Where --scores_path puts each result: the path itself for one stream; <stem>_<rgb|flow|joint><suffix>
    beside it in joint mode."""
    path = Path(path)
    if len(streams) == 1:
        return {streams[0]: path}
    suffix = path.suffix or ".npz"
    return {name: path.with_name(f"{path.stem}_{name}{suffix}") for name in streams}


def fuse_saved_scores(rgb_npz, flow_npz, how="sum", weights=(1.0, 1.0), skip_missing=False):
    """Fuse two saved score files without the models; prints the same accuracy lines as eval.py."""
    rgb, rgb_classes = load_scores(rgb_npz)
    flow, flow_classes = load_scores(flow_npz)
    if rgb_classes != flow_classes:
        raise EvaluationError(f"{rgb_npz} and {flow_npz} have different class lists")
    joint = evaluate_joint(rgb, flow, how, weights, skip_missing)
    for name, result in (("rgb", rgb), ("flow", flow), ("joint", joint)):
        print("\n".join(result.lines(name)), flush=True)
    return joint


