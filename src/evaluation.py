"""Scoring, metrics, clip/crop averaging and two-stream fusion: the one evaluation code path.

eval.py (MindSpore checkpoints), eval_onnx.py (onnxruntime) and the training loop's per-epoch evaluation all
score through `evaluate_stream` / `evaluate_joint`; they differ only in the `predict_batch` function that turns
a float32 batch (N, C, T, H, W) into logits (N, num_classes). Every item is scored (the last batch is padded to the
full batch size, so fixed-batch backends work, spec I-23), clip and crop scores are averaged per video, and the two
streams of joint evaluation are paired by video key, never by position (spec I-20).

Nothing here imports MindSpore (nor matplotlib, which --report_dir's figures load when asked for). Per-video scores
can be saved and fused again offline:
    python -m src.evaluation RGB_SCORES.npz FLOW_SCORES.npz [--fusion sum|weighted|softmax_avg] [--fusion_weights 1,1]
"""
import argparse
import csv
import io
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from src.data.annotations import AnnotationError
from src.data.atomic import atomic_write_text
from src.data.frames import FrameFolderError
from src.data.i3d_dataset import I3DClipDataset
from src.data.multicrop import ThreeCropSource
from src.data.pipeline import iterate_batches
from src.data.video_io import VideoReadError

FUSIONS = ("sum", "weighted", "softmax_avg")
STREAM_CHANNELS = {"rgb": 3, "flow": 2}
SCORE_ARRAYS = ("keys", "labels", "scores", "class_names")
# The seed's final joint lines (typos included: scripts and habits grep them).
EVAL_JOINT_LINE = "accuracy of use rgb targerts: {joint:.4f}    accuracy of use flow targerts: {joint:.4f}"
ONNX_JOINT_LINE = "accuracy of rgb: {rgb:.4f}    accuracy of flow: {flow:.4f} accuracy of joint: {joint:.4f}"


class EvaluationError(Exception):
    """Evaluation cannot give a meaningful number (unpaired streams, a model that does not fit the data, ...)."""


# Errors an entry point reports as one line and exit status 1 rather than a traceback.
EVAL_ERRORS = (EvaluationError, AnnotationError, FrameFolderError, VideoReadError)


# ------------------------------------------------------------------------------------------------------ metrics

def softmax(scores, axis=-1):
    """Numerically stable softmax."""
    scores = np.asarray(scores, dtype=np.float64)
    shifted = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def top_k_accuracy(scores, labels, k):
    """Fraction of rows whose label is among the k highest scores (ties: the lower class index ranks first, as
    argmax); k >= num_classes gives 1."""
    scores, labels = np.asarray(scores), np.asarray(labels)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=1)))


def cross_entropy(scores, labels):
    """Mean over rows of the softmax cross-entropy of the logits `scores` with integer `labels`, in float64."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=np.int64)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    return float(np.mean(log_norm - shifted[np.arange(len(labels)), labels]))


def confusion_matrix(predictions, labels, num_classes):
    """(num_classes, num_classes) counts: row = true label, column = prediction."""
    predictions, labels = np.asarray(predictions, dtype=np.int64), np.asarray(labels, dtype=np.int64)
    return np.bincount(labels * num_classes + predictions, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)


def mean_class_accuracy(scores, labels):
    """Mean over the classes present in `labels` of each class's top-1 recall, so small classes count as much as
    large ones."""
    scores, labels = np.asarray(scores), np.asarray(labels)
    matrix = confusion_matrix(scores.argmax(axis=1), labels, scores.shape[1])
    support = matrix.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(matrix)[present] / support[present]))


# ------------------------------------------------------------------------------------------------------ scoring

def predict_logits(predict_batch, source, batch_size, num_workers=2, progress=False):
    """Scores (len(source), num_classes) of every item, in order.

    The last batch is padded to batch_size by repeating its last item and the padded rows are dropped, so every
    item is scored exactly once and predict_batch always sees the same shape (ONNX/MINDIR graphs have a fixed batch;
    a MindSpore graph is compiled once).
    """
    num_items = len(source)
    if num_items == 0:
        raise EvaluationError("nothing to evaluate: the source has no items")
    outputs = []
    with tqdm(total=num_items, unit="clip", disable=not progress, leave=False) as bar:
        for clips, _, _ in iterate_batches(source, range(num_items), batch_size, num_workers):
            count = len(clips)
            if count < batch_size:
                clips = np.concatenate([clips, np.repeat(clips[-1:], batch_size - count, axis=0)])
            logits = np.asarray(predict_batch(np.ascontiguousarray(clips, dtype=np.float32)))
            if logits.ndim != 2 or logits.shape[0] != batch_size:
                raise EvaluationError(f"the model returned scores of shape {logits.shape} for a batch of "
                                      f"{batch_size}; expected ({batch_size}, num_classes)")
            outputs.append(logits[:count])
            bar.update(count)
    return np.concatenate(outputs).astype(np.float32, copy=False)


def video_scores(item_scores, video_index, num_videos):
    """(num_videos, num_classes): the mean of the scores of each video's items (its clips and crops)."""
    item_scores, video_index = np.asarray(item_scores, dtype=np.float64), np.asarray(video_index, dtype=np.int64)
    counts = np.bincount(video_index, minlength=num_videos)
    if len(counts) > num_videos or not counts.all():
        raise EvaluationError(f"video_index must give every one of the {num_videos} videos at least one item")
    sums = np.zeros((num_videos, item_scores.shape[1]))
    np.add.at(sums, video_index, item_scores)
    return (sums / counts[:, None]).astype(np.float32)


