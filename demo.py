"""Classify one raw video: its top-5 classes with softmax scores, optionally a copy with the top label drawn on it.

    python demo.py VIDEO                  # I3D rgb with DeepMind's Kinetics-400 weights: the Kinetics-400 top-5
    python demo.py VIDEO --mode joint --rgb_path RGB.ckpt --flow_path FLOW.ckpt --label_map label_map.txt
    python demo.py VIDEO --model eco_lite --checkpoint_path ECO.ckpt --out_video out.gif

The video goes through what the data tools and eval.py do (src/video_inference.py): frames at the tools' short side
(--frame_size), TV-L1 flow for flow and joint, the evaluation transforms, clip scores averaged; joint sums the rgb and
flow logits (eval.py's default fusion). --frame_size must be the --size the checkpoint's training frames were made
with: flow is measured in pixels of those frames. Without --rgb_path (or with --rgb_path kinetics400) the rgb stream
is DeepMind's Kinetics-400 I3D, converted once into a cache folder (src/i3d/pretrained.py). --backend auto runs the
networks on ONNX Runtime when it is installed and the device target is CPU (exported once per checkpoint and batch
into the same cache folder), else on MindSpore; the line `backend: ...` says which ran.
"""
import sys
from pathlib import Path

import src.runtime  # noqa: F401  (first: caps oneDNN at AVX2 before MindSpore loads)
from src.cli import (BACKEND_HELP, BACKENDS, CONTEXT_MODES, DEVICE_TARGETS, Parser, detect_device_target,
                     non_negative_int, positive_int)
from src.data.video_io import VideoReadError
from src.i3d.pretrained import KINETICS400
from src.predictors import ModelError, load_eco, load_i3d, make_predictor, resolve_backend
from src.video_inference import (CLIP_CHOICES, OUT_VIDEO_SUFFIXES, LabelMapError, WindowSource, class_names,
                                 clip_windows, decode_video, flow_images, memory_clip_loader, top_k,
                                 write_labelled_video)

I3D_FRAME_SIZE = 256  # generate_rgb_jpgs --size
ECO_FRAME_SIZE = 0  # extract_frames --size: native


class DemoError(Exception):
    """A user error: the message names the file or flag."""


