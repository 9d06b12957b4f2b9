"""Action timeline of a long video (a label per sliding window), or ECO-lite's online mode on a live source.

    python timeline.py VIDEO --out_png timeline.png      # I3D rgb, DeepMind's Kinetics-400 weights: 64-frame windows
    python timeline.py VIDEO --mode joint --rgb_path RGB.ckpt --flow_path FLOW.ckpt --label_map labels.txt \\
        --stride 16 --out_csv t.csv --out_json t.json --out_png t.png --out_video labelled.mp4
    python timeline.py VIDEO --model eco_lite --checkpoint_path ECO.ckpt --window 32 --stride 16 --out_png t.png
    python timeline.py 0 --online --checkpoint_path ECO.ckpt --label_map labels.txt      # camera 0, live
    python timeline.py VIDEO --online --realtime --checkpoint_path ECO.ckpt              # a file at its frame rate

Timeline: frames are decoded as a stream and prepared as demo.py prepares them (--frame_size short side, the JPEG
round trip, TV-L1 flow for flow and joint), windows of --sample_duration frames (I3D) or --window frames sampled into
--num_segments (ECO-lite) start every --stride frames, and each gets its top-k softmax scores; consecutive windows with
the same top-1 form the segments. Memory stays bounded whatever the length (src/timeline.py).
Online (ECO-lite): the paper's working memory of --num_segments frames, half replaced by new frames every
--num_segments frames, one prediction per update (src/eco_lite/online.py). Any source OpenCV opens: a file, a camera
index, a stream URL; Ctrl-C stops either mode cleanly and the outputs so far are written.
--backend auto runs the networks on ONNX Runtime when it is installed and the device target is CPU (about twice
MindSpore's speed there), exported once into a cache folder; the real-time factor printed at the end is video seconds
per wall-clock second.
"""
import sys
from contextlib import ExitStack
from pathlib import Path

import src.runtime  # noqa: F401  (first: caps oneDNN at AVX2 before MindSpore loads)
from src.cli import (BACKEND_HELP, BACKENDS, CONTEXT_MODES, DEVICE_TARGETS, Parser, detect_device_target,
                     non_negative_int, positive_int, unit_fraction)
from src.data.atomic import describe_os_error
from src.data.video_io import VideoReadError
from src.i3d.pretrained import KINETICS400
from src.predictors import ModelError, resolve_backend
from src.timeline import STREAM_VIDEO_SUFFIXES, TruthError, capture_argument
from src.video_inference import LabelMapError

I3D_FRAME_SIZE = 256  # as demo.py: generate_rgb_jpgs --size
ECO_FRAME_SIZE = 0  # extract_frames --size: native
I3D_LAYOUT, ECO_LAYOUT = (3, 0, 1, 2), (0, 3, 1, 2)


