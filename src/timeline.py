"""Action timelines of long videos: sliding windows scored as a stream, in memory bounded whatever the video length.

Frames are decoded one at a time from cv2.VideoCapture and prepared exactly as demo.py prepares a whole video
(src/video_inference.py: the tools' short side, the JPEG round trip, TV-L1 flow of consecutive frames for the flow
stream). Only the last window's worth of prepared frames is kept (a deque), plus at most one batch of clips waiting
for the network and, when a labelled video is written, the frames whose label is not decided yet. Windows start every
`stride` frames; where they stop short of the last frame one more window ends on it, and a stream shorter than a
window gives one looped window: the windows of src.video_inference.clip_windows, found without knowing the length in
advance. A window's clip goes through the evaluation transforms (memory_clip_loader), so the network sees what
demo.py and eval.py give it. No MindSpore here: the networks come in as `predict_batch(clips) -> logits`.
"""
import csv
import io
import json
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from src.data.atomic import atomic_output, atomic_write_text
from src.data.flow import tvl1_estimator
from src.data.temporal import segment_indices_val, temporal_window
from src.data.video_io import VideoReadError
from src.evaluation import softmax
from src.video_inference import OUT_VIDEO_CODECS, draw_label, flow_image, memory_clip_loader, prepare_frame

DEFAULT_FPS = 25.0  # when the source does not say (some cameras and streams)
STREAM_VIDEO_SUFFIXES = tuple(OUT_VIDEO_CODECS)  # written frame by frame; a GIF would hold every frame


# ------------------------------------------------------------------------------------------------------ sources

def capture_argument(source):
    """What cv2.VideoCapture takes for `source`: a camera index for a number ('0'), else the path or URL."""
    text = str(source)
    return int(text) if text.isdigit() else text


