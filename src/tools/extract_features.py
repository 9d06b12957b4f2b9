"""I3D Mixed_5c features (1024-d, averaged over space and time) of every clip of a list of videos, one .npy each.

    python -m src.tools.extract_features --mode rgb --out_dir FEATURES --list LIST    # Kinetics-400 weights
    python -m src.tools.extract_features --mode rgb --checkpoint_path RGB.ckpt --out_dir FEATURES \
        --video_path FRAMES --annotation_path ucf101_01.json [--subset validation]    # as eval.py's options
    python -m src.tools.extract_features --mode flow --checkpoint_path FLOW.ckpt --out_dir FEATURES --list LIST

--list names one frame folder (as the data tools write them) or video file per line; video files are prepared in
memory as demo.py does (frames at --frame_size, TV-L1 flow for --mode flow). Output: OUT/<class>/<key>.npy from an
annotation, OUT/<name>.npy from a list, float32 of shape (windows, 1024), or (1024,) with --pool video. Windows are
--window frames every --stride frames covering the video (--clips center: the evaluation's centre window only),
transformed as in evaluation (--spatial_size). Finished videos are skipped on a rerun (each file is written under a
temporary name, then renamed); a progress bar shows on a terminal; a summary ends the run, exit status 1 if any video
failed; a full or read-only disk stops the run at its first failed write (one `error:` line, no partial file). A
second run on the same --out_dir is refused while one runs; a run killed at any moment and rerun ends with the files
of an uninterrupted one. Runs in this process (one network), videos one after the other, clip loading in
--num_workers threads.
rgb without --checkpoint_path uses DeepMind's Kinetics-400 weights (src/i3d/pretrained.py), converted once into a
cache folder. --backend auto runs the network on ONNX Runtime when it is installed and the device target is CPU
(exported once per checkpoint and input shape into the same cache folder), else on MindSpore; `backend: ...` on stderr
says which ran.
"""
import functools
import io
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import src.runtime  # noqa: E402,F401  (first: caps oneDNN at AVX2 before MindSpore loads)
import numpy as np  # noqa: E402

from src.cli import (BACKEND_HELP, BACKENDS, CONTEXT_MODES, DEVICE_TARGETS, Parser, detect_device_target,  # noqa: E402
                     non_negative_int, positive_int)
from src.data.annotations import SUBSETS, AnnotationError  # noqa: E402
from src.data.frames import FrameFolderError, count_i3d_frames  # noqa: E402
from src.data.i3d_dataset import MODES, I3DClipDataset, i3d_transforms  # noqa: E402
from src.data.pipeline import FrameClipSource  # noqa: E402
from src.data.video_io import VIDEO_EXTENSIONS  # noqa: E402
from src.i3d.pretrained import KINETICS400, converted_kinetics400_checkpoint  # noqa: E402
from src.tools.jobs import Job, run_jobs, run_locked  # noqa: E402
from src.video_inference import (CLIP_CHOICES, WindowSource, clip_windows, decode_video, flow_images,  # noqa: E402
                                 memory_clip_loader)

FEATURE_ENDPOINT = "Mixed_5c"
I3D_LAYOUT = (3, 0, 1, 2)  # (T, H, W, C) frames -> (C, T, H, W) clips


class FrameFolderClips(FrameClipSource):
    """load_clip for the I3D frame folders of one stream, with the evaluation transforms."""

    def __init__(self, mode, spatial_size):
        super().__init__(seed=0)
        self.templates, self.grayscale = MODES[mode]
        self.frame_transform, self.value_transform = i3d_transforms(mode, train=False, spatial_size=spatial_size)


