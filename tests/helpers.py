"""Small utilities shared by the tests."""
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_cli(args, cwd=REPO_ROOT, check=True, **kwargs):
    """Run a command with this interpreter; returns CompletedProcess with text stdout/stderr."""
    env = dict(os.environ, PYTHONPATH="")
    result = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def tree_bytes(root):
    """{relative path: bytes} of every file below root, to compare whole outputs."""
    root = Path(root)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
