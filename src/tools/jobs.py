"""Run one tool over many videos: in parallel, sharded, resumable, with a progress bar and a summary.

Every output (a frame folder or a file) is built under a temporary `.<name>.partial` name and renamed
when complete, so an interrupted run never leaves a half-done video that looks finished; a rerun skips
the finished ones that pass the tool's check and rebuilds the rest. One run at a time writes an output
root (src/data/locking.py), and the worker processes die with the run, however it ends, so a killed run
cannot race its rerun. A full or read-only disk stops the run after its first failed write.
"""
import ctypes
import errno
import multiprocessing
import os
import signal
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from src.data.atomic import commit_partial, describe_os_error, partial_path, remove_path
from src.data.locking import FolderLockedError, folder_lock

# Write errors that every further video would meet too: the run stops at the first one.
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# In a pool worker: the run's event, set at its first disk error, after which no worker starts another job (the
# parent cannot cancel the jobs already queued to the workers).
_stop_starting = None


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
    rebuilt: list = field(default_factory=list)  # (job name, why its existing output was not trusted); also in done
    stopped: str = ""  # the disk error that ended the run early, "" when every job was tried
    not_started: int = 0

    def report(self):
        stream = sys.stderr
        rebuilt = f", rebuilt {len(self.rebuilt)} incomplete" if self.rebuilt else ""
        listed = " (each FAILED line above)" if self.failed else ""
        print(f"[{self.tool}] done {len(self.done)}, skipped {len(self.skipped)} (already finished), "
              f"failed {len(self.failed)}{listed}{rebuilt}", file=stream)
        if self.stopped:
            print(f"error: {self.stopped}; stopped after {len(self.done) + len(self.skipped)} finished video(s), "
                  f"{self.not_started} not started; rerun when fixed (finished videos are kept)", file=stream)

    @property
    def exit_code(self):
        return 1 if self.failed or self.stopped else 0


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


def _run_one(work, job, overwrite, verify=None):
    """Build one output under its partial name; returns (status, message).

    status: done, skipped, rebuilt (an existing output failed `verify`, message says why), failed, disk (a
    write error every further job would meet too, DISK_ERRNOS), or not_started (another job met one). A failed
    job leaves no partial output behind.
    """
    if _stop_starting is not None and _stop_starting.is_set():
        return "not_started", ""
    problem = ""
    if job.target.exists() and not overwrite:
        problem = verify(job) if verify else None
        if not problem:
            return "skipped", ""
    partial = partial_path(job.target)
    try:
        remove_path(partial)
        job.target.parent.mkdir(parents=True, exist_ok=True)
        work(job, partial)
        commit_partial(partial, job.target)
    except Exception as error:  # reported per video; the other videos go on
        _remove_quietly(partial)
        if isinstance(error, OSError):
            if error.filename is None:  # a failed write() or close() names no file
                error.filename = str(job.target)
            if error.errno not in DISK_ERRNOS:
                return "failed", describe_os_error(error)
            if _stop_starting is not None:
                _stop_starting.set()
            return "disk", describe_os_error(error)
        return "failed", str(error) or traceback.format_exception_only(type(error), error)[-1].strip()
    except BaseException:  # Ctrl-C in a serial run
        _remove_quietly(partial)
        raise
    return ("rebuilt", problem) if problem else ("done", "")


def _remove_quietly(path):
    """Remove a partial output; a disk that refuses even that (read-only) leaves nothing to remove anyway."""
    try:
        remove_path(path)
    except OSError:
        pass


def _worker_init():
    import cv2

    cv2.setNumThreads(1)


def _pool_worker_init(parent_pid, stop_starting):
    """A worker dies with the run: Linux SIGKILLs it when the parent dies, however the parent ends (a killed run's
    workers would otherwise finish their queue, then hang, racing a rerun). Ctrl-C is the parent's to handle."""
    global _stop_starting
    _stop_starting = stop_starting
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)
    _worker_init()


def run_and_report(tool, jobs, work, args, output_root=None, verify=None):
    """run_jobs with the shared options, then print the summary; returns the exit code.

    With `output_root`, the run holds its lock: a second run on it is refused with one `error:` line naming the
    holder. A disk error outside any one video (the output root itself cannot be written) is one `error:` line too.
    """
    def run():
        try:
            summary = run_jobs(tool, jobs, work, args.workers, args.num_shards, args.shard_id, args.overwrite,
                               args.progress, verify)
        except KeyboardInterrupt:
            print(f"[{tool}] interrupted; finished videos are kept, a rerun does the rest", file=sys.stderr)
            return 130
        summary.report()
        return summary.exit_code
    return run_locked(output_root, "this output folder", run)


