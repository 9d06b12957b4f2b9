"""Shared fixtures. src.runtime comes first so MindSpore (if a test imports it) loads with the AVX2 cap."""
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import src.runtime  # noqa: E402,F401

import pytest  # noqa: E402


@pytest.fixture
def pynative_mode():
    """Run a test in PYNATIVE mode and restore the previous mode afterwards."""
    import mindspore as ms

    previous = ms.get_context("mode")
    ms.set_context(mode=ms.PYNATIVE_MODE)
    yield
    ms.set_context(mode=previous)


@pytest.fixture
def read_log(monkeypatch):
    """Record every frame file the datasets decode."""
    import src.data.pipeline as pipeline

    paths = []
    original = pipeline.read_image

    def recording_read_image(path, grayscale=False):
        paths.append(os.path.basename(path))
        return original(path, grayscale)

    monkeypatch.setattr(pipeline, "read_image", recording_read_image)
    return paths


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory):
    """The offline-inference app (ascend_310_infer/, ONNX Runtime backend), built once into a temporary folder; the
    launchers find it through INFER_BUILD_DIR."""
    build = tmp_path_factory.mktemp("infer_build")
    env = dict(os.environ, PYTHON_BIN=sys.executable, INFER_BUILD_DIR=str(build))
    result = subprocess.run(["bash", str(REPO_ROOT / "ascend_310_infer/build.sh"), "onnxruntime"], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (build / "main").is_file()
    return build
