"""Shared fixtures. src.runtime comes first so MindSpore (if a test imports it) loads with the AVX2 cap.

The tiny generated datasets and random checkpoints that several modules use are built once per session here
(tiny_i3d_data, random_i3d_checkpoints, tiny_eco_data); they are shared, so tests treat them as read-only. Long
end-to-end tests carry the `slow` marker (pytest.ini); `pytest -m "not slow"` is the quick run."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import src.runtime  # noqa: E402,F401

import pytest  # noqa: E402


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Every test that needs the C++ offline-inference app (the build_dir fixture, directly or through another
    fixture) is slow: building it takes minutes. Runs before -m deselects."""
    for item in items:
        if "build_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


MODULE_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        item.getparent(pytest.Module).stash[MODULE_FAILED] = True
    return report


@pytest.fixture(scope="module")
def module_mktemp(request, tmp_path_factory):
    """tmp_path_factory.mktemp for a module's shared fixtures, whose folders are deleted when the module ends with
    no failure. pytest's retention policy (pytest.ini) deletes a passing test's own tmp_path at once, but mktemp
    folders only when the whole run passes: kept to the end, the modules' trained runs and exports raised the run's
    peak from about 5 to about 12 GiB."""
    made = []

    def mktemp(name):
        made.append(tmp_path_factory.mktemp(name))
        return made[-1]

    yield mktemp
    if not request.node.stash.get(MODULE_FAILED, False):
        for folder in made:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def onnx_cache(tmp_path_factory):
    """The ONNX Runtime backend's exports (src/predictors.py), which eval.py, demo.py and the other inference entry
    points make on a CPU by default, go to a folder of this session instead of the user's cache (I3D_CACHE_DIR, which
    subprocesses inherit)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("I3D_CACHE_DIR", str(tmp_path_factory.mktemp("i3d_cache")))
        yield


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
def tiny_i3d_data(tmp_path_factory):
    """The tiny prepared I3D data of tests.helpers.make_tiny_i3d_data, built once per session. Shared: treat it as
    read-only (write outputs elsewhere; a test that must change it copies it first)."""
    from tests.helpers import make_tiny_i3d_data

    return make_tiny_i3d_data(tmp_path_factory.mktemp("tiny_i3d_data"))


@pytest.fixture(scope="session")
def random_i3d_checkpoints(tmp_path_factory):
    """Random-init 3-class I3D rgb and flow checkpoints (seed 3), {'rgb': path, 'flow': path}, written once per
    session into their own folder. Read-only."""
    from tests.helpers import make_random_i3d_checkpoints

    return make_random_i3d_checkpoints(tmp_path_factory.mktemp("random_i3d_checkpoints"), seed=3)


@pytest.fixture(scope="session")
def tiny_eco_data(tmp_path_factory):
    """The tiny ECO-lite data of tests.helpers.make_tiny_eco_data (8 frames of 48x32), built once per session.
    Read-only, as tiny_i3d_data."""
    from tests.helpers import make_tiny_eco_data

    return make_tiny_eco_data(tmp_path_factory.mktemp("tiny_eco_data"))


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