class VideoStream:
    """Frames of anything cv2.VideoCapture opens (a file, a camera index, a stream URL), decoded one at a time.

    realtime: deliver frames no faster than the source's frame rate, and skip the frames whose time has passed while
    the caller was busy, as a live camera would (counted in `dropped`); a camera or stream is live anyway.
    """

    def __init__(self, source, realtime=False):
        self.source = str(source)
        self.capture = cv2.VideoCapture(capture_argument(source))
        if not self.capture.isOpened():
            raise VideoReadError(f"{source}: cannot open (not a readable video file, camera index or stream URL)")
        fps = float(self.capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps_known = 0 < fps < 1000
        self.fps = fps if self.fps_known else DEFAULT_FPS
        count = int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.frame_count = count if count > 0 else None
        self.realtime = realtime
        self.dropped = 0

    def frames(self):
        """Yield (1-based frame number in the source, BGR frame) until the source ends."""
        interval, start, number = 1.0 / self.fps, time.monotonic(), 0
        while True:
            if self.realtime:
                due = start + number * interval
                late = time.monotonic() - due
                if late < 0:
                    time.sleep(-late)
                elif late > interval:
                    number += 1
                    self.dropped += 1
                    if not self.capture.grab():
                        return
                    continue
            ok, frame = self.capture.read()
            if not ok:
                return
            number += 1
            yield number, frame

    def close(self):
        self.capture.release()


# ------------------------------------------------------------------------------------------------------ windows

@dataclass(frozen=True)
class WindowSpec:
    """Which frames of a window the network sees. I3D (segments None): all `length` consecutive frames, looped when
    the stream is shorter; ECO-lite: the middle frame of each of `segments` equal parts of the window, as its
    evaluation samples a whole video (segment_indices_val)."""
    length: int
    segments: int = None

    def offsets(self, span):
        """0-based positions in a window that covers `span` frames (span < length only for a short stream)."""
        if self.segments is None:
            return [index - 1 for index in temporal_window(span, 1, self.length)]
        return [index - 1 for index in segment_indices_val(span, self.segments)]


class WindowPlan:
    """Window starts over a stream whose length is known only at its end (the windows of clip_windows 'all')."""

    def __init__(self, length, stride):
        if length < 1 or stride < 1:
            raise ValueError(f"window length and stride must be positive, got {length} and {stride}")
        self.length, self.stride = length, stride
        self.next_start, self.last_end = 1, 0

    def ready(self, count):
        """Starts of the windows that end within the first `count` units, not returned before."""
        starts = []
        while self.next_start + self.length - 1 <= count:
            starts.append(self.next_start)
            self.last_end = self.next_start + self.length - 1
            self.next_start += self.stride
        return starts

    def finish(self, count):
        """The closing window at the end of a stream of `count` units: one ending on the last unit where the windows
        stopped short of it, or a looped one over a stream shorter than a window; [] otherwise."""
        if count == 0 or self.last_end == count:
            return []
        self.last_end = count
        return [max(1, count - self.length + 1)]


@dataclass(frozen=True)
class Stream:
    """One network over the windows: its predict_batch, make_input (clip_maker) and which prepared image it reads
    ('rgb': the colour frame, 'flow': the flow image of frame k -> k+1)."""
    name: str
    predict: object
    make_input: object
    image: str = "rgb"


@dataclass(frozen=True)
class WindowRecord:
    """One scored window: frames start..end (1-based, inclusive) and its softmax scores over all classes (float16:
    a 1-hour video at stride 32 and 400 classes keeps about 2 MB)."""
    start: int
    end: int
    scores: np.ndarray

    @property
    def centre(self):
        return (self.start + self.end) / 2

    def top(self, k):
        order = np.argsort(-self.scores.astype(np.float32), kind="stable")[:k]
        return [(int(index), float(self.scores[index])) for index in order]


def clip_maker(transforms, layout, stack_channels=False):
    """make_input(frames) -> the network input of all `frames` ((T, H, W, C) uint8, in order) through the evaluation
    transforms: what memory_clip_loader gives for the same frames of a whole decoded video."""
    def make_input(frames):
        return memory_clip_loader(frames, transforms, layout, stack_channels=stack_channels)(
            range(1, len(frames) + 1), None)
    return make_input


def fuse_sum(logits):
    """Joint I3D: the rgb and flow logits summed (eval.py's default fusion)."""
    return sum(logits.values())


class Smoother:
    """Each window's scores averaged with its neighbours': `size` (odd) windows centred on it, fewer at the ends. A
    window is passed on once the windows after it are scored, so only `size` records are held."""

    def __init__(self, size=1):
        if size < 1 or size % 2 == 0:
            raise ValueError(f"the smoothing size must be a positive odd number, got {size}")
        self.half = size // 2
        self.recent = deque(maxlen=size)
        self.received, self.passed = 0, 0

    def push(self, records):
        """The records whose later neighbours have all arrived now."""
        out = []
        for record in records:
            self.recent.append(record)
            self.received += 1
            if self.received - self.passed > self.half:
                out.append(self._pass())
        return out

    def flush(self):
        """The last records, at the end of the stream."""
        return [self._pass() for _ in range(self.received - self.passed)]

    def _pass(self):
        """The next record to pass on, with the mean scores of its neighbours in `recent`."""
        first, index = self.received - len(self.recent), self.passed
        around = [self.recent[i - first] for i in range(max(first, index - self.half),
                                                          min(self.received, index + self.half + 1))]
        record = self.recent[index - first]
        self.passed += 1
        if len(around) == 1:
            return record
        scores = np.mean([r.scores.astype(np.float32) for r in around], axis=0).astype(np.float16)
        return WindowRecord(record.start, record.end, scores)


class Timeline:
    """Windows scored as frames arrive: feed() each prepared frame, finish() at the end; both return the records
    scored by then (smoothed over `smooth` windows, see Smoother), in window order."""

    def __init__(self, streams, spec, stride, batch_size=1, fuse=fuse_sum, smooth=1):
        self.streams, self.spec, self.batch_size, self.fuse = list(streams), spec, batch_size, fuse
        self.smoother = Smoother(smooth)
        self.flow = any(stream.image == "flow" for stream in self.streams)
        self.plan = WindowPlan(spec.length, stride)
        self.units = deque(maxlen=spec.length)  # (unit number, {image kind: uint8 array})
        self.pending = []  # (start, end, {stream name: clip}) waiting for a full batch
        self.frames = 0
        self._estimator = tvl1_estimator() if self.flow else None
        self._previous = None  # (colour, gray) of the last frame, for the flow of the next pair

    @property
    def unit_count(self):
        """Units the windows run over: frames, or flow images (frames - 1) when a stream reads flow (joint windows
        then cover the same frames in both streams)."""
        return max(0, self.frames - 1) if self.flow else self.frames

    def feed(self, colour, gray=None):
        self.frames += 1
        if not self.flow:
            self.units.append((self.frames, {"rgb": colour}))
        else:
            if self._previous is not None:
                field = self._estimator.calc(self._previous[1], gray, None)
                self.units.append((self.frames - 1, {"rgb": self._previous[0], "flow": flow_image(field)}))
            self._previous = (colour, gray)
        for start in self.plan.ready(self.unit_count):
            self._window(start, self.spec.length)
        return self.smoother.push(self._score(flush=False))

    def finish(self):
        count = self.unit_count
        if count == 0:
            raise VideoReadError("no frames to score" + (" (flow needs at least 2 frames)" if self.flow else ""))
        for start in self.plan.finish(count):
            self._window(start, min(self.spec.length, count - start + 1))
        return self.smoother.push(self._score(flush=True)) + self.smoother.flush()

    def _window(self, start, span):
        """Cut the clip of every stream for the window of `span` units from `start` while they are in the deque."""
        first = self.units[0][0]
        picked = [self.units[start - first + offset][1] for offset in self.spec.offsets(span)]
        clips = {stream.name: stream.make_input(np.stack([unit[stream.image] for unit in picked]))
                 for stream in self.streams}
        self.pending.append((start, start + span - 1, clips))

    def _score(self, flush):
        """Score the waiting windows in full batches (the last one padded when flushing); a batch leaves the queue
        only once scored, so Ctrl-C during a forward pass loses nothing finish() cannot redo."""
        records = []
        while self.pending and (flush or len(self.pending) >= self.batch_size):
            batch = self.pending[:self.batch_size]
            logits = {}
            for stream in self.streams:
                clips = [window_clips[stream.name] for _, _, window_clips in batch]
                clips += [clips[-1]] * (self.batch_size - len(clips))  # a fixed batch shape: pad, drop afterwards
                logits[stream.name] = np.asarray(stream.predict(np.stack(clips).astype(np.float32)))[:len(batch)]
            scores = softmax(self.fuse(logits)).astype(np.float16)
            records += [WindowRecord(start, end, row) for (start, end, _), row in zip(batch, scores)]
            self.pending = self.pending[len(batch):]
        return records


# ------------------------------------------------------------------------------------------------- the whole run

@dataclass
class TimelineResult:
    records: list
    frames: int
    fps: float
    wall_seconds: float
    interrupted: bool = False

    @property
    def video_seconds(self):
        return self.frames / self.fps

    @property
    def realtime_factor(self):
        """Video seconds processed per wall-clock second (> 1: faster than real time)."""
        return self.video_seconds / self.wall_seconds if self.wall_seconds > 0 else float("inf")


def run_timeline(stream, timeline, short_side, progress=False, on_records=None, on_frame=None):
    """Stream every frame of `stream` (a VideoStream) through `timeline`; Ctrl-C ends the stream early (the windows so
    far are kept and the last one is closed). on_records(records) and on_frame(number, colour) see the results as
    they come (the labelled video)."""
    records, interrupted, started = [], False, time.monotonic()
    bar = tqdm(total=stream.frame_count, unit="frame", disable=not progress, leave=False, desc="timeline")
    try:
        for _, frame in stream.frames():
            colour, gray = prepare_frame(frame, short_side, gray=timeline.flow)
            if on_frame:
                on_frame(timeline.frames + 1, colour)
            new = timeline.feed(colour, gray)
            records += new
            if new and on_records:
                on_records(new)
            bar.update()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        stream.close()
    new = timeline.finish()
    records += new
    if new and on_records:
        on_records(new)
    return TimelineResult(records, timeline.frames, stream.fps, time.monotonic() - started, interrupted)


@dataclass
class OnlineSummary:
    updates: list
    frames: int
    fps: float
    wall_seconds: float
    interrupted: bool = False
    dropped: int = 0

    @property
    def realtime_factor(self):
        """Video seconds processed per wall-clock second (frames skipped to keep up count as processed time)."""
        seconds = (self.frames + self.dropped) / self.fps
        return seconds / self.wall_seconds if self.wall_seconds > 0 else float("inf")


def run_online(stream, online, short_side, progress=False, on_update=None, on_frame=None):
    """Push every frame of `stream` through `online` (src.eco_lite.online.OnlineECO) until the stream ends or Ctrl-C;
    on_update(update) sees each prediction, on_frame(number, colour, latest update or None) each frame."""
    updates, interrupted, started = [], False, time.monotonic()
    bar = tqdm(total=stream.frame_count, unit="frame", disable=not progress, leave=False, desc="online")
    try:
        for number, frame in stream.frames():
            colour, _ = prepare_frame(frame, short_side, gray=False)
            update = online.push(number, colour)
            if update is not None:
                updates.append(update)
                if on_update:
                    on_update(update)
            if on_frame:
                on_frame(number, colour, updates[-1] if updates else None)
            bar.update()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        stream.close()
    update = online.finish()
    if update is not None:
        updates.append(update)
        if on_update:
            on_update(update)
    frames = online.last_frame - stream.dropped
    return OnlineSummary(updates, frames, stream.fps, time.monotonic() - started, interrupted, stream.dropped)


# ----------------------------------------------------------------------------------------------------- segments

@dataclass(frozen=True)
class Segment:
    """Frames start..end (1-based, inclusive) whose nearest window's top-1 is `label`; score: the mean top-1 score of
    its windows."""
    start: int
    end: int
    label: int
    score: float
    windows: int


def window_frame_ranges(records, frames):
    """(first, last) frame each window labels: every frame goes to the window whose centre is nearest (the earlier one
    on a tie), so the ranges tile 1..frames."""
    bounds = [int(np.floor((a.centre + b.centre) / 2)) for a, b in zip(records, records[1:])]
    firsts = [1] + [bound + 1 for bound in bounds]
    lasts = bounds + [frames]
    return list(zip(firsts, lasts))


def merge_segments(records, frames):
    """Runs of consecutive windows with the same top-1, as segments tiling the video."""
    segments = []
    for record, (first, last) in zip(records, window_frame_ranges(records, frames)):
        label, score = record.top(1)[0]
        if segments and segments[-1][2] == label:
            segments[-1][1] = last
            segments[-1][3].append(score)
        elif last >= first:
            segments.append([first, last, label, [score]])
    return [Segment(first, last, label, float(np.mean(scores)), len(scores)) for first, last, label, scores in segments]


def segment_iou(predicted, truth):
    """Mean over the true segments [(start, end, label)] of the best temporal IoU (in frames) with a predicted segment
    of the same label; 0 for a true segment no predicted one shares a label with."""
    ious = []
    for start, end, label in truth:
        best = 0.0
        for segment in predicted:
            if segment.label != label:
                continue
            overlap = min(end, segment.end) - max(start, segment.start) + 1
            if overlap > 0:
                union = max(end, segment.end) - min(start, segment.start) + 1
                best = max(best, overlap / union)
        ious.append(best)
    return float(np.mean(ious)) if ious else 0.0


class TruthError(Exception):
    """A file of true segments that cannot be used; the message names the file (and line)."""


def read_truth(path, names):
    """[(start frame, end frame, label)] of a CSV with the columns start_frame, end_frame, class (a class name of the
    label map), e.g. the segments of a long video made by joining clips of known classes."""
    path = Path(path)
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text())))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise TruthError(f"{path}: cannot read the true segments ({error})") from None
    labels = {name: label for label, name in enumerate(names)}
    truth = []
    for line, row in enumerate(rows, 2):
        try:
            start, end, name = int(row["start_frame"]), int(row["end_frame"]), row["class"]
        except (KeyError, TypeError, ValueError):
            raise TruthError(f"{path}:{line}: expected the columns start_frame,end_frame,class with whole frame "
                             "numbers") from None
        if name not in labels:
            raise TruthError(f"{path}:{line}: class {name!r} is not in the label map")
        if not 1 <= start <= end:
            raise TruthError(f"{path}:{line}: frames {start}..{end} are not a segment (1-based, start <= end)")
        truth.append((start, end, labels[name]))
    if not truth:
        raise TruthError(f"{path}: no segments")
    return truth


