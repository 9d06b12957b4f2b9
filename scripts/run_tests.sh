#!/usr/bin/env bash
# Install everything the test suite needs into .venv, then run it. Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup_env.sh" requirements-dev.txt
cd "$root"
# The full suite's checkpoints and exports peak at about 5 GiB under the temporary folder (tests/conftest.py and
# pytest.ini delete them as tests pass); say so before a long run ends in "No space left on device".
scratch="$(.venv/bin/python -c 'import tempfile; print(tempfile.gettempdir())')"
free_gib="$(df -Pk "$scratch" | awk 'NR == 2 {print int($4 / 1048576)}')"
if (( free_gib < 8 )); then
    echo "[tests] warning: $scratch has ${free_gib} GiB free; the full suite needs about 5 GiB there (set TMPDIR to use another folder)" >&2
fi
exec .venv/bin/python -m pytest tests "$@"
