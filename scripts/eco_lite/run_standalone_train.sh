#!/usr/bin/env bash
# ECO-lite training on one device, in the foreground, with the original's flags
# (docs/differences.md#launch-eco-scripts).
# Usage: bash scripts/eco_lite/run_standalone_train.sh [CHECKPOINT_PATH] [DEVICE_ID] [extra train.py flags...]
#   CHECKPOINT_PATH: weights to start from (ms_model_kinetics_checkpoint0720.ckpt), or "" to train from scratch.
#   Extra flags come after the original's and override them (e.g. --train_list L --val_list L --epochs 2 --input_size 112).
#   Run from the folder that holds data/ (the list paths are relative to it), normally the repository root.
#   DEVICE_TARGET=CPU|GPU|Ascend overrides the detected device; PYTHON_BIN picks the interpreter.
#   Log: ./ecolite_logs/train_standalone_device<DEVICE_ID>.log, copied to ./log.txt (the original README's
#   `grep "loss is " log.txt`); outputs: ./<dataset>bestacc.ckpt, ./ecolite_<dataset>/. Exit status: train.py's.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "Usage: bash scripts/eco_lite/run_standalone_train.sh [CHECKPOINT_PATH] [DEVICE_ID] [extra train.py flags...]" >&2
  exit 1
fi
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
checkpoint_path=$1 device_id=$2
shift 2
target="${DEVICE_TARGET:-$(detect_target)}"
mkdir -p ./ecolite_logs
log="./ecolite_logs/train_standalone_device${device_id}.log"
echo "ECO-lite training on $target device $device_id; log: $log"
status=0
run_logged "$log" training "$py" -u "$root/train.py" "${seed_flags[@]}" --resume "$checkpoint_path" --device_id "$device_id" \
  --device_target "$target" "$@" || status=$?
cp "$log" ./log.txt
exit "$status"
