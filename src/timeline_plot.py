"""The timeline picture: time on x, one band per class with the softmax score as intensity, and a top-1 strip.

Readable for hour-long videos: the windows are binned into at most MAX_COLUMNS columns, a band shows the highest score
its class reaches in a column (so a short action stays visible), and with many classes only those that are ever top-1
get a band (the rest would be empty rows). matplotlib's object API as in src/plots.py, written atomically.
"""
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from src.plots import save_figure
from src.timeline import window_frame_ranges

MAX_COLUMNS = 2000
MAX_BANDS = 20
NAME_CHARS = 28
OTHER_COLOUR = (0.75, 0.75, 0.75, 1.0)


def clock(seconds, _=None):
    """Axis label: m:ss, or h:mm:ss from an hour on."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def time_formatter(duration):
    """Seconds with decimals for a clip under a minute (whole-second clock labels would repeat), else clock()."""
    return FuncFormatter(lambda value, _: f"{value:g} s") if duration < 60 else FuncFormatter(clock)


def column_scores(records, frames, columns):
    """(columns, classes) float32: per column of equal time, the highest score of the windows that label its frames
    (window_frame_ranges), and each column's top-1 (argmax of those windows' mean scores)."""
    scores = np.stack([record.scores for record in records]).astype(np.float32)
    starts = np.array([first for first, _ in window_frame_ranges(records, frames)])
    edges = np.linspace(1, frames + 1, columns + 1)
    peak = np.empty((columns, scores.shape[1]), np.float32)
    top1 = np.empty(columns, np.int64)
    for column in range(columns):
        first = np.searchsorted(starts, int(edges[column]), side="right") - 1
        last = max(first, np.searchsorted(starts, int(np.ceil(edges[column + 1])) - 1, side="right") - 1)
        covering = scores[first:last + 1]
        peak[column] = covering.max(axis=0)
        top1[column] = covering.mean(axis=0).argmax()
    return peak, top1


def shown_classes(records, top1, num_classes):
    """Class indices with a band: all of them for a few classes, else those ever top-1 (of a window or column),
    the most frequent first, at most MAX_BANDS, in order of first appearance."""
    if num_classes <= MAX_BANDS:
        return list(range(num_classes))
    winners = [record.top(1)[0][0] for record in records] + [int(label) for label in top1]
    counts = np.bincount(winners, minlength=num_classes)
    kept = {int(label) for label in np.argsort(-counts, kind="stable")[:MAX_BANDS] if counts[label] > 0}
    return [label for label in dict.fromkeys(winners) if label in kept]


def plot_timeline(result, names, path, title="", truth=None):
    """Write the timeline of a TimelineResult as PNG; `truth` [(start frame, end frame, label)] adds a strip of the
    known segments under the predicted top-1 (the tests and the docs' sample video)."""
    columns = min(MAX_COLUMNS, result.frames)
    peak, top1 = column_scores(result.records, result.frames, columns)
    shown = shown_classes(result.records, top1, len(names))
    duration = result.frames / result.fps
    colours = _class_colours(len(shown))
    position = {label: slot for slot, label in enumerate(shown)}

    strips = [("top-1", top1)]
    if truth:
        truth_columns = np.full(columns, -1, np.int64)
        frame_of_column = np.linspace(1, result.frames + 1, columns + 1)[:-1] + 0.5 * result.frames / columns
        for start, end, label in truth:
            truth_columns[(frame_of_column >= start) & (frame_of_column < end + 1)] = label
        strips.append(("truth", truth_columns))
    height = 1.3 + 0.26 * len(shown) + 0.3 * len(strips)
    figure = Figure(figsize=(14, height), layout="constrained")
    bands, strip_axes = figure.subplots(2, 1, sharex=True, height_ratios=[len(shown), 1.1 * len(strips)])

    image = bands.imshow(peak[:, shown].T, aspect="auto", cmap="magma", vmin=0, vmax=1, interpolation="nearest",
                         extent=(0, duration, len(shown) - 0.5, -0.5))
    bands.set_yticks(range(len(shown)), [_short(names[label]) for label in shown], fontsize=8)
    bands.tick_params(axis="x", labelbottom=False)
    figure.suptitle(title or "timeline", fontsize=10, x=0.01, ha="left")
    figure.colorbar(image, ax=bands, label="softmax score", pad=0.01, fraction=0.03)

    slots = np.array([[position.get(int(label), len(shown)) if label >= 0 else len(shown) + 1 for label in row]
                      for _, row in strips])
    strip_map = ListedColormap(colours + [OTHER_COLOUR, (1, 1, 1, 1)])
    strip_axes.imshow(slots, aspect="auto", cmap=strip_map, vmin=-0.5, vmax=len(shown) + 1.5,
                      interpolation="nearest", extent=(0, duration, len(strips) - 0.5, -0.5))
    strip_axes.set_yticks(range(len(strips)), [name for name, _ in strips], fontsize=8)
    strip_axes.xaxis.set_major_formatter(time_formatter(duration))
    strip_axes.xaxis.set_major_locator(MaxNLocator(nbins=12, steps=[1, 2, 3, 5, 6, 10]))
    strip_axes.set_xlabel(f"time ({result.frames} frames at {result.fps:g} fps; {len(result.records)} windows"
                          + (f" in {columns} columns" if columns < len(result.records) else "") + ")")
    handles = [Patch(color=colours[slot], label=_short(names[label])) for slot, label in enumerate(shown)]
    if len(shown) < len(names):
        handles.append(Patch(color=OTHER_COLOUR, label="other class"))
    longest = max(len(handle.get_label()) for handle in handles)
    figure.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), max(1, int(12 / (0.4 + 0.07 * longest)))),
                  fontsize=8, frameon=False)
    return save_figure(figure, path)


def _short(name):
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"


def _class_colours(count):
    """Distinct colours for the shown classes (tab10, then tab20's lighter ones)."""
    from matplotlib import colormaps

    base = list(colormaps["tab10"].colors) + list(colormaps["tab20"].colors[1::2])
    return [tuple(base[slot % len(base)]) + (1.0,) for slot in range(count)]
