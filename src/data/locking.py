"""One writer per output folder: a second run on the same frames root or run folder is refused while the first lives.

The lock is a POSIX record lock (fcntl.lockf) on `<folder>/.lock`. The kernel drops it when the holding process ends,
however it ends (SIGKILL included), so a stale lock file never blocks a rerun; and record locks are not inherited by
forked workers, so a worker that outlives its parent cannot keep the folder locked. The file's text names the holder.
"""
import fcntl
import os
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".lock"


class FolderLockedError(Exception):
    """Another live process writes into the folder; the message names it."""


def _holder_text():
    command = " ".join(sys.argv) or sys.executable
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    return f"pid {os.getpid()} on {socket.gethostname()}, started {started}: {command}\n"


@contextmanager
def folder_lock(folder, what="this folder"):
    """Hold the folder's lock for the block; raises FolderLockedError naming the holder when another process has it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = path.read_text(errors="replace").strip() or "another process"
            raise FolderLockedError(f"{folder}: {what} is in use by {holder} (lock {path}); wait for that run to end "
                                    "or stop it, then run again") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, _holder_text().encode(), 0)
        yield path
    finally:
        os.close(fd)
