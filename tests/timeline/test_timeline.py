"""The streamed timeline (src/timeline.py): the windows and clips are demo.py's, segments find known boundaries,
memory does not grow with the video, the outputs are written atomically. Networks are stand-ins reading colour, so
these run in seconds; tests/timeline/test_trained.py runs a trained checkpoint."""
import csv
import json
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from src.data.eco_dataset import eco_transforms
from src.data.i3d_dataset import i3d_transforms
from src.data.temporal import segment_indices_val
from src.timeline import (LabelledVideo, Segment, Smoother, Stream, Timeline, TimelineResult, TruthError,
                          VideoStream, WindowPlan, WindowRecord, WindowSpec, clip_maker, merge_segments, read_truth,
                          run_timeline, segment_iou, window_frame_ranges, write_csv, write_json)
from src.timeline_plot import plot_timeline
from src.video_inference import clip_windows, decode_video, flow_images, memory_clip_loader
from tests.timeline.conftest import colour_logits_eco, colour_logits_i3d, write_colour_video

I3D_LAYOUT, ECO_LAYOUT = (3, 0, 1, 2), (0, 3, 1, 2)
NAMES = ["red", "green", "blue"]


def recording(logits):
    """predict_batch that keeps every batch it is given."""
    seen = []

    def predict(clips):
        seen.append(clips.copy())
        return logits(clips)
    predict.seen = seen
    return predict


def run(path, streams, spec, stride, short_side=0, batch_size=1, **kwargs):
    return run_timeline(VideoStream(path), Timeline(streams, spec, stride, batch_size), short_side, **kwargs)


@pytest.mark.parametrize("length,stride", [(1, 1), (4, 2), (8, 3), (8, 8), (5, 7)])
def test_streamed_windows_are_clip_windows(length, stride):
    for frames in range(1, 30):
        plan = WindowPlan(length, stride)
        starts = [start for count in range(1, frames + 1) for start in plan.ready(count)] + plan.finish(frames)
        expected = [window[0] for window in clip_windows(frames, length, "all", stride)]
        assert starts == expected, (frames, length, stride)


def test_i3d_and_eco_windows_see_what_demo_gives_the_network(sample_clips, tmp_path):
    """Every window's clip equals the demo's clip of the same frames of the whole decoded video (rgb, flow, ECO)."""
    video = sample_clips["videos"] / "MoveUp/v_MoveUp_g01_c01.avi"
    frames, gray, _ = decode_video(video, 32)
    rgb_t, flow_t = i3d_transforms("rgb", False, 32), i3d_transforms("flow", False, 32)
    rgb, flow = recording(colour_logits_i3d), recording(lambda clips: clips.mean(axis=(2, 3, 4))[:, :1].repeat(3, 1))
    streams = [Stream("rgb", rgb, clip_maker(rgb_t, I3D_LAYOUT)), Stream("flow", flow, clip_maker(flow_t, I3D_LAYOUT),
                                                                        image="flow")]
    result = run(video, streams, WindowSpec(8), stride=3, short_side=32, batch_size=2)
    windows = clip_windows(len(frames) - 1, 8, "all", 3)  # joint windows run over the flow images
    assert [(r.start, r.end) for r in result.records] == [(w[0], w[-1]) for w in windows]
    flow_images_all = flow_images(gray, 1, len(frames) - 1)
    for batch_index, window in enumerate(windows):
        batch, row = divmod(batch_index, 2)
        np.testing.assert_array_equal(rgb.seen[batch][row], memory_clip_loader(frames, rgb_t, I3D_LAYOUT)(window, None))
        np.testing.assert_array_equal(flow.seen[batch][row],
                                      memory_clip_loader(flow_images_all, flow_t, I3D_LAYOUT)(window, None))

    eco = recording(colour_logits_eco)
    make_input = clip_maker(eco_transforms(False, 32), ECO_LAYOUT, stack_channels=True)
    result = run(video, [Stream("eco_lite", eco, make_input)], WindowSpec(10, segments=4), stride=5, short_side=32)
    offline = memory_clip_loader(frames, eco_transforms(False, 32), ECO_LAYOUT, stack_channels=True)
    for record, (clip,) in zip(result.records, eco.seen):
        indices = [record.start - 1 + index for index in segment_indices_val(record.end - record.start + 1, 4)]
        np.testing.assert_array_equal(clip, offline(indices, None))
    whole = run(video, [Stream("eco_lite", eco, make_input)], WindowSpec(64, segments=4), stride=5, short_side=32)
    assert [(r.start, r.end) for r in whole.records] == [(1, 16)]  # shorter than a window: ECO's evaluation clip
    np.testing.assert_array_equal(eco.seen[-1][0], offline(segment_indices_val(16, 4), None))


