#!/usr/bin/env bash
# preprocess.py for the original's four models, one after the other: hmdb51 rgb, ucf101 rgb, hmdb51 flow, ucf101 flow.
# Usage: bash scripts/run_preprocess_all.sh [rank_size] [preprocess.py options...]
#   rank_size: processes per run (default: the CPU count, at most 8). Data paths are the original README's, relative to
#   the current folder (DATA_ROOT, default "."): $DATA_ROOT/{rgb,flow}/<dataset>/jpg and
#   $DATA_ROOT/{rgb,flow}/<dataset>/annotation/{hmdb51_1,ucf101_01}.json.
# Output: ./preprocess_Result/ (or --save_dir) and ./output_preprocess/ logs, as run_preprocess.sh; nothing is deleted.
# Every run is attempted; the exit status is 1 if any failed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cpus=$(nproc 2> /dev/null || echo 1)
rank_size=${1:-$((cpus < 8 ? cpus : 8))}
[[ $# -gt 0 ]] && shift
data_root="${DATA_ROOT:-.}"
failed=()
for run in "hmdb51 rgb 40 hmdb51_1" "ucf101 rgb 40 ucf101_01" "hmdb51 flow 60 hmdb51_1" "ucf101 flow 60 ucf101_01"; do
  read -r dataset mode epochs split <<< "$run"
  echo "=== $dataset $mode"
  bash "$here/run_preprocess.sh" "$rank_size" none "$dataset" "$mode" "$epochs" "$data_root/$mode/$dataset/jpg" \
    "$data_root/$mode/$dataset/annotation/$split.json" "" "$@" || failed+=("$dataset $mode")
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "error: preprocessing failed for: ${failed[*]}" >&2
  exit 1
fi