def parse_args(argv=None):
    parser = Parser(description=__doc__)
    parser.add_argument("video", help="a video file OpenCV can read (.avi, .mp4, ...)")
    parser.add_argument("--model", choices=("i3d", "eco_lite"), default="i3d", help="network")
    parser.add_argument("--mode", choices=("rgb", "flow", "joint"), default="rgb", help="I3D stream(s)")
    parser.add_argument("--rgb_path", help="I3D rgb checkpoint (rgb and joint); default: kinetics400, DeepMind's "
                                           "Kinetics-400 weights")
    parser.add_argument("--flow_path", help="I3D flow checkpoint (flow and joint)")
    parser.add_argument("--checkpoint_path", help="ECO-lite checkpoint")
    parser.add_argument("--num_classes", type=positive_int, help="check the checkpoint's head has this many classes")
    parser.add_argument("--label_map", help="class names, one per line (the sample dataset writes label_map.txt); "
                                            "default: Kinetics-400 names for a 400-class checkpoint")
    parser.add_argument("--frame_size", type=non_negative_int,
                        help=f"short side the frames are scaled to first, as the data tools' --size (default: "
                             f"{I3D_FRAME_SIZE} for I3D, native for ECO-lite; 0 = native)")
    parser.add_argument("--spatial_size", type=positive_int, default=224, help="I3D crop size")
    parser.add_argument("--sample_duration", type=positive_int, default=64, help="I3D frames per clip")
    parser.add_argument("--clips", choices=CLIP_CHOICES, default="all",
                        help="I3D: back-to-back clips over the whole video, scores averaged, or the centre clip")
    parser.add_argument("--num_segments", type=positive_int, default=4, help="ECO-lite frames per clip")
    parser.add_argument("--input_size", type=positive_int, default=224, help="ECO-lite crop size")
    parser.add_argument("--batch_size", type=positive_int, default=8, help="clips per forward pass")
    parser.add_argument("--top_k", type=positive_int, default=5, help="classes to list")
    parser.add_argument("--out_video", help=f"also write the video with the top label drawn on it "
                                            f"({', '.join(OUT_VIDEO_SUFFIXES)})")
    parser.add_argument("--allow_truncated", action="store_true", help="use the decodable part of a truncated video")
    parser.add_argument("--backend", choices=BACKENDS, default="auto", help=BACKEND_HELP)
    parser.add_argument("--device_target", choices=DEVICE_TARGETS, help="default: this machine's accelerator")
    parser.add_argument("--context", choices=tuple(CONTEXT_MODES), default="py",
                        help="py: PYNATIVE (a few clips: faster than compiling a graph), gr: GRAPH")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar (also off when stderr is not a terminal)")
    args = parser.parse_args(argv)
    if args.out_video and Path(args.out_video).suffix.lower() not in OUT_VIDEO_SUFFIXES:
        parser.error(f"--out_video {args.out_video}: use one of {', '.join(OUT_VIDEO_SUFFIXES)}")
    if not Path(args.video).is_file():
        parser.error(f"{args.video}: video not found")
    args.streams = ("rgb", "flow") if args.mode == "joint" else (args.mode,)
    if args.model == "i3d" and "rgb" in args.streams and not args.rgb_path:
        args.rgb_path = KINETICS400
    needed = {"eco_lite": ["checkpoint_path"]}.get(args.model, [f"{stream}_path" for stream in args.streams])
    for flag in needed:
        path = getattr(args, flag)
        if path == KINETICS400 and flag == "rgb_path":
            continue
        if not path:
            parser.error(f"--{flag} is required for --model {args.model}" +
                         (f" --mode {args.mode}" if args.model == "i3d" else ""))
        if not Path(path).is_file():
            parser.error(f"--{flag}: checkpoint not found: {path}")
    if args.frame_size is None:
        args.frame_size = I3D_FRAME_SIZE if args.model == "i3d" else ECO_FRAME_SIZE
    args.progress = args.progress and sys.stderr.isatty()
    return args


def load_models(args):
    """({stream: (network, checkpoint file)}, class count): the checkpoints, checked before any video work."""
    if args.model == "eco_lite":
        net, checkpoint = load_eco(args.checkpoint_path, args.num_segments, args.num_classes)
        return {"eco_lite": (net, checkpoint)}, net.num_classes
    networks = {stream: load_i3d(getattr(args, f"{stream}_path"), stream, args.num_classes) for stream in args.streams}
    classes = {stream: net.num_classes for stream, (net, _) in networks.items()}
    if len(set(classes.values())) > 1:
        raise DemoError(f"{args.rgb_path} has {classes['rgb']} classes but {args.flow_path} has {classes['flow']}")
    return networks, classes[args.streams[0]]


def score(args, model, clip_shape, load, windows, batch_size):
    """One video's logits: every clip scored through src.evaluation on --backend, averaged. The batch is known only
    now (a video of few clips needs no bigger one), and an ONNX export has a fixed one."""
    from src.evaluation import evaluate_stream

    source = WindowSource(load, windows)
    batch_size = min(batch_size, len(source))
    net, checkpoint = model
    predict, used = make_predictor(net, checkpoint, (batch_size, *clip_shape), args.backend, args.device_target)
    print(f"backend: {used}", flush=True)
    return evaluate_stream(predict, source, batch_size, num_workers=1, progress=args.progress).scores[0]