def test_segments_find_known_boundaries_and_outputs_are_complete(tmp_path):
    segments = [(0, 60), (2, 45), (1, 80), (0, 30)]
    truth = write_colour_video(tmp_path / "long.avi", segments)
    spec, make_input = WindowSpec(8), clip_maker(i3d_transforms("rgb", False, 32), I3D_LAYOUT)
    with LabelledVideo(tmp_path / "labelled.mp4", 25.0, NAMES) as video:
        result = run(tmp_path / "long.avi", [Stream("rgb", colour_logits_i3d, make_input)], spec, stride=4,
                     short_side=32, batch_size=3, on_records=video.add_records, on_frame=video.add_frame)
    predicted = merge_segments(result.records, result.frames)
    assert [segment.label for segment in predicted] == [0, 2, 1, 0]
    assert segment_iou(predicted, truth) >= 0.95
    for segment, (start, end, _) in zip(predicted, truth):
        assert abs(segment.start - start) <= 2 and abs(segment.end - end) <= 2
    assert result.frames == 215 and not result.interrupted and result.realtime_factor > 0
    assert VideoStream(tmp_path / "labelled.mp4").frame_count == 215

    write_csv(tmp_path / "t.csv", result, NAMES, 2)
    write_json(tmp_path / "t.json", result, NAMES, 2, {"model": "colour"})
    plot_timeline(result, NAMES, tmp_path / "t.png", truth=truth)
    rows = list(csv.DictReader(open(tmp_path / "t.csv")))
    assert len(rows) == len(result.records) and rows[0]["class1"] == "red" and rows[0]["start_s"] == "0.0"
    document = json.loads((tmp_path / "t.json").read_text())
    assert [s["class"] for s in document["segments"]] == ["red", "blue", "green", "red"]
    assert document["frames"] == 215 and len(document["windows"][0]["top"]) == 2
    assert Image.open(tmp_path / "t.png").size[0] > 1000
    assert sorted(path.name for path in tmp_path.iterdir()) == ["labelled.mp4", "long.avi", "t.csv", "t.json",
                                                                "t.png"]  # no temporary files left


def test_failed_and_interrupted_outputs_leave_no_partial_file(tmp_path):
    result = TimelineResult([WindowRecord(1, 8, np.array([1, 0, 0], np.float16))], 8, 25.0, 1.0)
    blocked = tmp_path / "file"
    blocked.write_text("a file where a folder is needed")
    with pytest.raises(OSError):
        write_csv(blocked / "t.csv", result, NAMES, 1)
    with pytest.raises(KeyError), LabelledVideo(tmp_path / "v.mp4", 25.0, NAMES) as video:
        video.add_frame(1, np.zeros((32, 32, 3), np.uint8))
        video.add_records(result.records)
        raise KeyError("stopped")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file"]


def test_ctrl_c_keeps_the_timeline_so_far(tmp_path):
    write_colour_video(tmp_path / "v.avi", [(0, 40), (1, 40)])
    calls = []

    def predict(clips):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return colour_logits_i3d(clips)

    stream = Stream("rgb", predict, clip_maker(i3d_transforms("rgb", False, 32), I3D_LAYOUT))
    result = run(tmp_path / "v.avi", [stream], WindowSpec(8), stride=4, short_side=32)
    assert result.interrupted and 0 < result.frames < 80
    assert result.records[-1].end == result.frames  # the last window is closed on the last frame read
    assert [(r.start, r.end) for r in result.records] == [(w[0], w[-1]) for w in clip_windows(result.frames, 8,
                                                                                                "all", 4)]


