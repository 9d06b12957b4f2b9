#!/usr/bin/env bash
# The main job on the built-in sample dataset: install everything into .venv, make the sample videos and
# prepare them completely (frames, TV-L1 flow, n_frames, annotation JSON, ECO-lite frames and lists).
# Usage: bash scripts/quickstart.sh [WORK_DIR, default work_dirs/quickstart]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(realpath -m "${1:-$root/work_dirs/quickstart}")"
start=$(date +%s)
bash "$root/scripts/setup_env.sh"
bash "$root/scripts/prepare_sample_data.sh" "$work/data"
echo
echo "Quick start finished in $(( $(date +%s) - start )) s. Everything is under $work:"
echo "  sample videos and split files : $work/data/raw/ucf101/{videos,splits}"
echo "  I3D rgb frames + annotations  : $work/data/rgb/ucf101/{jpg,annotation}"
echo "  I3D flow frames + annotations : $work/data/flow/ucf101/{jpg,annotation}"
echo "  ECO-lite frames and lists     : $work/data/eco/{ucf101_frames,lists}"