def run_locked(folder, what, run):
    """run() holding `folder`'s lock (none when folder is None); returns its exit code, or 1 with one `error:` line
    when another run holds the folder or the folder itself cannot be written."""
    try:
        with folder_lock(folder, what) if folder is not None else nullcontext():
            return run()
    except FolderLockedError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: {describe_os_error(error)}", file=sys.stderr)
        return 1


def report_problems(tool, where, problems, skip_missing):
    """Print unusable listed videos; returns True when they block the output (no --skip_missing)."""
    for video, problem in problems:
        print(f"[{tool}] {'warning, skipped' if skip_missing else 'error'}: {where}: {video}: {problem}",
              file=sys.stderr)
    if problems and not skip_missing:
        print(f"[{tool}] {where}: {len(problems)} listed video(s) unusable; nothing written for it "
              "(fix the frames or pass --skip_missing)", file=sys.stderr)
        return True
    if problems:
        print(f"[{tool}] {where}: left out {len(problems)} unusable listed video(s) (--skip_missing)",
              file=sys.stderr)
    return False


def run_jobs(tool, jobs, work, workers=-1, num_shards=1, shard_id=0, overwrite=False, progress=True, verify=None):
    """Apply `work(job, partial_path)` to this shard's jobs; returns a Summary (not printed).

    An existing output is skipped unless `verify(job)` returns a problem (then it is rebuilt, with a warning).
    A disk error (full, read-only) stops the run: jobs not started yet are left for a rerun.
    """
    selected = shard(jobs, num_shards, shard_id)
    summary = Summary(tool)
    workers = os.cpu_count() if workers == -1 else workers
    show = progress and sys.stderr.isatty()
    bar = tqdm(total=len(selected), desc=tool, unit="video", disable=not show, dynamic_ncols=True)

    def record(job, status, message):
        if status in ("failed", "disk"):
            summary.failed.append((job.name, message))
            bar.write(f"[{tool}] FAILED {job.name}: {message}", file=sys.stderr)
            if status == "disk" and not summary.stopped:
                summary.stopped = message
        elif status == "not_started":
            summary.not_started += 1
        elif status == "rebuilt":
            summary.rebuilt.append((job.name, message))
            summary.done.append(job.name)
            bar.write(f"[{tool}] warning: {job.name}: existing output incomplete ({message}); rebuilt it",
                      file=sys.stderr)
        else:
            getattr(summary, status).append(job.name)
        bar.update(1)

    with bar:
        if workers <= 1 or len(selected) <= 1:
            _worker_init()
            for position, job in enumerate(selected):
                record(job, *_run_one(work, job, overwrite, verify))
                if summary.stopped:
                    summary.not_started = len(selected) - position - 1
                    break
        else:
            _run_in_pool(work, selected, overwrite, verify, min(workers, len(selected)), record, summary)
    return summary


def _run_in_pool(work, selected, overwrite, verify, workers, record, summary):
    """The parallel half of run_jobs. On any exception in this process (Ctrl-C) the workers are killed and the
    partial outputs of the jobs not yet reported removed before it propagates."""
    context = multiprocessing.get_context("fork")  # work functions may live in a tool run as __main__
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_pool_worker_init,
                               initargs=(os.getpid(), context.Event()))
    pending = {}
    try:
        pending = {pool.submit(_run_one, work, job, overwrite, verify): job for job in selected}
        for future in as_completed(list(pending)):
            job = pending.pop(future)
            if future.cancelled():
                summary.not_started += 1
                continue
            try:
                status, message = future.result()
            except BrokenProcessPool:
                _remove_quietly(partial_path(job.target))
                status, message = "failed", "its worker process died (killed, or out of memory); rerun to retry"
            record(job, status, message)
            if summary.stopped:
                for other in pending:
                    other.cancel()
    except BaseException:
        for process in list(pool._processes.values()):  # no public way to stop busy workers
            process.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        for job in pending.values():
            _remove_quietly(partial_path(job.target))
        raise
    pool.shutdown(wait=True)
