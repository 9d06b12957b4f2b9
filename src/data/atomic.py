"""Write-then-rename helpers, so an interrupted run never leaves a half-written file that looks done."""
import os
import shutil
import tempfile
from pathlib import Path


def atomic_write_text(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
