#!/usr/bin/env bash
# Install everything the test suite needs into .venv, then run it. Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup_env.sh" requirements-dev.txt
cd "$root"
exec .venv/bin/python -m pytest tests "$@"
