"""Shared fixtures. src.runtime comes first so MindSpore (if a test imports it) loads with the AVX2 cap."""
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import src.runtime  # noqa: E402,F401
