#!/usr/bin/env bash
# Evaluate one rgb or flow checkpoint on the validation subset with eval.py, in the foreground.
# Usage: bash scripts/run_single_eval.sh [device_id] [mode] [dataset] [ckpt_path] [video_path] [annotation_path] \
#          [eval.py options...]
#   mode: rgb or flow. Further eval.py options (e.g. --batch_size=4 --num_clips=3) may follow the six arguments.
#   DEVICE_TARGET=CPU|GPU|Ascend picks the backend (default: this machine's accelerator, else CPU);
#   PYTHON_BIN picks the interpreter (default: the repository's .venv, else python3).
# Output: the eval.py lines on stdout and in ./single_eval_<mode>_log.txt (current folder); exit status: eval.py's.
set -euo pipefail
usage() {
  echo "Usage: bash $0 [device_id] [mode] [dataset] [ckpt_path] [video_path] [annotation_path] [eval.py options...]" >&2
  exit 1
}
[[ $# -ge 6 ]] || usage
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
target="${DEVICE_TARGET:-$(detect_target)}"
device_id=$1 mode=$2 dataset=$3 ckpt=$4 video=$5 annotation=$6
shift 6
case "$mode" in
  rgb|flow) ;;
  *) echo "error: mode must be rgb or flow, got '$mode'" >&2; exit 1 ;;
esac
log="./single_eval_${mode}_log.txt"
echo "eval.py: $mode checkpoint $ckpt on $target device $device_id -> $log"
status=0
"$py" "$root/eval.py" --device_target="$target" --device_id="$device_id" --test_mode="$mode" \
  --"${mode}_path"="$ckpt" --dataset="$dataset" --video_path="$video" --annotation_path="$annotation" "$@" 2>&1 \
  | tee "$log" || status=$?
[[ $status -eq 0 ]] || echo "error: eval.py failed with status $status; see $log" >&2
exit "$status"
