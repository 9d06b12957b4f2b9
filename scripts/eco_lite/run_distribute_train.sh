#!/usr/bin/env bash
# ECO-lite data-parallel training over [DEVICE_NUM] processes, with the original's flags
# (docs/differences.md#launch-eco-scripts): --lr 0.008,
# --run_distribute=True, --resume ms_model_kinetics_checkpoint0720.ckpt.
# Usage: bash scripts/eco_lite/run_distribute_train.sh [RANK_TABLE_FILE] [DEVICE_NUM] [extra train.py flags...]
#   Ascend: one process per device with the HCCL rank table (RANK_TABLE_FILE, RANK_ID, DEVICE_ID, RANK_SIZE).
#   GPU/CPU: MindSpore's msrun launcher; RANK_TABLE_FILE is not used there (pass "none").
#   Extra flags come after the original's and override them (e.g. --resume "" --train_list L --val_list L --epochs 2).
#   Run from the folder that holds data/ (the list paths are relative to it), normally the repository root.
#   DEVICE_TARGET=CPU|GPU|Ascend overrides the detected device; MASTER_PORT (default 8128) is msrun's port.
#   Logs: ./ecolite_logs/distribute/worker_<rank>.log (rank 0 is also shown); outputs (rank 0): ./<dataset>bestacc.ckpt,
#   ./ecolite_<dataset>/. The script waits for every rank and exits non-zero if any rank failed.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "Usage: bash scripts/eco_lite/run_distribute_train.sh [RANK_TABLE_FILE] [DEVICE_NUM] [extra train.py flags...]" >&2
  exit 1
fi
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rank_table=$1 device_num=$2
shift 2
if ! [[ "$device_num" =~ ^[1-9][0-9]*$ ]]; then echo "error: DEVICE_NUM must be a positive integer, got '$device_num'" >&2; exit 1; fi
target="${DEVICE_TARGET:-$(detect_target)}"
args=("${seed_flags[@]}" --lr 0.008 --run_distribute=True --resume ms_model_kinetics_checkpoint0720.ckpt
      --log_interval 50 --device_target "$target")
log_dir="./ecolite_logs/distribute"
echo "ECO-lite distributed training on $target, $device_num rank(s); logs: $log_dir/worker_<rank>.log"
export HCCL_CONNECT_TIMEOUT="${HCCL_CONNECT_TIMEOUT:-360}"  # the original's value
launch_data_parallel "$device_num" "$rank_table" "$log_dir" "${MASTER_PORT:-8128}" "$root/train.py" "${args[@]}" "$@"
