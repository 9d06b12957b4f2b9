"""Evaluation reports: per-class accuracy as CSV and the confusion matrix as a figure."""
import csv
import io
from pathlib import Path

from src.data.atomic import atomic_write_text
from src.evaluation.metrics import confusion_matrix
from src.evaluation.scoring import EvaluationError


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