# ------------------------------------------------------------------------------------------------------ writers

def seconds(frame_number, fps):
    """Time at the start of 1-based frame `frame_number` (end of the previous one)."""
    return round((frame_number - 1) / fps, 3)


def write_csv(path, result, names, k):
    """One row per window: frames, seconds, and the top-k classes with their softmax scores."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["start_frame", "end_frame", "start_s", "end_s"] +
                    [f"{column}{rank}" for rank in range(1, k + 1) for column in ("class", "score")])
    for record in result.records:
        row = [record.start, record.end, seconds(record.start, result.fps), seconds(record.end + 1, result.fps)]
        for index, score in record.top(k):
            row += [names[index], f"{score:.4f}"]
        writer.writerow(row)
    atomic_write_text(path, buffer.getvalue())


def write_online_csv(path, summary, names, k):
    """One row per online update: its last frame and time, the memory's frames, the running prediction's top-k."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["update", "frame", "time_s", "memory_frames"] +
                    [f"{column}{rank}" for rank in range(1, k + 1) for column in ("class", "score")])
    for update in summary.updates:
        row = [update.number, update.frame, seconds(update.frame + 1, summary.fps), " ".join(map(str, update.memory))]
        probabilities = softmax(update.average)
        for index in np.argsort(-probabilities, kind="stable")[:k]:
            row += [names[index], f"{probabilities[index]:.4f}"]
        writer.writerow(row)
    atomic_write_text(path, buffer.getvalue())


