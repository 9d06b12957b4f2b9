"""Scoring a source with any backend: every item once (the last batch padded), clip and crop scores averaged per
video.

`predict_batch` turns a float32 batch into logits (N, num_classes); it is the only backend-specific part (a MindSpore
network, an onnxruntime session, ...).
"""
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from src.data.annotations import AnnotationError
from src.data.frames import FrameFolderError
from src.data.pipeline import iterate_batches
from src.data.video_io import VideoReadError
from src.evaluation.metrics import mean_class_accuracy, top_k_accuracy


class EvaluationError(Exception):
    """Evaluation cannot give a meaningful number (unpaired streams, a model that does not fit the data, ...)."""


# Errors an entry point reports as one line and exit status 1 rather than a traceback.
EVAL_ERRORS = (EvaluationError, AnnotationError, FrameFolderError, VideoReadError)


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
        """The printed metric lines; `<name> accuracy: X` is the original's, which the multi-checkpoint script greps."""
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


