#!/usr/bin/env bash
# Data-parallel training of one I3D stream over [rank_size] processes (the seed's interface).
# Usage: bash scripts/run_distribute_train.sh [rank_size] [rank_table_file] [dataset] [mode] [num_epochs] [video_path] [annotation_path] [checkpoint_path] [extra train.py flags...]
#   Ascend: one process per device with the HCCL rank table (RANK_TABLE_FILE, RANK_ID, DEVICE_ID).
#   GPU/CPU: MindSpore's msrun launcher; [rank_table_file] is not used there (pass "none").
#   DEVICE_TARGET=CPU|GPU|Ascend overrides the detected device; MASTER_PORT (default 8118) is msrun's port.
#   checkpoint_path may be "" to train from scratch.
#   Logs: ./output_distribute/<dataset>_<mode>_logs/worker_<rank>.log; outputs (rank 0): ./output_distribute/<dataset>_<mode>/.
#   The script waits for every rank and exits non-zero if any rank failed.
set -euo pipefail
if [ $# -lt 8 ]; then
  echo "Usage: bash scripts/run_distribute_train.sh [rank_size] [rank_table_file] [dataset] [mode] [num_epochs] [video_path] [annotation_path] [checkpoint_path] [extra flags...]" >&2
  exit 1
fi
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rank_size=$1 rank_table=$2 dataset=$3 mode=$4 num_epochs=$5 video_path=$6 annotation_path=$7 checkpoint_path=$8
shift 8
if ! [[ "$rank_size" =~ ^[1-9][0-9]*$ ]]; then echo "error: rank_size must be a positive integer, got '$rank_size'" >&2; exit 1; fi
target="${DEVICE_TARGET:-$(detect_target)}"
args=(--dataset="$dataset" --mode="$mode" --num_epochs="$num_epochs" --video_path="$video_path"
      --annotation_path="$annotation_path" --distributed=True --device_target="$target" --save_dir=./output_distribute/)
[ -n "$checkpoint_path" ] && args+=(--checkpoint_path="$checkpoint_path")
log_dir="./output_distribute/${dataset}_${mode}_logs"
mkdir -p "$log_dir"
ulimit -n 65530 2>/dev/null || true
echo "device target: $target, $rank_size rank(s); logs: $log_dir/worker_<rank>.log"

if [ "$target" = "Ascend" ]; then
  if [ ! -f "$rank_table" ]; then echo "error: rank table file '$rank_table' not found" >&2; exit 1; fi
  export RANK_SIZE=$rank_size RANK_TABLE_FILE="$(realpath "$rank_table")" HCCL_CONNECT_TIMEOUT=6000
  pids=()
  for ((i = 0; i < rank_size; i++)); do
    RANK_ID=$i DEVICE_ID=$i "$py" "$root/train.py" "${args[@]}" --device_id="$i" "$@" > "$log_dir/worker_$i.log" 2>&1 &
    pids+=($!)
  done
  failed=0
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then echo "rank $i failed: see $log_dir/worker_$i.log" >&2; failed=1; fi
  done
  exit $failed
fi

export PATH="$(dirname "$py"):$PATH"  # msrun starts its workers with the `python` found on PATH
msrun="$(dirname "$py")/msrun"
[ -x "$msrun" ] || msrun=msrun
"$msrun" --worker_num="$rank_size" --local_worker_num="$rank_size" --master_port="${MASTER_PORT:-8118}" \
  --log_dir="$log_dir" --join=True --cluster_time_out=600 "$root/train.py" "${args[@]}" "$@" || {
  echo "distributed training failed: see $log_dir/worker_<rank>.log" >&2; exit 1; }