def parse_args(argv=None):
    parser = Parser(prog="python -m src.tools.extract_features", description=__doc__)
    parser.add_argument("--mode", choices=("rgb", "flow"), required=True, help="stream of the frames and checkpoint")
    parser.add_argument("--checkpoint_path", help="I3D checkpoint of that stream (any class count); default for rgb: "
                                                  f"{KINETICS400}, DeepMind's Kinetics-400 weights")
    parser.add_argument("--out_dir", required=True, help="where the .npy files go")
    source = parser.add_argument_group("videos: an annotation JSON and its frame root, or a list")
    source.add_argument("--video_path", help="frame root <video_path>/<class>/<video>/ (with --annotation_path)")
    source.add_argument("--annotation_path", help="annotation JSON (the data tools' ucf101_0k.json / hmdb51_k.json)")
    source.add_argument("--subset", nargs="+", choices=sorted(SUBSETS.values()), default=["training", "validation"],
                        help="annotation subsets to extract")
    source.add_argument("--list", help="file with one frame folder or video file per line (# comments allowed)")
    source.add_argument("--skip_missing", action="store_true",
                        help="leave out (and name) annotated videos whose frame folders are missing")
    clip = parser.add_argument_group("clips")
    clip.add_argument("--window", type=positive_int, default=16, help="frames per clip")
    clip.add_argument("--stride", type=positive_int, help="frames between clip starts (default: --window)")
    clip.add_argument("--clips", choices=CLIP_CHOICES, default="all",
                      help="all: windows covering the video; center: the evaluation's centre window only")
    clip.add_argument("--pool", choices=("window", "video"), default="window",
                      help="one feature per window (windows, 1024), or their mean (1024,)")
    clip.add_argument("--spatial_size", type=positive_int, default=224, help="crop size (evaluation transforms)")
    clip.add_argument("--frame_size", type=non_negative_int, default=256,
                      help="video files only: short side of the frames, as generate_rgb_jpgs --size (0 = native)")
    run = parser.add_argument_group("run")
    run.add_argument("--batch_size", type=positive_int, default=8, help="clips per forward pass")
    run.add_argument("--num_workers", type=positive_int, default=2, help="clip-loading threads")
    run.add_argument("--num_shards", type=positive_int, default=1, help="split the videos into this many shards")
    run.add_argument("--shard_id", type=non_negative_int, default=0, help="which shard this run processes")
    run.add_argument("--overwrite", action="store_true", help="redo videos whose features exist")
    run.add_argument("--no-progress", dest="progress", action="store_false",
                     help="no progress bar (also off when stderr is not a terminal)")
    run.add_argument("--backend", choices=BACKENDS, default="auto", help=BACKEND_HELP)
    run.add_argument("--device_target", choices=DEVICE_TARGETS, help="default: this machine's accelerator")
    run.add_argument("--context", choices=tuple(CONTEXT_MODES), default="gr", help="gr: GRAPH, py: PYNATIVE")
    args = parser.parse_args(argv)
    if bool(args.list) == bool(args.annotation_path or args.video_path):
        parser.error("give either --video_path with --annotation_path, or --list")
    if not args.list and not (args.video_path and args.annotation_path):
        parser.error("--video_path and --annotation_path go together")
    if not args.checkpoint_path:
        if args.mode != "rgb":
            parser.error("--checkpoint_path is required for --mode flow (no Kinetics-400 flow weights are installed)")
        args.checkpoint_path = KINETICS400
    for flag in ("checkpoint_path", "annotation_path", "list"):
        if getattr(args, flag) == KINETICS400:
            continue
        if getattr(args, flag) and not Path(getattr(args, flag)).is_file():
            parser.error(f"--{flag}: file not found: {getattr(args, flag)}")
    if args.video_path and not Path(args.video_path).is_dir():
        parser.error(f"--video_path: folder not found: {args.video_path}")
    if args.shard_id >= args.num_shards:
        parser.error(f"--shard_id must be in 0..{args.num_shards - 1}, got {args.shard_id}")
    return args


def annotated_jobs(args):
    """One job per annotated video of --subset: OUT/<class>/<key>.npy; its folder and n_frames checked now."""
    jobs = []
    for subset in args.subset:
        dataset = I3DClipDataset(args.video_path, args.annotation_path, subset, args.mode, args.window, train=False,
                                 spatial_size=args.spatial_size, skip_missing=args.skip_missing)
        for video in dataset.videos:
            class_name = dataset.class_names[video.label]
            jobs.append(Job(name=f"{class_name}/{video.key}", source=(video.path, video.n_frames),
                            target=Path(args.out_dir) / class_name / f"{video.key}.npy"))
    return jobs


