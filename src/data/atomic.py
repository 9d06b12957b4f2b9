"""Write-then-rename helpers, so an interrupted run never leaves a half-written file that looks done."""
import errno
import glob
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_output(path):
    """Yields a temporary file name beside `path`, with the same suffix (writers that append a format's suffix keep
    it); renamed onto `path` when the block succeeds, removed whatever happens otherwise, so a failed or interrupted
    write leaves neither a partial `path` nor a stray temporary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".partial{path.suffix}", dir=path.parent)
    os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp's 0600 would make every output private to its writer
    os.close(fd)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    except OSError as error:
        if error.filename not in (None, temporary):
            raise
        raise OSError(error.errno, error.strerror, str(path)) from None  # the user knows the final name, not ours
    finally:
        Path(temporary).unlink(missing_ok=True)


def remove_stale_temporaries(path):
    """Remove the temporary files atomic_output (and MindSpore's checkpoint writer beside it) left for `path` when a
    run was killed mid-write. Only for a caller that owns `path` exclusively (e.g. holds the folder's lock)."""
    path = Path(path)
    if path.parent.is_dir():
        for stale in path.parent.glob(f".{glob.escape(path.stem)}.*.partial*"):
            remove_path(stale)


def atomic_write_text(path, text):
    with atomic_output(path) as temporary:
        with open(temporary, "w", newline="") as handle:
            handle.write(text)


def partial_path(target):
    """The temporary name a file or folder is built under before it is renamed to `target`."""
    target = Path(target)
    return target.with_name(f".{target.name}.partial")


def remove_path(path):
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def commit_partial(partial, target):
    """Move a finished temporary file/folder onto `target`; an existing target is replaced only now."""
    partial, target = Path(partial), Path(target)
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        remove_path(old)
        os.rename(target, old)
        os.rename(partial, target)
        remove_path(old)
    else:
        os.rename(partial, target)


DISK_HINTS = {errno.ENOSPC: "the disk is full; free space or choose another output folder",
              errno.EDQUOT: "the disk quota is exceeded",
              errno.EROFS: "the file system is read-only; choose a writable output folder",
              errno.EACCES: "permission denied; choose a folder you can write"}


def describe_os_error(error):
    """`<path>: <what>` for an OSError, with what to do for the disk problems users meet (full, read-only)."""
    where = error.filename or "output"
    what = error.strerror or str(error)
    hint = DISK_HINTS.get(error.errno)
    return f"{where}: {what}" + (f" ({hint})" if hint else "")
