"""Metrics of per-video scores: pure functions of numpy arrays."""
import numpy as np


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