def listed_jobs(list_path, out_dir):
    """One job per line of a list: OUT/<folder name or video stem>.npy; two lines with one output are an error."""
    jobs, owners = [], {}
    for line in Path(list_path).read_text().splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        path = Path(entry)
        target = Path(out_dir) / f"{path.stem if path.suffix.lower() in VIDEO_EXTENSIONS else path.name}.npy"
        if target in owners:
            raise AnnotationError(f"{list_path}: {owners[target]} and {entry} would both write {target}")
        owners[target] = entry
        jobs.append(Job(name=entry, source=(path, None), target=target))
    if not jobs:
        raise AnnotationError(f"{list_path}: lists no videos")
    return jobs


def clip_loader(path, n_frames, args, folder_clips):
    """(load(indices, rng), frame count) of a frame folder, or of a video file prepared in memory."""
    if path.is_file() and path.suffix.lower() in VIDEO_EXTENSIONS:
        frames, gray, _ = decode_video(path, args.frame_size)
        if args.mode == "flow":
            frames = flow_images(gray, 1, len(gray) - 1)
        return memory_clip_loader(frames, (folder_clips.frame_transform, folder_clips.value_transform),
                                  I3D_LAYOUT), len(frames)
    if not path.is_dir():
        raise FrameFolderError(f"{path}: neither a frame folder nor a video file ({', '.join(VIDEO_EXTENSIONS)})")
    count = n_frames or count_i3d_frames(path)
    return functools.partial(folder_clips.load_clip, path, layout=I3D_LAYOUT), count


def video_features(job, partial, predict, args, folder_clips):
    """Write the job's features (windows, 1024) or (1024,) as float32 .npy to `partial`."""
    from src.evaluation import predict_logits

    load, count = clip_loader(*job.source, args, folder_clips)
    windows = clip_windows(count, args.window, args.clips, args.stride)
    features = predict_logits(predict, WindowSource(load, windows), args.batch_size, args.num_workers)
    if args.pool == "video":
        features = features.mean(axis=0)
    encoded = io.BytesIO()  # np.save to a real file writes with tofile, whose OSError on a full disk has no errno
    np.save(encoded, features.astype(np.float32))
    with open(partial, "wb") as handle:
        handle.write(encoded.getvalue())


def feature_predictor(args):
    """predict_batch on --backend: clips (N, C, T, H, W) -> Mixed_5c averaged over (T, H, W), (N, 1024); the
    network truncated at Mixed_5c is what runs (and is exported), the pooling is numpy's on either backend."""
    from src.i3d import InceptionI3D, load_i3d_checkpoint
    from src.i3d.network import MODE_CHANNELS
    from src.predictors import make_predictor

    path = args.checkpoint_path
    if path == KINETICS400:
        path = converted_kinetics400_checkpoint()
    net = InceptionI3D(mode=args.mode, final_endpoint=FEATURE_ENDPOINT)
    load_i3d_checkpoint(net, path)
    shape = (args.batch_size, MODE_CHANNELS[args.mode], args.window, args.spatial_size, args.spatial_size)
    predict, used = make_predictor(net, path, shape, args.backend, args.device_target)
    print(f"backend: {used}", file=sys.stderr, flush=True)
    return lambda clips: predict(clips).mean(axis=(2, 3, 4))


def main(argv=None):
    """One run at a time per --out_dir (a second is refused naming the first); a disk error that is not one video's
    (the output folder cannot be created) is one `error:` line."""
    args = parse_args(argv)
    return run_locked(args.out_dir, "this feature folder", lambda: extract(args))


def extract(args):
    from src.i3d import CheckpointError
    from src.predictors import ModelError, resolve_backend
    from src.runtime import init_context

    args.device_target = args.device_target or detect_device_target()
    try:
        args.backend = resolve_backend(args.backend, args.device_target)
        init_context(args.device_target, args.context)
        jobs = listed_jobs(args.list, args.out_dir) if args.list else annotated_jobs(args)
        predict = feature_predictor(args)
    except (AnnotationError, FrameFolderError, CheckpointError, ModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    work = functools.partial(video_features, predict=predict, args=args,
                             folder_clips=FrameFolderClips(args.mode, args.spatial_size))
    summary = run_jobs("extract_features", jobs, work, workers=1, num_shards=args.num_shards, shard_id=args.shard_id,
                       overwrite=args.overwrite, progress=args.progress)
    summary.report()
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
