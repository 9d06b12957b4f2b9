"""PNG figures: training curves and confusion matrices. The only module that imports matplotlib.

Figures are drawn with matplotlib's object API (no pyplot, so no GUI backend and no global state) and written under a
temporary name, then renamed. src.evaluation imports this module only when a report is asked for.
"""
import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from src.data.atomic import atomic_output

MAX_ANNOTATED_CLASSES = 30  # cells show their counts up to this many classes
MAX_LABELLED_CLASSES = 60  # axes name the classes up to this many


def save_figure(figure, path):
    """Write `figure` as PNG to `path` atomically."""
    with atomic_output(path) as temporary:
        figure.savefig(temporary, format="png", dpi=100, bbox_inches="tight")
    return Path(path)


# ----------------------------------------------------------------------------------------------- training curves

def read_train_log(path):
    """The epoch records of a train_log.jsonl, one per epoch in epoch order.

    A resumed run may log an epoch twice (it reran the epochs after its last checkpoint); the later record wins.
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise ValueError(f"{path}: cannot read the training log ({error.strerror})") from None
    records = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise ValueError(f"{path}:{number}: not a JSON line (expected train.py's train_log.jsonl)") from None
        if not isinstance(record, dict) or "epoch" not in record:
            raise ValueError(f"{path}:{number}: a record without 'epoch' (expected train.py's train_log.jsonl)")
        records[record["epoch"]] = record
    if not records:
        raise ValueError(f"{path}: no epochs logged yet")
    return [records[epoch] for epoch in sorted(records)]


def plot_training_curves(records, path, title=""):
    """Loss, learning rate (log scale) and validation top-1 (with top-5 and mean class accuracy where logged)
    against epoch, one panel each; epochs without an evaluation leave gaps."""
    epochs = [record["epoch"] for record in records]

    def series(key):
        return [record.get(key, np.nan) for record in records]

    figure = Figure(figsize=(12, 3.6))
    loss_axes, lr_axes, accuracy_axes = figure.subplots(1, 3)
    loss_axes.plot(epochs, series("loss"), marker=".", label="mean loss")
    loss_axes.set(title="training loss", xlabel="epoch", ylabel="loss")
    lr_axes.plot(epochs, series("lr"), marker=".", color="tab:orange")
    lr_axes.set(title="learning rate", xlabel="epoch", ylabel="lr")
    if all(value > 0 for value in series("lr")):
        lr_axes.set_yscale("log")
    for key, label in (("val_top1", "top-1"), ("val_top5", "top-5"), ("val_mean_class", "mean class")):
        values = np.array(series(key), dtype=float)
        if np.isfinite(values).any():
            mask = np.isfinite(values)
            accuracy_axes.plot(np.array(epochs)[mask], values[mask], marker=".", label=label)
    accuracy_axes.set(title="validation accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    if accuracy_axes.lines:
        accuracy_axes.legend(loc="lower right")
    else:
        accuracy_axes.text(0.5, 0.5, "not evaluated", ha="center", va="center", transform=accuracy_axes.transAxes)
    for axes in (loss_axes, lr_axes, accuracy_axes):
        axes.grid(alpha=0.3)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return save_figure(figure, path)


# ---------------------------------------------------------------------------------------------- confusion matrix

def plot_confusion_matrix(matrix, class_names, path, title=""):
    """Rows (true class) normalised to recall for the colours; counts written in the cells for small class counts."""
    matrix = np.asarray(matrix)
    count = len(class_names)
    support = matrix.sum(axis=1, keepdims=True)
    recall = np.divide(matrix, support, out=np.zeros(matrix.shape), where=support > 0)
    side = min(24, max(5, 0.35 * count + 2))
    figure = Figure(figsize=(side + 1.5, side))
    axes = figure.subplots()
    image = axes.imshow(recall, cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="fraction of the true class")
    axes.set(xlabel="predicted class", ylabel="true class", title=title or "confusion matrix")
    if count <= MAX_LABELLED_CLASSES:
        axes.set_xticks(range(count), class_names, rotation=90)
        axes.set_yticks(range(count), class_names)
    if count <= MAX_ANNOTATED_CLASSES:
        for row in range(count):
            for column in range(count):
                if matrix[row, column]:
                    axes.text(column, row, str(matrix[row, column]), ha="center", va="center", fontsize=8,
                              color="white" if recall[row, column] > 0.5 else "black")
    figure.tight_layout()
    return save_figure(figure, path)
