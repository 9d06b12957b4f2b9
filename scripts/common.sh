# Sourced by the launchers: the repository root, the Python interpreter (PYTHON_BIN, else the repository's .venv,
# else python3) and detect_target (Ascend if /dev/davinci* exists, else GPU if an NVIDIA device does, else CPU).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PYTHON_BIN:-$root/.venv/bin/python}"
[[ -x "$py" ]] || py=python3
detect_target() {
  if compgen -G "/dev/davinci[0-9]*" > /dev/null; then echo Ascend
  elif [[ -e /dev/nvidia0 || -e /dev/nvidiactl ]]; then echo GPU
  else echo CPU; fi
}