@dataclass(frozen=True, eq=False)
class EvalResult:
    """Per-video scores of one stream (or of the fusion of two) and their metrics."""
    keys: tuple
    labels: np.ndarray
    scores: np.ndarray
    top1: float
    top5: float
    mean_class_accuracy: float

    @classmethod
    def from_scores(cls, keys, labels, scores):
        labels, scores = np.asarray(labels, dtype=np.int64), np.asarray(scores)
        if scores.ndim != 2 or not len(keys) == len(labels) == len(scores):
            raise EvaluationError(f"{len(keys)} keys, {len(labels)} labels and scores of shape {scores.shape} "
                                  "do not describe the same videos")
        return cls(tuple(keys), labels, scores, top_k_accuracy(scores, labels, 1), top_k_accuracy(scores, labels, 5),
                   mean_class_accuracy(scores, labels))

    @property
    def predictions(self):
        return self.scores.argmax(axis=1)

    def lines(self, name):
        """The printed metric lines; `<name> accuracy: X` is the seed's, which the multi-checkpoint script greps."""
        return [f"{name} accuracy: {self.top1:.4f}",
                f"{name} top5 accuracy: {self.top5:.4f}",
                f"{name} mean class accuracy: {self.mean_class_accuracy:.4f}"]


def evaluate_stream(predict_batch, source, batch_size, num_workers=2, progress=False):
    """Score every item of `source`, average per video (source.video_index; one item per video without it)."""
    item_scores = predict_logits(predict_batch, source, batch_size, num_workers, progress)
    video_index = np.asarray(getattr(source, "video_index", range(len(source))), dtype=np.int64)
    videos, first_item = np.unique(video_index, return_index=True)
    if not np.array_equal(videos, np.arange(len(videos))):
        raise EvaluationError("the source's video_index must number its videos 0, 1, ... without gaps")
    keys = [source.video_keys[item] for item in first_item]
    labels = [int(source.labels[item]) for item in first_item]
    return EvalResult.from_scores(keys, labels, video_scores(item_scores, video_index, len(videos)))


# ------------------------------------------------------------------------------------------------------- fusion

def fuse(rgb_scores, flow_scores, how="sum", weights=(1.0, 1.0)):
    """Combine the two streams' per-video scores.

    'sum': logit sum (the seed's rule); 'weighted': w_rgb * rgb + w_flow * flow logits; 'softmax_avg': the mean of
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


# ------------------------------------------------------------------------------------------------- saved scores

def save_scores(path, result, class_names):
    """Write keys, labels, scores and class_names to an .npz, atomically (temporary name, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, keys=np.array(result.keys, dtype=str), labels=result.labels, scores=result.scores,
                     class_names=np.array(class_names, dtype=str))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


# ------------------------------------------------------------------------------------------------------ reports

