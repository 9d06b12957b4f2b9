"""Run one tool over many videos: in parallel, sharded, resumable, with a progress bar and a summary.

Every output (a frame folder or a file) is built under a temporary `.<name>.partial` name and renamed
when complete, so an interrupted run never leaves a half-done video that looks finished; a rerun skips
the finished ones and rebuilds the rest.
"""
import multiprocessing
import os
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from src.data.atomic import commit_partial, partial_path, remove_path


@dataclass(frozen=True)
class Job:
    name: str  # shown in progress and error messages, e.g. "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"
    source: object  # what the work function reads: a video, a frame folder, render parameters
    target: Path


@dataclass
class Summary:
    tool: str
    done: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)  # (job name, message)

    def report(self):
        stream = sys.stderr
        print(f"[{self.tool}] done {len(self.done)}, skipped {len(self.skipped)} (already finished), "
              f"failed {len(self.failed)}", file=stream)
        for name, message in self.failed:
            print(f"[{self.tool}] FAILED {name}: {message}", file=stream)

    @property
    def exit_code(self):
        return 1 if self.failed else 0


def parse_job_arguments(parser, argv=None, workers_aliases=()):
    """Add the options every per-video tool shares, parse argv and check them."""
    parser.add_argument("--workers", *workers_aliases, type=int, default=-1,
                        help="parallel worker processes (-1 = all cores)")
    parser.add_argument("--num_shards", type=int, default=1,
                        help="split the videos into this many shards, e.g. one per machine")
    parser.add_argument("--shard_id", type=int, default=0, help="which shard this run processes (0-based)")
    parser.add_argument("--overwrite", action="store_true",
                        help="redo videos whose output already exists (it is replaced only when the new one is complete)")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar (also off when stderr is not a terminal)")
    args = parser.parse_args(argv)
    if args.num_shards < 1:
        parser.error(f"--num_shards must be >= 1, got {args.num_shards}")
    if not 0 <= args.shard_id < args.num_shards:
        parser.error(f"--shard_id must be in 0..{args.num_shards - 1}, got {args.shard_id}")
    if args.workers == 0 or args.workers < -1:
        parser.error(f"--workers must be -1 (all cores) or >= 1, got {args.workers}")
    return args


def shard(jobs, num_shards, shard_id):
    """Every num_shards-th job of the name-sorted list, so shards are disjoint and stable across machines."""
    ordered = sorted(jobs, key=lambda job: job.name)
    return ordered[shard_id::num_shards]


def _run_one(work, job, overwrite):
    """Build one output under its partial name; returns (status, message)."""
    if job.target.exists() and not overwrite:
        return "skipped", ""
    partial = partial_path(job.target)
    remove_path(partial)
    job.target.parent.mkdir(parents=True, exist_ok=True)
    try:
        work(job, partial)
        commit_partial(partial, job.target)
    except Exception as error:  # reported per video; the other videos go on
        remove_path(partial)
        message = str(error) or traceback.format_exception_only(type(error), error)[-1].strip()
        return "failed", message
    return "done", ""


def _worker_init():
    import cv2

    cv2.setNumThreads(1)


def run_and_report(tool, jobs, work, args):
    """run_jobs with the shared options, then print the summary; returns the exit code."""
    summary = run_jobs(tool, jobs, work, args.workers, args.num_shards, args.shard_id, args.overwrite, args.progress)
    summary.report()
    return summary.exit_code


def report_problems(tool, where, problems, skip_missing):
    """Print unusable listed videos; returns True when they block the output (no --skip_missing)."""
    for video, problem in problems:
        print(f"[{tool}] {'warning, skipped' if skip_missing else 'error'}: {where}: {video}: {problem}",
              file=sys.stderr)
    if problems and not skip_missing:
        print(f"[{tool}] {where}: {len(problems)} listed video(s) unusable; nothing written for it "
              "(fix the frames or pass --skip_missing)", file=sys.stderr)
        return True
    return False


def run_jobs(tool, jobs, work, workers=-1, num_shards=1, shard_id=0, overwrite=False, progress=True):
    """Apply `work(job, partial_path)` to this shard's jobs; returns a Summary (not printed)."""
    selected = shard(jobs, num_shards, shard_id)
    summary = Summary(tool)
    workers = os.cpu_count() if workers == -1 else workers
    show = progress and sys.stderr.isatty()
    bar = tqdm(total=len(selected), desc=tool, unit="video", disable=not show, dynamic_ncols=True)

    def record(job, status, message):
        if status == "failed":
            summary.failed.append((job.name, message))
            bar.write(f"[{tool}] FAILED {job.name}: {message}", file=sys.stderr)
        else:
            getattr(summary, status).append(job.name)
        bar.update(1)

    with bar:
        if workers <= 1 or len(selected) <= 1:
            _worker_init()
            for job in selected:
                record(job, *_run_one(work, job, overwrite))
        else:
            context = multiprocessing.get_context("fork")  # work functions may live in a tool run as __main__
            with ProcessPoolExecutor(max_workers=min(workers, len(selected)), mp_context=context,
                                     initializer=_worker_init) as pool:
                futures = {pool.submit(_run_one, work, job, overwrite): job for job in selected}
                for future in as_completed(futures):
                    record(futures[future], *future.result())
    return summary