def timeline_json(result, names, k, info):
    """The whole timeline as one JSON-able dict: `info` (model, source, options), windows with their top-k, segments,
    frame count, fps and the real-time factor."""
    segments = merge_segments(result.records, result.frames) if result.records else []
    return {
        **info, "frames": result.frames, "fps": result.fps, "video_seconds": round(result.video_seconds, 3),
        "wall_seconds": round(result.wall_seconds, 3), "realtime_factor": round(result.realtime_factor, 3),
        "interrupted": result.interrupted, "classes": len(names),
        "windows": [{"start_frame": r.start, "end_frame": r.end, "start_s": seconds(r.start, result.fps),
                     "end_s": seconds(r.end + 1, result.fps),
                     "top": [{"class": names[i], "score": round(s, 4)} for i, s in r.top(k)]}
                    for r in result.records],
        "segments": [{"start_frame": s.start, "end_frame": s.end, "start_s": seconds(s.start, result.fps),
                      "end_s": seconds(s.end + 1, result.fps), "class": names[s.label], "score": round(s.score, 4),
                      "windows": s.windows} for s in segments],
    }


def write_json(path, result, names, k, info):
    atomic_write_text(path, json.dumps(timeline_json(result, names, k, info), indent=1) + "\n")


class VideoFile:
    """A video written frame by frame (OpenCV; GIF would hold every frame), each frame with a text drawn on it; a
    context manager: built under a temporary name, moved into place when the block ends without an error."""

    def __init__(self, path, fps):
        self.path, self.fps = Path(path), fps
        suffix = self.path.suffix.lower()
        if suffix not in STREAM_VIDEO_SUFFIXES:
            raise ValueError(f"{path}: a streamed video must end in one of {', '.join(STREAM_VIDEO_SUFFIXES)}")
        self._codec = OUT_VIDEO_CODECS[suffix]
        self._output, self._temporary, self._writer = atomic_output(self.path), None, None

    def __enter__(self):
        self._temporary = self._output.__enter__()
        return self

    def __exit__(self, kind, error, traceback):
        try:
            if kind is None:
                self.flush()
        finally:
            if self._writer is not None:
                self._writer.release()
        return self._output.__exit__(kind, error, traceback)

    def flush(self):
        """Write what is still held back (nothing here)."""

    def write(self, colour, text):
        if self._writer is None:
            height, width = colour.shape[:2]
            self._writer = cv2.VideoWriter(str(self._temporary), cv2.VideoWriter_fourcc(*self._codec), self.fps,
                                           (width, height))
            if not self._writer.isOpened():
                raise OSError(f"{self.path}: OpenCV cannot write {self._codec} {self.path.suffix} files here")
        self._writer.write(draw_label(colour, text) if text else colour)


class LabelledVideo(VideoFile):
    """The timeline's frames, each with the top-1 of its nearest window (as the segments label frames).

    A frame waits until the window whose centre follows it is scored: about half a window plus one batch of frames.
    """

    def __init__(self, path, fps, names):
        super().__init__(path, fps)
        self.names = names
        self.waiting = deque()  # (frame number, colour)
        self._scored = []  # the last two scored windows: the candidates for a waiting frame

    def add_frame(self, number, colour):
        self.waiting.append((number, colour))

    def add_records(self, records):
        for record in records:
            self._scored = (self._scored + [record])[-2:]
            while self.waiting and self.waiting[0][0] <= record.centre:
                self._write_waiting()

    def flush(self):
        while self.waiting and self._scored:  # the last frames: labelled by the last window
            self._write_waiting()

    def _write_waiting(self):
        number, colour = self.waiting.popleft()
        record = min(self._scored, key=lambda r: (abs(r.centre - number), r.centre))
        index, score = record.top(1)[0]
        self.write(colour, f"{self.names[index]} {score:.2f}")