def per_class_accuracy_csv(result, class_names):
    """CSV text: one row per class with its index, name, validation videos, correct top-1 predictions and top-1
    accuracy (empty for a class without videos)."""
    matrix = confusion_matrix(result.predictions, result.labels, len(class_names))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["class_index", "class_name", "videos", "correct", "top1_accuracy"])
    for index, name in enumerate(class_names):
        videos, correct = int(matrix[index].sum()), int(matrix[index, index])
        writer.writerow([index, name, videos, correct, f"{correct / videos:.4f}" if videos else ""])
    return text.getvalue()


def write_report(report_dir, name, result, class_names):
    """<report_dir>/<name>_confusion_matrix.png and <name>_per_class_accuracy.csv; returns their paths."""
    from src.plots import plot_confusion_matrix  # matplotlib only when a report is asked for

    if result.scores.shape[1] != len(class_names):
        raise EvaluationError(f"{result.scores.shape[1]} scores per video but {len(class_names)} class names")
    report_dir = Path(report_dir)
    table = report_dir / f"{name}_per_class_accuracy.csv"
    atomic_write_text(table, per_class_accuracy_csv(result, class_names))
    figure = plot_confusion_matrix(confusion_matrix(result.predictions, result.labels, len(class_names)), class_names,
                                   report_dir / f"{name}_confusion_matrix.png",
                                   f"{name}: top-1 {result.top1:.4f}, mean class accuracy "
                                   f"{result.mean_class_accuracy:.4f} ({len(result.keys)} videos)")
    return figure, table


# ------------------------------------------------------------------------------------------------- entry points

def build_eval_source(video_root, annotation_path, mode, sample_duration, spatial_size, num_clips=1, num_crops=1,
                      seed=0, skip_missing=False):
    """The validation clips of one stream: num_clips windows per video, each at 1 (centre) or 3 crops."""
    source = I3DClipDataset(video_root, annotation_path, "validation", mode, sample_duration, train=False,
                            spatial_size=spatial_size, seed=seed, num_clips=num_clips, skip_missing=skip_missing)
    if num_crops == 3:
        return ThreeCropSource(source, spatial_size)
    if num_crops != 1:
        raise ValueError(f"num_crops must be 1 or 3, got {num_crops}")
    return source


def check_fixed_input(shape, stream, batch_size, sample_duration, spatial_size, model_path):
    """The batch size to feed a model with a fixed input shape (N, C, T, H, W); dimensions given as names or
    None are free.

    A fixed batch different from --batch_size is adopted with a note (padding makes results independent of it);
    channels, clip length or crop size that disagree with the stream or the options are errors, since they would
    change what is evaluated.
    """
    if len(shape) != 5:
        raise EvaluationError(f"{model_path}: input shape {shape} is not (N, C, T, H, W)")
    batch, channels, frames, height, width = [dim if isinstance(dim, int) and dim > 0 else None for dim in shape]
    if channels is not None and channels != STREAM_CHANNELS[stream]:
        raise EvaluationError(f"{model_path}: the model takes {channels}-channel input {list(shape)}, but {stream} "
                              f"clips have {STREAM_CHANNELS[stream]} channels (a model of the other stream?)")
    for have, flag, want, export_flag in ((frames, "test_sample_duration", sample_duration, "sample_duration"),
                                          (height, "spatial_size", spatial_size, "spatial_size"),
                                          (width, "spatial_size", spatial_size, "spatial_size")):
        if have is not None and have != want:
            raise EvaluationError(f"{model_path}: the model takes input {list(shape)} (N, C, T, H, W), which does "
                                  f"not fit --{flag}={want}; pass --{flag}={have}, or export the model again with "
                                  f"--{export_flag}={want}")
    if batch is not None and batch != batch_size:
        print(f"note: {model_path} has a fixed batch of {batch}; using --batch_size={batch} instead of {batch_size}",
              file=sys.stderr, flush=True)
        return batch
    return batch_size


def _stream_data(args, stream):
    """(frame root, annotation) of a stream; joint mode reads flow from the *_joint_flow options."""
    if args.test_mode == "joint" and stream == "flow":
        return args.video_path_joint_flow, args.annotation_path_joint_flow
    return args.video_path, args.annotation_path


