"""Build the CPU kernels of src/ops into build/ops/ (run by scripts/setup_env.sh; safe to rerun).

    .venv/bin/python -m src.ops.build [--out_dir build/ops] [--compiler g++]

Prints where each library went, or why it was not built (no C++ compiler, or for the convolutions no
scipy-openblas32: training then uses MindSpore's own kernels, slower on CPU). Exit status 0 either way, unless
--strict.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from src.ops.library import BUILD_DIR, LIBRARIES, blas_record

# target_clones in the sources picks AVX2 at load time where the CPU has it, so one build runs on any x86-64.
FLAGS = ["-O3", "-shared", "-fPIC", "-std=c++17", "-pthread"]


def blas_library():
    """The path of scipy-openblas32's library (its cblas symbols carry the prefix scipy_)."""
    try:
        import scipy_openblas32
    except ImportError:
        raise RuntimeError("scipy-openblas32 is not installed (pip install -r requirements.txt)") from None
    return Path(scipy_openblas32.get_lib_dir()) / scipy_openblas32.get_library(fullname=True)


def build(kind, out_dir=None, compiler=None):
    """Compile the sources of LIBRARIES[kind] into out_dir; returns the library's path. Raises RuntimeError when it
    cannot be built."""
    library = LIBRARIES[kind]
    out = Path(out_dir or BUILD_DIR) / library.file
    compiler = compiler or os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not compiler:
        raise RuntimeError("no C++ compiler found (set CXX or install g++)")
    blas = blas_library() if library.needs_blas else None
    defines = [f'-DMSV_OPENBLAS="{blas}"', "-ldl"] if blas else []
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch:  # the library appears whole or not at all
        partial = Path(scratch) / library.file
        done = subprocess.run([compiler, *FLAGS, "-o", str(partial), *map(str, library.sources), *defines],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{compiler} failed:\n{done.stderr.strip()}")
        if blas:  # the library opens this path at run time; library_path checks it is still there
            Path(scratch, "blas").write_text(f"{blas}\n")
            os.replace(Path(scratch, "blas"), blas_record(out))
        os.replace(partial, out)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out_dir", type=Path, help="default: build/ops in the repository")
    parser.add_argument("--compiler", help="default: $CXX, else g++ or c++ on the PATH")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a library cannot be built")
    args = parser.parse_args(argv)
    status = 0
    for kind, library in LIBRARIES.items():
        try:
            path = build(kind, args.out_dir, args.compiler)
        except (RuntimeError, OSError) as error:
            print(f"[ops] {library.file} not built, so {library.without}: {error}", file=sys.stderr)
            status = 1 if args.strict else 0
            continue
        print(f"[ops] built {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
