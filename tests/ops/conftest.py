"""The compiled kernels of src/ops, built once per session into a temporary folder."""
import pytest

from src.ops import library
from src.ops.build import build


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The folder holding every library; skips where one cannot be built (no compiler, no OpenBLAS)."""
    folder = tmp_path_factory.mktemp("ops")
    try:
        for kind in library.LIBRARIES:
            build(kind, folder)
    except RuntimeError as error:
        pytest.skip(f"no compiled kernels: {error}")
    return folder


@pytest.fixture
def use_library(built, monkeypatch):
    """Make the networks' layer factories pick the freshly built libraries."""
    monkeypatch.setenv(library.ENV_VARIABLE, str(built))
    library.library_path.cache_clear()
    yield built
    library.library_path.cache_clear()


@pytest.fixture
def without_library(monkeypatch):
    """Make the factories fall back to MindSpore's own layers."""
    monkeypatch.setenv(library.ENV_VARIABLE, "off")
    library.library_path.cache_clear()
    yield
    library.library_path.cache_clear()