def score_i3d(args, networks, frames, gray):
    """Logits of I3D rgb, flow or joint (the sum of the two streams' clip-averaged logits, as eval.py's fusion)."""
    from src.data.i3d_dataset import i3d_transforms
    from src.evaluation import fuse

    scores = {}
    for stream, model in networks.items():
        transforms = i3d_transforms(stream, train=False, spatial_size=args.spatial_size)
        if stream == "rgb":
            windows = clip_windows(len(frames), args.sample_duration, args.clips)
            load = memory_clip_loader(frames, transforms, (3, 0, 1, 2))
        else:
            if len(frames) < 2:
                raise DemoError(f"{args.video}: flow needs at least 2 frames, the video has {len(frames)}")
            windows = clip_windows(len(frames) - 1, args.sample_duration, args.clips)
            first = min(min(window) for window in windows)
            flow = flow_images(gray, first, max(max(window) for window in windows), args.progress)
            load = memory_clip_loader(flow, transforms, (3, 0, 1, 2), first_index=first)
        print(f"{stream}: {len(windows)} clip(s) of {args.sample_duration} frames at {args.spatial_size}x"
              f"{args.spatial_size}", flush=True)
        clip_shape = (3 if stream == "rgb" else 2, args.sample_duration, args.spatial_size, args.spatial_size)
        scores[stream] = score(args, model, clip_shape, load, windows, args.batch_size)
    return fuse(scores["rgb"], scores["flow"]) if args.mode == "joint" else scores[args.mode]


def score_eco(args, model, frames):
    """ECO-lite logits of the evaluation's clip: one frame from the middle of each of --num_segments segments."""
    from src.data.eco_dataset import eco_transforms
    from src.data.temporal import segment_indices_val

    load = memory_clip_loader(frames, eco_transforms(False, args.input_size), (0, 3, 1, 2), stack_channels=True)
    print(f"eco_lite: {args.num_segments} segments at {args.input_size}x{args.input_size}", flush=True)
    clip_shape = (3 * args.num_segments, args.input_size, args.input_size)
    return score(args, model, clip_shape, load, [segment_indices_val(len(frames), args.num_segments)], 1)


def print_table(title, ranked, classes):
    width = max(len("class"), *(len(name) for _, _, name, _ in ranked))
    print(f"\n{title}: top-{len(ranked)} of {classes} classes\n{'rank':>4}  {'class':<{width}}  score")
    for rank, _, name, probability in ranked:
        print(f"{rank:>4}  {name:<{width}}  {probability:.4f}", flush=True)


def run(args):
    """Print the top-k table (and write --out_video); returns [(rank, class index, name, probability)]."""
    from src.runtime import init_context

    args.device_target = args.device_target or detect_device_target()
    args.backend = resolve_backend(args.backend, args.device_target)
    init_context(args.device_target, args.context)
    networks, classes = load_models(args)
    names, note = class_names(classes, args.label_map)
    if note:
        print(f"note: {note}", file=sys.stderr, flush=True)
    frames, gray, fps = decode_video(args.video, args.frame_size, args.allow_truncated)
    print(f"video: {args.video}: {len(frames)} frames of {frames.shape[2]}x{frames.shape[1]} (--frame_size "
          f"{args.frame_size}) at {fps:g} fps", flush=True)
    if args.model == "i3d":
        logits, title = score_i3d(args, networks, frames, gray), f"I3D {args.mode}"
    else:
        logits, title = score_eco(args, networks["eco_lite"], frames), "ECO-lite"
    ranked = top_k(logits, names, args.top_k)
    print_table(title, ranked, classes)
    if args.out_video:
        _, _, name, probability = ranked[0]
        write_labelled_video(args.out_video, frames, f"{name} {probability:.2f}", fps)
        print(f"\nlabelled video: {args.out_video}", flush=True)
    return ranked


def main(argv=None):
    from src.i3d import CheckpointError

    args = parse_args(argv)
    try:
        run(args)
    except (DemoError, ModelError, CheckpointError, LabelMapError, VideoReadError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
