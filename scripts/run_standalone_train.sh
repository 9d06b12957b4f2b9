#!/usr/bin/env bash
# Train one I3D stream on one device (the original's interface).
# Usage: bash scripts/run_standalone_train.sh [device_id] [dataset] [mode] [num_epochs] [video_path] [annotation_path] [checkpoint_path] [extra train.py flags...]
#   checkpoint_path may be "" to train from scratch. DEVICE_TARGET=CPU|GPU|Ascend overrides the detected device.
#   Log: ./output_standalone/<dataset>_<mode>_device<id>_log.txt; outputs: ./output_standalone/<dataset>_<mode>/.
#   ECO-lite's original command line, [CHECKPOINT_PATH] [DEVICE_ID] (two arguments), runs
#   scripts/eco_lite/run_standalone_train.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
launch_for_model 7 "$root/scripts/eco_lite/run_standalone_train.sh" \
  "bash scripts/run_standalone_train.sh [device_id] [dataset] [mode] [num_epochs] [video_path] [annotation_path] [checkpoint_path] [extra flags...]" \
  "bash scripts/run_standalone_train.sh [CHECKPOINT_PATH] [DEVICE_ID] [extra flags...]" "$@"
device_id=$1 dataset=$2 mode=$3 num_epochs=$4 video_path=$5 annotation_path=$6 checkpoint_path=$7
shift 7
args=(--device_id="$device_id" --dataset="$dataset" --mode="$mode" --num_epochs="$num_epochs"
      --video_path="$video_path" --annotation_path="$annotation_path" --save_dir=./output_standalone/)
[ -n "$checkpoint_path" ] && args+=(--checkpoint_path="$checkpoint_path")
[ -n "${DEVICE_TARGET:-}" ] && args+=(--device_target="$DEVICE_TARGET")
ulimit -n 65530 2>/dev/null || true
mkdir -p ./output_standalone
log="./output_standalone/${dataset}_${mode}_device${device_id}_log.txt"
echo "training log: $log"
"$py" "$root/train.py" "${args[@]}" "$@" 2>&1 | tee "$log"
