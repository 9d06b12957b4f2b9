#!/usr/bin/env bash
# ECO-lite evaluation of one checkpoint on the validation list, in the foreground, with the original's flags
# (docs/differences.md#launch-eco-scripts).
# Usage: bash scripts/eco_lite/run_eval.sh [CHECKPOINT_PATH] [DEVICE_ID] [extra eval.py flags...]
#   Extra flags come after the original's and override them (e.g. --val_list L --input_size 112 --num_classes 6).
#   Run from the folder that holds data/ (the list paths are relative to it), normally the repository root.
#   DEVICE_TARGET=CPU|GPU|Ascend overrides the detected device; PYTHON_BIN picks the interpreter.
#   Log: ./ecolite_logs/eval_device<DEVICE_ID>.log, copied to ./log.txt, with the line {'Loss': ..., 'Top1-Acc': ...,
#   'Top5-Acc': ...} and an "Acc:" line (the original README's `grep "Acc:" log.txt`).
#   Exit status: eval.py's (1 for a missing checkpoint).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "Usage: bash scripts/eco_lite/run_eval.sh [CHECKPOINT_PATH] [DEVICE_ID] [extra eval.py flags...]" >&2
  exit 1
fi
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
checkpoint_path=$1 device_id=$2
shift 2
target="${DEVICE_TARGET:-$(detect_target)}"
mkdir -p ./ecolite_logs
log="./ecolite_logs/eval_device${device_id}.log"
echo "ECO-lite evaluation of $checkpoint_path on $target device $device_id; log: $log"
status=0
run_logged "$log" evaluation "$py" -u "$root/eval.py" "${seed_flags[@]}" --evaluate True --resume "$checkpoint_path" \
  --device_id "$device_id" --device_target "$target" "$@" || status=$?
cp "$log" ./log.txt
exit "$status"
