#!/usr/bin/env bash
# Data-parallel training of one I3D stream over [rank_size] processes (the original's interface).
# Usage: bash scripts/run_distribute_train.sh [rank_size] [rank_table_file] [dataset] [mode] [num_epochs] [video_path] [annotation_path] [checkpoint_path] [extra train.py flags...]
#   Ascend: one process per device with the HCCL rank table (RANK_TABLE_FILE, RANK_ID, DEVICE_ID).
#   GPU/CPU: MindSpore's msrun launcher; [rank_table_file] is not used there (pass "none").
#   DEVICE_TARGET=CPU|GPU|Ascend overrides the detected device; MASTER_PORT (default 8118) is msrun's port.
#   checkpoint_path may be "" to train from scratch.
#   Logs: ./output_distribute/<dataset>_<mode>_logs/worker_<rank>.log; outputs (rank 0):
#   ./output_distribute/<dataset>_<mode>_device0/, as the original's README names them.
#   The script waits for every rank and exits non-zero if any rank failed.
#   ECO-lite's original command line, [RANK_TABLE_FILE] [DEVICE_NUM] (two arguments), runs
#   scripts/eco_lite/run_distribute_train.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
launch_for_model 8 "$root/scripts/eco_lite/run_distribute_train.sh" \
  "bash scripts/run_distribute_train.sh [rank_size] [rank_table_file] [dataset] [mode] [num_epochs] [video_path] [annotation_path] [checkpoint_path] [extra flags...]" \
  "bash scripts/run_distribute_train.sh [RANK_TABLE_FILE] [DEVICE_NUM] [extra flags...]" "$@"
rank_size=$1 rank_table=$2 dataset=$3 mode=$4 num_epochs=$5 video_path=$6 annotation_path=$7 checkpoint_path=$8
shift 8
if ! [[ "$rank_size" =~ ^[1-9][0-9]*$ ]]; then echo "error: rank_size must be a positive integer, got '$rank_size'" >&2; exit 1; fi
target="${DEVICE_TARGET:-$(detect_target)}"
args=(--dataset="$dataset" --mode="$mode" --num_epochs="$num_epochs" --video_path="$video_path"
      --annotation_path="$annotation_path" --distributed=True --device_target="$target" --save_dir=./output_distribute/)
[ -n "$checkpoint_path" ] && args+=(--checkpoint_path="$checkpoint_path")
log_dir="./output_distribute/${dataset}_${mode}_logs"
echo "device target: $target, $rank_size rank(s); logs: $log_dir/worker_<rank>.log"
launch_data_parallel "$rank_size" "$rank_table" "$log_dir" "${MASTER_PORT:-8118}" "$root/train.py" "${args[@]}" "$@"
