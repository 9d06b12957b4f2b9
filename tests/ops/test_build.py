"""python -m src.ops.build: every library where a compiler and scipy-openblas32 exist; without OpenBLAS the pool and
optimizer kernels are still built and the convolutions' library is skipped with a note (exit 0, or 1 with --strict)."""
import shutil
import sys
from pathlib import Path

import pytest

from src.ops import build as ops_build
from src.ops.library import LIBRARIES

pytestmark = pytest.mark.skipif(shutil.which("g++") is None and shutil.which("c++") is None,
                                reason="no C++ compiler")


def test_builds_every_library(tmp_path, capsys):
    pytest.importorskip("scipy_openblas32")
    assert ops_build.main(["--out_dir", str(tmp_path), "--strict"]) == 0
    conv = LIBRARIES["conv"].file
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([lib.file for lib in LIBRARIES.values()] +
                                                                     [f"{conv}.blas"])
    assert Path((tmp_path / f"{conv}.blas").read_text().strip()).is_file()
    assert capsys.readouterr().out.count("[ops] built") == len(LIBRARIES)


@pytest.mark.parametrize("strict, status", [(False, 0), (True, 1)])
def test_without_openblas_skips_the_convolutions(tmp_path, monkeypatch, capsys, strict, status):
    monkeypatch.setitem(sys.modules, "scipy_openblas32", None)  # import fails
    assert ops_build.main(["--out_dir", str(tmp_path)] + (["--strict"] if strict else [])) == status
    assert sorted(path.name for path in tmp_path.iterdir() if path.is_file()) == sorted(
        LIBRARIES[kind].file for kind in ("pool", "optimizer"))
    err = capsys.readouterr().err
    assert "libms_video_conv.so not built" in err and "scipy-openblas32 is not installed" in err