def test_frame_ranges_tile_the_video_and_iou():
    records = [WindowRecord(start, start + 7, np.array([1, 0], np.float16)) for start in (1, 5, 9, 13)]
    ranges = window_frame_ranges(records, 21)
    assert ranges[0][0] == 1 and ranges[-1][1] == 21
    assert all(b[0] == a[1] + 1 for a, b in zip(ranges, ranges[1:]))
    predicted = [Segment(1, 10, 0, 1.0, 2), Segment(11, 20, 1, 1.0, 2)]
    assert segment_iou(predicted, [(1, 10, 0), (11, 20, 1)]) == 1.0
    assert segment_iou(predicted, [(1, 20, 0)]) == 0.5
    assert segment_iou(predicted, [(1, 20, 2)]) == 0.0


def test_memory_stays_flat_on_a_ten_times_longer_video(tmp_path):
    """Peak traced memory of the whole streamed run (decoding, windows, scoring, labelled video) on 150 and 1500
    frames of 160x120: the longer video adds only its window records, not its 80 MB of frames."""
    make_input = clip_maker(i3d_transforms("rgb", False, 32), I3D_LAYOUT)
    peaks = {}
    for scale in (1, 10):
        path = tmp_path / f"v{scale}.avi"
        write_colour_video(path, [(0, 50 * scale), (1, 50 * scale), (2, 50 * scale)], width=160, height=120)
        tracemalloc.start()
        with LabelledVideo(tmp_path / f"out{scale}.avi", 25.0, NAMES) as video:
            result = run(path, [Stream("rgb", colour_logits_i3d, make_input)], WindowSpec(16), stride=8,
                         short_side=0, batch_size=2, on_records=video.add_records, on_frame=video.add_frame)
        peaks[scale] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert result.frames == 150 * scale
    print(f"peak traced memory: 1x {peaks[1] / 2 ** 20:.2f} MiB, 10x {peaks[10] / 2 ** 20:.2f} MiB")
    frame_bytes = 160 * 120 * 3
    assert peaks[10] - peaks[1] < 50 * frame_bytes, peaks  # holding the extra frames would add 1350 of them
    assert peaks[10] < 1.5 * peaks[1], peaks


def test_truth_file(tmp_path):
    path = tmp_path / "truth.csv"
    path.write_text("start_frame,end_frame,class\n1,60,red\n61,90,blue\n")
    assert read_truth(path, NAMES) == [(1, 60, 0), (61, 90, 2)]
    for text, message in (("start_frame,end_frame,class\n1,60,purple\n", f"{path}:2: class 'purple' is not in"),
                          ("start,end\n1,2\n", f"{path}:2: expected the columns start_frame,end_frame,class"),
                          ("start_frame,end_frame,class\n9,3,red\n", f"{path}:2: frames 9..3 are not a segment"),
                          ("start_frame,end_frame,class\n", f"{path}: no segments")):
        path.write_text(text)
        with pytest.raises(TruthError, match=message.replace(".", r"\.")):
            read_truth(path, NAMES)


@pytest.mark.parametrize("size", [1, 3, 5])
def test_smoothing_is_a_centred_moving_average_whatever_the_chunks(size):
    rng = np.random.default_rng(size)
    scores = rng.random((23, 4)).astype(np.float16)
    records = [WindowRecord(4 * i + 1, 4 * i + 8, row) for i, row in enumerate(scores)]
    smoother, out, position = Smoother(size), [], 0
    while position < len(records):
        chunk = int(rng.integers(0, 4))
        out += smoother.push(records[position:position + chunk])
        assert len(smoother.recent) <= size
        position += chunk
    out += smoother.flush()
    half = size // 2
    expected = [scores[max(0, i - half):i + half + 1].astype(np.float32).mean(axis=0) for i in range(len(scores))]
    assert [(r.start, r.end) for r in out] == [(r.start, r.end) for r in records]
    np.testing.assert_allclose([r.scores for r in out], expected, atol=1e-3)
    with pytest.raises(ValueError):
        Smoother(2)
