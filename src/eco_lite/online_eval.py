"""eval.py with `run_online: True`: ECO's online mode (src/eco_lite/online.py) over every validation video.

Each video's frames are read in order, as a camera would deliver them, into the working memory of num_segments frames;
the running prediction after its last frame is the video's score, reported with the same lines, score file and report
as the offline evaluation. The memory's sampling is seeded with --seed for every video, so a rerun gives the same
numbers. A video shorter than the memory gets one update on its frames looped (as evaluation loops a short video).
"""
import sys
import time

import numpy as np
from tqdm import tqdm

from src.cli import fail
from src.data.eco_dataset import eco_transforms
from src.data.video_io import read_image
from src.eco_lite.online import OnlineECO
from src.engine.drivers import USER_ERRORS, recipe_predictor
from src.evaluation import EvalResult, save_scores, scores_paths, write_report
from src.predictors import resolve_backend
from src.runtime import init_context
from src.timeline import clip_maker

ECO_LAYOUT = (0, 3, 1, 2)


def online_video_logits(predict, make_input, video, template, memory_size, seed):
    """(running prediction after the last frame, updates) of one frame folder streamed through OnlineECO."""
    online = OnlineECO(predict, make_input, memory_size, seed=seed)
    for number in range(1, video.n_frames + 1):
        online.push(number, read_image(video.path / template.format(number)))
    online.finish()
    return online.average, online.updates


def run_online_evaluation(recipe):
    """Score every validation video online and print the evaluation's lines; returns the exit status."""
    args = recipe.args
    start = time.time()
    try:
        args.backend = resolve_backend(args.backend, args.device_target)
        init_context(args.device_target, args.context, args.device_id, args.seed)
        source = recipe.eval_source(recipe.name)
        print(f"Found {len(source)} validation examples", flush=True)
        print(f"checkpoint: {args.resume}", flush=True)
        predict = recipe_predictor(recipe, recipe.name, args.resume, source, batch_size=1)
        make_input = clip_maker(eco_transforms(False, args.input_size), ECO_LAYOUT, stack_channels=True)
        scores, updates = [], 0
        for video in tqdm(source.videos, unit="video", disable=not (args.progress and sys.stderr.isatty())):
            logits, count = online_video_logits(predict, make_input, video, source.templates[0], args.num_segments,
                                                args.seed)
            scores.append(logits)
            updates += count
        result = EvalResult.from_scores(source.video_keys, source.labels, np.stack(scores))
    except USER_ERRORS as error:
        fail(str(error))
    print(f"online mode: working memory of {args.num_segments} frames, half replaced every {args.num_segments} "
          f"frames; {updates} updates over {len(scores)} videos", flush=True)
    print("\n".join(recipe.result_lines(recipe.name, result)), flush=True)
    class_names = recipe.class_names(source)
    if args.scores_path:
        for name, path in scores_paths(args.scores_path, (recipe.name,)).items():
            save_scores(path, result, class_names)
            print(f"{name} scores saved to {path}", flush=True)
    if args.report_dir:
        figure, table = write_report(args.report_dir, recipe.name, result, class_names)
        print(f"{recipe.name} report: {figure}, {table}", flush=True)
    print(f"total_time: {time.time() - start:.1f} s", flush=True)
    return 0
