"""Data-pipeline speed: training clips/s from JPEG frame folders, ours vs the seeds' way (bench/seed_loader.py).

    .venv/bin/python bench/loader.py [--size tiny|seed]

Writes a small frame dataset (rendered sample-dataset videos at the size's short side, JPEG quality 95 as the data
tools write them; the flow images are Farneback flow of those frames, 8-bit encoded as the data tools encode TV-L1,
which would take minutes at this size), then times, with 1 and 2 workers: I3D rgb and flow training clips (the
size's clip length and crop) and ECO-lite training segments (each segment count of the size), our pipeline
(epoch_batches, as train.py uses it) against the seed-style one and against our clips through MindSpore's
GeneratorDataset (the pipeline before this benchmark). Each figure is the median of TRIALS runs, each loader in
a fresh process. "decode only" is the time cv2 needs just to decode the frames a clip reads, one worker: the
ceiling of any JPEG loader on one core. Batches of 1; the first
clip of each run is not timed.
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import src.runtime  # noqa: E402,F401  (first: oneDNN AVX2 cap before MindSpore loads)
from bench.common import SIZES, emit, rate, run_child  # noqa: E402

WORKERS = (1, 2)
MIN_SECONDS = 2.0
TRIALS = 3


def write_frames(root, videos, frames, short_side, items):
    """I3D rgb/flow folders + annotation JSON and ECO frame folders + list file, for `items` videos of which the
    first `videos` are written and the rest are links to them (so an epoch is long enough to time without the
    pipeline's restart between epochs, yet the frames are few enough to write quickly)."""
    import cv2
    import numpy as np

    from src.data.flow import quantize_flow
    from src.data.video_io import write_jpeg
    from src.tools.make_sample_dataset import MOTIONS, SHAPES, TINTS, render_video

    width = short_side * 4 // 3
    database, eco_lines = {}, []
    for number in range(items):
        key = f"v_{number:03d}"
        rgb, flow, eco = root / "rgb/c0" / key, root / "flow/c0" / key, root / "eco" / key
        if number >= videos:
            original = f"v_{number % videos:03d}"
            for folder in (rgb, flow, eco):
                folder.symlink_to(folder.parent / original, target_is_directory=True)
        else:
            rendered = render_video(MOTIONS[number % len(MOTIONS)], np.random.default_rng(number), frames + 1, width,
                                    short_side, SHAPES[number % len(SHAPES)], TINTS[number % len(TINTS)])
            for folder in (rgb, flow, eco):
                folder.mkdir(parents=True)
            for index, (frame, following) in enumerate(zip(rendered, rendered[1:]), start=1):
                write_jpeg(rgb / f"image_{index:05d}.jpg", frame)
                (eco / f"img_{index:06d}.jpg").hardlink_to(rgb / f"image_{index:05d}.jpg")
                motion = quantize_flow(cv2.calcOpticalFlowFarneback(
                    cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.cvtColor(following, cv2.COLOR_BGR2GRAY), None,
                    0.5, 3, 15, 3, 5, 1.2, 0))
                write_jpeg(flow / f"image_{index:05d}x.jpg", motion[..., 0])
                write_jpeg(flow / f"image_{index:05d}y.jpg", motion[..., 1])
            for folder in (rgb, flow):
                (folder / "n_frames").write_text(f"{frames}\n")
        database[key] = {"subset": "training", "annotations": {"label": "c0", "segment": [1, frames]}}
        eco_lines.append(f"{eco} {frames} 0")
    annotation = root / "annotation.json"
    annotation.write_text(json.dumps({"labels": ["c0"], "database": database}))
    eco_list = root / "eco_train.txt"
    eco_list.write_text("\n".join(eco_lines) + "\n")
    return {"rgb": root / "rgb", "flow": root / "flow", "annotation": annotation, "eco_list": eco_list}


class FirstItems:
    """The first `count` items of a source: an epoch that a run consumes to its end, so that no pipeline is left
    loading in the background while the next one is timed."""

    def __init__(self, source, count):
        self.source, self.count = source, count
        self.column_names = getattr(source, "column_names", None)

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        return self.source[index]

    def get_item(self, index, epoch):
        return self.source.get_item(index, epoch)


def clips_per_second(batches):
    """Clips/s over a whole epoch, after its first clip (the workers' start-up)."""
    started, seen = None, 0
    for seen, _ in enumerate(batches):
        if seen == 0:
            started = time.perf_counter()
    return rate(seen, time.perf_counter() - started)


def generator_batches(source, num_workers):
    """Our clips through MindSpore's GeneratorDataset with thread workers: the training pipeline before this
    benchmark (kept here as the "before" of that change)."""
    import mindspore.dataset as ds

    dataset = ds.GeneratorDataset(source, column_names=list(source.column_names), shuffle=True,
                                  num_parallel_workers=num_workers, python_multiprocessing=False)
    return dataset.batch(1).create_tuple_iterator(num_epochs=1, output_numpy=True)


def our_source(pipeline, data, size):
    from src.data.eco_dataset import ECOSegmentDataset
    from src.data.i3d_dataset import I3DClipDataset

    if pipeline.startswith("eco"):
        return ECOSegmentDataset(data["eco_list"], int(pipeline.split("_")[1]), train=True, input_size=size["eco_crop"])
    mode = pipeline.split("_")[1]
    return I3DClipDataset(data[mode], data["annotation"], "training", mode, size["frames"], train=True,
                          spatial_size=size["crop"])


def seed_source(pipeline, data, size):
    from bench.seed_loader import SeedECOSegments, SeedI3DClips

    folders = sorted(p for p in (data["rgb"] / "c0").iterdir())
    count = int((folders[0] / "n_frames").read_text())
    if pipeline.startswith("eco"):
        videos = [([data["eco_list"].parent / "eco" / f.name / f"img_{i:06d}.jpg" for i in range(1, count + 1)], 0)
                  for f in folders]
        return SeedECOSegments(videos, int(pipeline.split("_")[1]), size["eco_crop"])
    if pipeline == "i3d_rgb":
        videos = [([f / f"image_{i:05d}.jpg" for i in range(1, count + 1)], 0) for f in folders]
        return SeedI3DClips(videos, size["frames"], size["crop"])
    videos = [([(data["flow"] / "c0" / f.name / f"image_{i:05d}x.jpg", data["flow"] / "c0" / f.name /
                 f"image_{i:05d}y.jpg") for i in range(1, count + 1)], 0) for f in folders]
    return SeedI3DClips(videos, size["frames"], size["crop"], flow=True)


def decode_only(source, count):
    """Clips/s of decoding (cv2, one thread) the distinct frames that the clips of our source read."""
    import cv2
    import numpy as np

    started = time.perf_counter()
    for item in range(count):
        index = item % len(source)
        rng = np.random.default_rng([0, 0, index])
        folder = source.videos[index].path
        for frame in np.unique(source.frame_indices(index, rng)):
            for template in source.templates:
                cv2.imread(str(folder / template.format(int(frame))),
                           cv2.IMREAD_GRAYSCALE if source.grayscale else cv2.IMREAD_COLOR)
    return rate(count, time.perf_counter() - started)


def count_for(pipeline, size):
    """Enough clips for a steady reading: about MIN_SECONDS at the expected speed."""
    frames = size["frames"] if pipeline.startswith("i3d") else int(pipeline.split("_")[1])
    return max(8, int(MIN_SECONDS * 2000 / max(frames, 1) / (1 + size["frame_short_side"] / 100)))


def pipelines(size):
    return ["i3d_rgb", "i3d_flow"] + [f"eco_{segments}" for segments in size["segments"]]


LOADERS = ("seed", "ours", "ours_generator")


def data_paths(root):
    root = Path(root)
    return {"rgb": root / "rgb", "flow": root / "flow", "annotation": root / "annotation.json",
            "eco_list": root / "eco_train.txt"}


def child_rates(data_root, size_name, pipeline, loader, workers, count, trials):
    """Clips/s of `trials` epochs of one loader, in this (fresh) process."""
    from bench.seed_loader import seed_dataset
    from src.data.pipeline import epoch_batches

    size, data = SIZES[size_name], data_paths(data_root)
    make_source = seed_source if loader == "seed" else our_source
    source = FirstItems(make_source(pipeline, data, size), count + 1)

    def batches():
        if loader == "seed":
            return seed_dataset(source, workers).create_tuple_iterator(num_epochs=1, output_numpy=True)
        if loader == "ours_generator":
            return generator_batches(source, workers)
        return epoch_batches(source, 1, shuffle=True, num_workers=workers)

    return [clips_per_second(batches()) for _ in range(trials)]


def measure(size_name, scratch, workers=WORKERS):
    """Each loader runs in its own process: a MindSpore pipeline's worker processes may outlive its iterator and
    would slow down whatever is timed next."""
    import numpy as np

    size = SIZES[size_name]
    counts = {pipeline: count_for(pipeline, size) for pipeline in pipelines(size)}
    data = write_frames(Path(scratch), size["loader_videos"], size["loader_frames"], size["frame_short_side"],
                        max(counts.values()) + 1)
    rows = []
    for pipeline, count in counts.items():
        ours = our_source(pipeline, data, size)
        row = {"pipeline": pipeline, "clips": count,
               "decode_only_1w": max(decode_only(ours, count) for _ in range(TRIALS))}
        for n in workers:
            for loader in LOADERS:
                result = run_child("loader.py", ["--child", "--data", scratch, "--size", size_name, "--pipeline",
                                                 pipeline, "--loader", loader, "--workers", n, "--count", count])
                if "error" in result:
                    raise SystemExit(f"loader {loader} ({pipeline}, {n} workers): {result['error']}")
                row[f"{loader}_{n}w"] = float(np.median(result["rates"]))
            row[f"speedup_{n}w"] = round(row[f"ours_{n}w"] / row[f"seed_{n}w"], 2)
        rows.append(row)
    return {"size": size_name, "frame_short_side": size["frame_short_side"], "videos": size["loader_videos"],
            "frames_per_video": size["loader_frames"], "workers": list(workers), "results": rows}


def markdown(result, consumption=None):
    """Table lines; `consumption` maps a pipeline to the model's training clips/s at the same size."""
    consumption = consumption or {}
    lines = ["| pipeline | workers | decode only (1 worker) | seed-style | ours, GeneratorDataset (before) | "
             "ours, epoch_batches (after) | after / seed-style | after / before | model trains (clips/s) | "
             "loader / model |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in result["results"]:
        model = consumption.get(row["pipeline"])
        for n in result["workers"]:
            ours = row[f"ours_{n}w"]
            cells = [row["pipeline"], str(n), f"{row['decode_only_1w']:.1f}", f"{row[f'seed_{n}w']:.1f}",
                     f"{row[f'ours_generator_{n}w']:.1f}", f"{ours:.1f}", f"{row[f'speedup_{n}w']:.2f}x",
                     f"{ours / row[f'ours_generator_{n}w']:.2f}x", f"{model:.3f}" if model else "-",
                     f"{ours / model:,.0f}x" if model else "-"]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--pipeline", help=argparse.SUPPRESS)
    parser.add_argument("--loader", choices=LOADERS, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        emit({"rates": child_rates(args.data, args.size, args.pipeline, args.loader, args.workers, args.count,
                                   TRIALS)})
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        result = measure(args.size, scratch)
    print("\n".join(markdown(result)), file=sys.stderr)
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