def _clips_per_video(args):
    """--num_clips, or the seed's --num_val_samples when only that is given (its clips are now averaged)."""
    if args.num_val_samples > 1 and args.num_clips == 1:
        print(f"note: --num_val_samples={args.num_val_samples}: scoring that many clips per video and averaging "
              "them (as --num_clips)", file=sys.stderr, flush=True)
        return args.num_val_samples
    return args.num_clips


def run_evaluation(args, make_predictor, joint_lines=(EVAL_JOINT_LINE,)):
    """Build each stream's validation source, score it with make_predictor's model, fuse in joint mode, print the
    seed's lines, save the scores (--scores_path) and the per-stream report (--report_dir: confusion matrix PNG,
    per-class accuracy CSV). Returns {'rgb'|'flow'|'joint': EvalResult}.

    make_predictor(stream, model_path, num_classes) -> (predict_batch, batch_size) is the only backend-specific
    part (a MindSpore checkpoint in eval.py, an onnxruntime session in eval_onnx.py).
    """
    start = time.time()
    progress = args.progress and sys.stderr.isatty()
    streams = ("rgb", "flow") if args.test_mode == "joint" else (args.test_mode,)
    num_clips = _clips_per_video(args)
    results, class_names = {}, {}
    for stream in streams:
        video_root, annotation_path = _stream_data(args, stream)
        source = build_eval_source(video_root, annotation_path, stream, args.test_sample_duration, args.spatial_size,
                                   num_clips, args.num_crops, args.seed, args.skip_missing)
        num_videos = len(set(source.video_index))
        print(f"Found {num_videos} validation examples", flush=True)
        if len(source) != num_videos:
            print(f"{stream}: {num_clips} clip(s) x {args.num_crops} crop(s) per video, {len(source)} items, "
                  "scores averaged per video", flush=True)
        model_path = getattr(args, f"{stream}_path")
        print(f"checkpoint: {model_path}", flush=True)
        predict_batch, batch_size = make_predictor(stream, model_path, source.num_classes)
        results[stream] = evaluate_stream(predict_batch, source, batch_size, args.num_workers, progress)
        class_names[stream] = source.class_names
        print("\n".join(results[stream].lines(stream)), flush=True)
    if args.test_mode == "joint":
        if class_names["rgb"] != class_names["flow"]:
            raise EvaluationError(f"{args.annotation_path} and {args.annotation_path_joint_flow} list different "
                                  "classes (or a different class order)")
        class_names["joint"] = class_names["rgb"]
        joint = evaluate_joint(results["rgb"], results["flow"], args.fusion, args.fusion_weights, args.skip_missing)
        results["joint"] = joint
        print(f"joint fusion: {args.fusion}" + (f" {args.fusion_weights}" if args.fusion == "weighted" else "")
              + f" over {len(joint.keys)} videos", flush=True)
        print("\n".join(joint.lines("joint")), flush=True)
        values = {"rgb": results["rgb"].top1, "flow": results["flow"].top1, "joint": joint.top1}
        for line in joint_lines:
            print(line.format(**values), flush=True)
    if args.scores_path:
        for name, path in scores_paths(args.scores_path, tuple(results)).items():
            save_scores(path, results[name], class_names[name])
            print(f"{name} scores saved to {path}", flush=True)
    if args.report_dir:
        for name, result in results.items():
            figure, table = write_report(args.report_dir, name, result, class_names[name])
            print(f"{name} report: {figure}, {table}", flush=True)
    print(f"total_time: {time.time() - start:.1f} s", flush=True)
    return results


def main(argv=None):
    """Fuse two saved score files offline (see the module docstring)."""
    from config import parse_fusion_weights

    parser = argparse.ArgumentParser(prog="python -m src.evaluation", description="Fuse the per-video scores that "
                                     "eval.py --scores_path saved for rgb and flow, without the models.")
    parser.add_argument("rgb_scores")
    parser.add_argument("flow_scores")
    parser.add_argument("--fusion", choices=FUSIONS, default="sum")
    parser.add_argument("--fusion_weights", type=parse_fusion_weights, default=(1.0, 1.0), metavar="RGB,FLOW")
    parser.add_argument("--skip_missing", action="store_true", help="fuse only the videos both files have")
    args = parser.parse_args(argv)
    try:
        fuse_saved_scores(args.rgb_scores, args.flow_scores, args.fusion, args.fusion_weights, args.skip_missing)
    except EvaluationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
