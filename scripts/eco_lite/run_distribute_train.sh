#!/usr/bin/env bash
# ECO-lite data-parallel training over [DEVICE_NUM] processes, with the seed's flags (spec B.11): --lr 0.008,
# --run_distribute=True, --resume ms_model_kinetics_checkpoint0720.ckpt.
# Usage: bash scripts/eco_lite/run_distribute_train.sh [RANK_TABLE_FILE] [DEVICE_NUM] [extra train.py flags...]
#   Ascend: one process per device with the HCCL rank table (RANK_TABLE_FILE, RANK_ID, DEVICE_ID, RANK_SIZE).
#   GPU/CPU: MindSpore's msrun launcher; RANK_TABLE_FILE is not used there (pass "none").
#   Extra flags come after the seed's and override them (e.g. --resume "" --train_list L --val_list L --epochs 2).
#   Run from the folder that holds data/ (the list paths are relative to it), normally the repository root.
#   DEVICE_TARGET=CPU|GPU|Ascend overrides the detected device; MASTER_PORT (default 8128) is msrun's port.
#   Logs: ./ecolite_logs/distribute/worker_<rank>.log (rank 0 is also shown); outputs (rank 0): ./<dataset>bestacc.ckpt,
#   ./ecolite_<dataset>/. The script waits for every rank and exits non-zero if any rank failed.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "Usage: bash scripts/eco_lite/run_distribute_train.sh [RANK_TABLE_FILE] [DEVICE_NUM] [extra train.py flags...]" >&2
  exit 1
fi
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
rank_table=$1 device_num=$2
shift 2
if ! [[ "$device_num" =~ ^[1-9][0-9]*$ ]]; then echo "error: DEVICE_NUM must be a positive integer, got '$device_num'" >&2; exit 1; fi
target="${DEVICE_TARGET:-$(detect_target)}"
args=(--dataset ucf101 --modality RGB --train_list data/ucf101_rgb_train_split_1.txt
      --val_list data/ucf101_rgb_val_split_1.txt --arch ECO --num_segments 4 --lr 0.008 --num_saturate 5 --epochs 60
      --batch-size 16 --dropout 0.7 --consensus_type identity --rgb_prefix img_ --no_partialbn True --nesterov True
      --run_distribute=True --resume ms_model_kinetics_checkpoint0720.ckpt --device_target "$target")
log_dir="./ecolite_logs/distribute"
mkdir -p "$log_dir"
ulimit -n 65530 2>/dev/null || true
echo "ECO-lite distributed training on $target, $device_num rank(s); logs: $log_dir/worker_<rank>.log"

if [ "$target" = "Ascend" ]; then
  if [ ! -f "$rank_table" ]; then echo "error: rank table file '$rank_table' not found" >&2; exit 1; fi
  export RANK_TABLE_FILE="$(realpath "$rank_table")" DEVICE_NUM=$device_num RANK_SIZE=$device_num HCCL_CONNECT_TIMEOUT=360
  pids=()
  for ((i = 0; i < device_num; i++)); do
    if [ "$i" -eq 0 ]; then
      (set -o pipefail; RANK_ID=0 DEVICE_ID=0 "$py" -u "$root/train.py" "${args[@]}" --device_id 0 "$@" 2>&1 \
        | tee "$log_dir/worker_0.log") &
    else
      RANK_ID=$i DEVICE_ID=$i "$py" -u "$root/train.py" "${args[@]}" --device_id "$i" "$@" > "$log_dir/worker_$i.log" 2>&1 &
    fi
    pids+=($!)
  done
  failed=0
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then echo "error: rank $i failed: see $log_dir/worker_$i.log" >&2; failed=1; fi
  done
  exit $failed
fi

export PATH="$(dirname "$py"):$PATH"  # msrun starts its workers with the `python` found on PATH
msrun="$(dirname "$py")/msrun"
[ -x "$msrun" ] || msrun=msrun
status=0
"$msrun" --worker_num="$device_num" --local_worker_num="$device_num" --master_port="${MASTER_PORT:-8128}" \
  --log_dir="$log_dir" --join=True --cluster_time_out=600 --tail_worker_log=0 "$root/train.py" "${args[@]}" "$@" \
  || status=$?
[[ $status -eq 0 ]] || echo "error: distributed training failed (status $status): see $log_dir/worker_<rank>.log" >&2
exit "$status"
