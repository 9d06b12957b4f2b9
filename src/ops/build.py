"""Build the CPU kernels of src/ops into build/ops/ (run by scripts/setup_env.sh; safe to rerun).

    .venv/bin/python -m src.ops.build [--out_dir build/ops] [--compiler g++]

Prints where the library went, or why it was not built (no C++ compiler: training then uses MindSpore's own
kernels, slower on CPU). Exit status 0 either way, unless --strict.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from src.ops.library import LIBRARY_NAME, SOURCES, default_library_path

# target_clones in the source picks AVX2 at load time where the CPU has it, so one build runs on any x86-64.
FLAGS = ["-O3", "-shared", "-fPIC", "-std=c++17", "-pthread"]


def build(out_dir=None, compiler=None):
    """Compile SOURCES into out_dir/LIBRARY_NAME; returns its path. Raises RuntimeError when no compiler works."""
    out = Path(out_dir) / LIBRARY_NAME if out_dir else default_library_path()
    compiler = compiler or os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not compiler:
        raise RuntimeError("no C++ compiler found (set CXX or install g++)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch:  # the library appears whole or not at all
        partial = Path(scratch) / LIBRARY_NAME
        done = subprocess.run([compiler, *FLAGS, "-o", str(partial), *map(str, SOURCES)], capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{compiler} failed:\n{done.stderr.strip()}")
        os.replace(partial, out)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out_dir", type=Path, help="default: build/ops in the repository")
    parser.add_argument("--compiler", help="default: $CXX, else g++ or c++ on the PATH")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the library cannot be built")
    args = parser.parse_args(argv)
    try:
        path = build(args.out_dir, args.compiler)
    except (RuntimeError, OSError) as error:
        print(f"[ops] not built, training uses MindSpore's CPU kernels: {error}", file=sys.stderr)
        return 1 if args.strict else 0
    print(f"[ops] built {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
