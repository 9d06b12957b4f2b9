"""Fault injection for the reliability suite: kill a command at a seeded random moment, run one on a full or
read-only file system, and check that no process of it outlives a kill.

Full and read-only disks need a private mount namespace (`unshare -rm`: a user namespace, no root on the host);
where the machine does not allow one, the tests that need it are skipped with the reason.
"""
import functools
import os
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT


def python_command(*args):
    """argv running this interpreter on a repository script (named relative to the repository, so the command runs
    from any folder) or module (`-m pkg.mod` as two items; modules need cwd=REPO_ROOT)."""
    first, *rest = map(str, args)
    if (REPO_ROOT / first).is_file():
        first = str(REPO_ROOT / first)
    return [sys.executable, first, *rest]


def _env():
    return dict(os.environ, PYTHONPATH="", PYTHONUNBUFFERED="1")


def start(argv, cwd=REPO_ROOT):
    """Start a command in its own process group (so the test can find every process it forked)."""
    return subprocess.Popen(argv, cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def run(argv, cwd=REPO_ROOT, timeout=600):
    return subprocess.run(argv, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)


def group_members(pgid):
    """Pids of live (not zombie) processes in process group `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def wait_group_gone(pgid, timeout=10.0):
    """True when no process of the group is left within `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not group_members(pgid):
            return True
        time.sleep(0.05)
    return not group_members(pgid)


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def kill_points(seed, count, low, high):
    """`count` seeded random delays in [low, high) seconds: the same kill moments on every run of the suite."""
    rng = random.Random(seed)
    return [round(rng.uniform(low, high), 3) for _ in range(count)]


def kill_after(argv, delay, sig=signal.SIGKILL, cwd=REPO_ROOT, ready=None):
    """Start argv, send `sig` to its main process only (as `kill -9 $!` does) after `delay` seconds, counted from when
    `ready()` first returns true if given. Returns (returncode or None if it had finished, stdout, stderr, pgid) and
    leaves the process group alive so the caller can check it dies by itself."""
    process = start(argv, cwd)
    if ready is not None:
        deadline = time.time() + 300
        while not ready() and process.poll() is None and time.time() < deadline:
            time.sleep(0.02)
    time.sleep(delay)
    finished = process.poll() is not None
    if not finished:
        process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=300)
    return (process.returncode if finished else None), stdout, stderr, process.pid


@functools.lru_cache(maxsize=None)
def namespace_problem():
    """None when `unshare -rm` can mount a tmpfs here, else why not (for skip messages)."""
    probe = "mount -t tmpfs -o size=64k none /mnt 2>&1 || mount -t tmpfs -o size=64k none /tmp"
    try:
        result = subprocess.run(["unshare", "-rm", "sh", "-c", probe], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unshare not usable: {error}"
    return None if result.returncode == 0 else f"no private mount namespace here: {result.stdout}{result.stderr}"


def require_namespace():
    problem = namespace_problem()
    if problem:
        pytest.skip(problem)


def run_on_restricted_disk(argv, folder, kind, size_kb=256, cwd=REPO_ROOT, timeout=600):
    """Run argv with `folder` replaced by a full-able tmpfs of size_kb (kind 'full', starting with what the folder
    held) or made read-only (kind 'readonly'), in a private mount namespace. Returns (CompletedProcess, listing) where
    listing is {relative path: size} of what the folder held when the command ended, seen from inside."""
    require_namespace()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    quoted = shlex.quote(str(folder))
    if kind == "full":
        mount = (f"seed=$(mktemp -d) && cp -a {quoted}/. \"$seed\"/ && "
                 f"mount -t tmpfs -o size={size_kb}k none {quoted} && cp -a \"$seed\"/. {quoted}/ && rm -rf \"$seed\"")
    elif kind == "readonly":
        mount = f"mount --bind {quoted} {quoted} && mount -o remount,ro,bind {quoted}"
    else:
        raise ValueError(kind)
    with tempfile.TemporaryDirectory() as scratch:
        listing_file = Path(scratch) / "listing"
        listing = f"(cd {quoted} && find . -type f -printf '%P\\t%s\\n') > {shlex.quote(str(listing_file))}"
        script = f"{mount} || exit 99; \"$@\"; rc=$?; {listing}; exit $rc"
        result = subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", *map(str, argv)], cwd=cwd, env=_env(),
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode == 99:
            pytest.skip(f"could not mount over {folder}: {result.stderr.strip()}")
        lines = listing_file.read_text().splitlines() if listing_file.exists() else []
    listing = {name: int(size) for name, _, size in (line.partition("\t") for line in lines)}
    return result, listing