def parse_args(argv=None):
    parser = Parser(description=__doc__)
    parser.add_argument("source", help="a video file; with --online also a camera index (0) or a stream URL")
    parser.add_argument("--online", action="store_true", help="ECO-lite's online mode (one prediction per update)")
    parser.add_argument("--realtime", action="store_true",
                        help="--online on a file: read it at its frame rate, skipping frames when behind, as a "
                             "camera would (default: as fast as possible)")
    parser.add_argument("--model", choices=("i3d", "eco_lite"), help="network (default: i3d; eco_lite with --online)")
    parser.add_argument("--mode", choices=("rgb", "flow", "joint"), default="rgb", help="I3D stream(s)")
    parser.add_argument("--rgb_path", help="I3D rgb checkpoint (default: kinetics400, DeepMind's Kinetics-400 weights)")
    parser.add_argument("--flow_path", help="I3D flow checkpoint (flow and joint)")
    parser.add_argument("--checkpoint_path", help="ECO-lite checkpoint")
    parser.add_argument("--num_classes", type=positive_int, help="check the checkpoint's head has this many classes")
    parser.add_argument("--label_map", help="class names, one per line; default: Kinetics-400 names for 400 classes")
    parser.add_argument("--frame_size", type=non_negative_int,
                        help=f"short side frames are scaled to first, as the data tools' --size (default: "
                             f"{I3D_FRAME_SIZE} for I3D, native for ECO-lite; 0 = native)")
    parser.add_argument("--spatial_size", type=positive_int, default=224, help="I3D crop size")
    parser.add_argument("--sample_duration", type=positive_int, default=64, help="I3D window: frames per clip")
    parser.add_argument("--num_segments", type=positive_int, default=4,
                        help="ECO-lite frames per clip (and the online working memory)")
    parser.add_argument("--input_size", type=positive_int, default=224, help="ECO-lite crop size")
    parser.add_argument("--window", type=positive_int, default=32, help="ECO-lite window: frames sampled into "
                                                                        "--num_segments segments")
    parser.add_argument("--stride", type=positive_int, help="frames between window starts (default: half a window)")
    parser.add_argument("--smooth", type=positive_int, default=1,
                        help="average each window's scores with its neighbours': this many windows (odd) centred on "
                             "it; every output uses the smoothed scores (1: off)")
    parser.add_argument("--replace_fraction", type=unit_fraction, default=0.5,
                        help="--online: share of the working memory replaced at each update (the paper: half)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="--online: seed of the memory's sampling")
    parser.add_argument("--batch_size", type=positive_int, default=1, help="windows per forward pass")
    parser.add_argument("--top_k", type=positive_int, default=5, help="classes per window in the CSV and JSON")
    parser.add_argument("--out_csv", help="per window (per update with --online): frames, seconds, top-k and scores")
    parser.add_argument("--out_json", help="windows, segments and run facts (timeline only)")
    parser.add_argument("--out_png", help="the timeline picture (timeline only)")
    parser.add_argument("--out_video", help=f"the frames with the current label ({', '.join(STREAM_VIDEO_SUFFIXES)})")
    parser.add_argument("--truth", help="CSV of the true segments (start_frame,end_frame,class): prints the segment "
                                        "IoU and adds a truth strip to --out_png (timeline only)")
    parser.add_argument("--backend", choices=BACKENDS, default="auto", help=BACKEND_HELP)
    parser.add_argument("--device_target", choices=DEVICE_TARGETS, help="MindSpore's device (default: this machine's)")
    parser.add_argument("--context", choices=tuple(CONTEXT_MODES), default="gr",
                        help="MindSpore backend: gr (GRAPH, compiled once: long videos) or py (PYNATIVE)")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar (also off when stderr is not a terminal)")
    args = parser.parse_args(argv)
    args.model = args.model or ("eco_lite" if args.online else "i3d")
    check_args(parser, args)
    args.progress = args.progress and sys.stderr.isatty()
    return args


def check_args(parser, args):
    """Every user error that needs no model or video work, reported before anything loads."""
    if args.online and args.model != "eco_lite":
        parser.error("--online is ECO-lite's online mode: use --model eco_lite with --checkpoint_path")
    if args.smooth % 2 == 0:
        parser.error(f"--smooth {args.smooth}: use an odd number of windows (centred on each window)")
    if args.online and args.smooth > 1:
        parser.error("--smooth is for a timeline; the online mode averages each prediction with the previous one")
    if args.realtime and not args.online:
        parser.error("--realtime paces a live run: use it with --online")
    if args.online:
        for flag in ("out_json", "out_png", "truth"):
            if getattr(args, flag):
                parser.error(f"--{flag} is for a timeline; --online writes --out_csv and --out_video")
    source = capture_argument(args.source)
    is_path = isinstance(source, str) and "://" not in source
    if not args.online and not is_path:
        parser.error(f"{args.source}: a timeline reads a video file; use --online for a camera or a stream")
    if is_path and not Path(source).is_file():
        parser.error(f"{args.source}: video not found")
    if args.out_video and Path(args.out_video).suffix.lower() not in STREAM_VIDEO_SUFFIXES:
        parser.error(f"--out_video {args.out_video}: use one of {', '.join(STREAM_VIDEO_SUFFIXES)}")
    if args.out_png and Path(args.out_png).suffix.lower() != ".png":
        parser.error(f"--out_png {args.out_png}: the picture is written as PNG; name it .png")
    args.streams = ("rgb", "flow") if args.mode == "joint" else (args.mode,)
    if args.model == "i3d" and "rgb" in args.streams and not args.rgb_path:
        args.rgb_path = KINETICS400
    needed = ["checkpoint_path"] if args.model == "eco_lite" else [f"{stream}_path" for stream in args.streams]
    for flag in needed:
        path = getattr(args, flag)
        if not path:
            parser.error(f"--{flag} is required for --model {args.model}" +
                         (f" --mode {args.mode}" if args.model == "i3d" else ""))
        if path != KINETICS400 and not Path(path).is_file():
            parser.error(f"--{flag}: checkpoint not found: {path}")
    for flag in ("label_map", "truth"):
        if getattr(args, flag) and not Path(getattr(args, flag)).is_file():
            parser.error(f"--{flag}: file not found: {getattr(args, flag)}")
    if args.frame_size is None:
        args.frame_size = I3D_FRAME_SIZE if args.model == "i3d" else ECO_FRAME_SIZE
    args.window_length = args.sample_duration if args.model == "i3d" else args.window
    args.stride = args.stride or max(1, args.window_length // 2)


# -------------------------------------------------------------------------------------------------------- models

def input_shape(args, stream):
    """The fixed batch shape of a network's input (an ONNX export has one; the last batch is padded to it)."""
    if stream == "eco_lite":
        return (1 if args.online else args.batch_size, 3 * args.num_segments, args.input_size, args.input_size)
    return (args.batch_size, 3 if stream == "rgb" else 2, args.sample_duration, args.spatial_size, args.spatial_size)


def load_networks(args):
    """({stream: (network, checkpoint file)}, class count), checked before any export or video work."""
    from src.predictors import load_eco, load_i3d

    if args.model == "eco_lite":
        net, checkpoint = load_eco(args.checkpoint_path, args.num_segments, args.num_classes)
        return {"eco_lite": (net, checkpoint)}, net.num_classes
    networks = {stream: load_i3d(getattr(args, f"{stream}_path"), stream, args.num_classes) for stream in args.streams}
    classes = {stream: net.num_classes for stream, (net, _) in networks.items()}
    if len(set(classes.values())) > 1:
        raise ModelError(f"{args.rgb_path} has {classes['rgb']} classes but {args.flow_path} has {classes['flow']}")
    return networks, classes[args.streams[0]]


def build_streams(args, networks):
    """[timeline Stream]: each network on the chosen backend, with its evaluation transforms."""
    from src.data.eco_dataset import eco_transforms
    from src.data.i3d_dataset import i3d_transforms
    from src.predictors import make_predictor
    from src.timeline import Stream, clip_maker

    streams = []
    for stream, (net, checkpoint) in networks.items():
        predict, args.backend_used = make_predictor(net, checkpoint, input_shape(args, stream), args.backend,
                                                    args.device_target)
        if stream == "eco_lite":
            make_input = clip_maker(eco_transforms(False, args.input_size), ECO_LAYOUT, stack_channels=True)
        else:
            make_input = clip_maker(i3d_transforms(stream, train=False, spatial_size=args.spatial_size), I3D_LAYOUT)
        streams.append(Stream(stream, predict, make_input, image="flow" if stream == "flow" else "rgb"))
    return streams


def warm_up(args, streams):
    """One forward pass of zeros per network, so the real-time factor measures the stream, not MindSpore's graph
    compilation or ONNX Runtime's first-call set-up."""
    import time

    import numpy as np

    started = time.monotonic()
    for stream in streams:
        stream.predict(np.zeros(input_shape(args, stream.name), np.float32))
    print(f"networks ready ({args.backend_used}, warm-up {time.monotonic() - started:.1f} s)", flush=True)


def describe(args):
    if args.model == "eco_lite":
        return f"ECO-lite, {args.num_segments} segments at {args.input_size}x{args.input_size}"
    return f"I3D {args.mode}, {args.sample_duration} frames at {args.spatial_size}x{args.spatial_size}"


# ------------------------------------------------------------------------------------------------------ timeline

def run_timeline_mode(args, stream, streams, names):
    from src.timeline import (LabelledVideo, Timeline, WindowSpec, merge_segments, read_truth, run_timeline,
                              segment_iou, write_csv, write_json)

    truth = read_truth(args.truth, names) if args.truth else None
    spec = WindowSpec(args.window_length, args.num_segments if args.model == "eco_lite" else None)
    timeline = Timeline(streams, spec, args.stride, args.batch_size, smooth=args.smooth)
    print(f"timeline: {describe(args)}; windows of {args.window_length} frames every {args.stride}" +
          (f", scores smoothed over {args.smooth} windows" if args.smooth > 1 else "") +
          f" ({args.backend_used}); {args.source}: " +
          (f"{stream.frame_count} frames at {stream.fps:g} fps" if stream.frame_count else f"{stream.fps:g} fps"),
          flush=True)
    with ExitStack() as outputs:
        video = outputs.enter_context(LabelledVideo(args.out_video, stream.fps, names)) if args.out_video else None
        result = run_timeline(stream, timeline, args.frame_size, args.progress,
                              on_records=video.add_records if video else None,
                              on_frame=video.add_frame if video else None)
    if result.interrupted:
        print(f"interrupted at frame {result.frames}: the timeline so far is kept", file=sys.stderr, flush=True)
    segments = merge_segments(result.records, result.frames)
    info = {"source": args.source, "model": describe(args), "backend": args.backend_used,
            "window_frames": args.window_length, "stride_frames": args.stride, "smooth_windows": args.smooth}
    if truth:
        info["segment_iou"] = round(segment_iou(segments, truth), 4)
    for path, write in ((args.out_csv, lambda p: write_csv(p, result, names, args.top_k)),
                        (args.out_json, lambda p: write_json(p, result, names, args.top_k, info))):
        if path:
            write(path)
            print(f"written: {path}", flush=True)
    if args.out_png:
        from src.timeline_plot import plot_timeline

        plot_timeline(result, names, args.out_png, title=f"{Path(args.source).name}: {describe(args)}", truth=truth)
        print(f"written: {args.out_png}", flush=True)
    if args.out_video:
        print(f"written: {args.out_video}", flush=True)
    print("\nsegments (frames, seconds, class, mean top-1 score):")
    for segment in segments:
        print(f"  {segment.start:>7}-{segment.end:<7} {(segment.start - 1) / result.fps:9.2f}-"
              f"{segment.end / result.fps:<9.2f} {names[segment.label]}  {segment.score:.3f}")
    print(f"\n{result.frames} frames ({result.video_seconds:.1f} s of video), {len(result.records)} windows in "
          f"{result.wall_seconds:.1f} s: real-time factor {result.realtime_factor:.2f}", flush=True)
    if truth:
        print(f"segment IoU against {args.truth}: {info['segment_iou']:.4f} ({len(truth)} true segments, "
              f"{len(segments)} predicted)", flush=True)
    return result


# -------------------------------------------------------------------------------------------------------- online

def run_online_mode(args, stream, streams, names):
    from src.eco_lite.online import OnlineECO
    from src.timeline import VideoFile, run_online, write_online_csv
    from src.video_inference import top_k

    online = OnlineECO(streams[0].predict, streams[0].make_input, args.num_segments, args.replace_fraction,
                       args.seed)
    print(f"online: {describe(args)}; working memory of {args.num_segments} frames, "
          f"{online.replace} replaced per update ({args.backend_used}); {args.source} at {stream.fps:g} fps"
          + (" (paced)" if args.realtime else "") + "; Ctrl-C stops", flush=True)
    shown = {"label": None}

    def on_update(update):
        _, _, name, probability = top_k(update.average, names, 1)[0]
        if name != shown["label"]:
            shown["label"] = name
            print(f"frame {update.frame:>7} ({(update.frame - 1) / stream.fps:8.2f} s): {name} {probability:.2f}",
                  flush=True)

    with ExitStack() as outputs:
        video = outputs.enter_context(VideoFile(args.out_video, stream.fps)) if args.out_video else None

        def on_frame(number, colour, update):
            if update is not None:
                _, _, name, probability = top_k(update.average, names, 1)[0]
                video.write(colour, f"{name} {probability:.2f}")
            else:
                video.write(colour, "")

        summary = run_online(stream, online, args.frame_size, args.progress, on_update=on_update,
                             on_frame=on_frame if video else None)
    if args.out_csv:
        write_online_csv(args.out_csv, summary, names, args.top_k)
        print(f"written: {args.out_csv}", flush=True)
    if args.out_video:
        print(f"written: {args.out_video}", flush=True)
    how = "stopped (Ctrl-C)" if summary.interrupted else "end of stream"
    print(f"\n{how}: {summary.frames} frames, {len(summary.updates)} updates, {summary.dropped} frames skipped to "
          f"keep up, {summary.wall_seconds:.1f} s: real-time factor {summary.realtime_factor:.2f}", flush=True)
    if summary.updates:
        print("prediction after the last update:")
        for rank, _, name, probability in top_k(summary.updates[-1].average, names, args.top_k):
            print(f"{rank:>4}  {name}  {probability:.4f}", flush=True)
    return summary


def run(args):
    """Open the source (first: an unreadable one fails before any model loads), load the networks, run."""
    from src.runtime import init_context
    from src.timeline import VideoStream
    from src.video_inference import class_names

    stream = VideoStream(args.source, realtime=args.realtime)
    if not stream.fps_known:
        print(f"note: {args.source} does not give its frame rate; times assume {stream.fps:g} fps", file=sys.stderr,
              flush=True)
    try:
        args.device_target = args.device_target or detect_device_target()
        args.backend = resolve_backend(args.backend, args.device_target)
        init_context(args.device_target, args.context)
        networks, classes = load_networks(args)
        names, note = class_names(classes, args.label_map)
        if note:
            print(f"note: {note}", file=sys.stderr, flush=True)
        streams = build_streams(args, networks)
        warm_up(args, streams)
    except BaseException:
        stream.close()
        raise
    mode = run_online_mode if args.online else run_timeline_mode
    return mode(args, stream, streams, names)


def main(argv=None):
    from src.i3d import CheckpointError

    args = parse_args(argv)
    try:
        run(args)
    except (ModelError, CheckpointError, LabelMapError, VideoReadError, TruthError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: {describe_os_error(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
