#!/usr/bin/env bash
# Write the validation clips and labels for offline inference with preprocess.py (the original's interface), in the
# foreground, over [rank_size] processes that each write their own share of the batch files.
# Usage: bash scripts/run_preprocess.sh [rank_size] [rank_table_file] [dataset] [mode] [num_epochs] [video_path] \
#          [annotation_path] [checkpoint_path] [preprocess.py options...]
#   rank_table_file, num_epochs and checkpoint_path are the original's and are not needed: preprocessing runs on the CPU
#   without communication (pass "none", a number and "" if you like). Options after the eight arguments go to
#   preprocess.py, e.g. --test_sample_duration=64 --spatial_size=224 --batch_size=8 --save_dir=DIR; they must match
#   the model's export.
#   PYTHON_BIN picks the interpreter (default: the repository's .venv, else python3).
# Output: ./preprocess_Result/{data,label}/<dataset>/<mode>/ (or --save_dir); logs
#   ./output_preprocess/<dataset>/<mode>/<dataset>_<mode>_device<i>_log.txt. Nothing is deleted; a rerun resumes.
# Exit status: 0 when every process succeeded, else 1 (naming the failed processes' logs).
set -euo pipefail
usage() {
  echo "Usage: bash $0 [rank_size] [rank_table_file] [dataset] [mode] [num_epochs] [video_path] [annotation_path]" \
       "[checkpoint_path] [preprocess.py options...]" >&2
  exit 1
}
[[ $# -ge 8 ]] || usage
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rank_size=$1 dataset=$3 mode=$4 num_epochs=$5 video_path=$6 annotation_path=$7
shift 8
if ! [[ "$rank_size" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: rank_size must be a positive integer, got '$rank_size'" >&2
  exit 1
fi
case "$mode" in
  rgb|flow) ;;
  *) echo "error: mode must be rgb or flow, got '$mode'" >&2; exit 1 ;;
esac
log_dir="./output_preprocess/$dataset/$mode"
mkdir -p "$log_dir"
args=(--dataset="$dataset" --mode="$mode" --num_epochs="$num_epochs" --video_path="$video_path"
      --annotation_path="$annotation_path" --distributed=True --device_num="$rank_size" --sink_mode=False)
echo "preprocess.py: $dataset $mode over $rank_size process(es); logs: $log_dir/${dataset}_${mode}_device<i>_log.txt"
pids=()
for ((i = 0; i < rank_size; i++)); do
  RANK_SIZE=$rank_size RANK_ID=$i DEVICE_ID=$i "$py" "$root/preprocess.py" "${args[@]}" --device_id="$i" "$@" \
    > "$log_dir/${dataset}_${mode}_device${i}_log.txt" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  log="$log_dir/${dataset}_${mode}_device${i}_log.txt"
  if wait "${pids[$i]}"; then
    grep -E '^(labels:|(process [0-9]+ of [0-9]+: )?wrote )' "$log" || true
  else
    echo "error: process $i failed: see $log" >&2
    tail -n 3 "$log" >&2
    failed=1
  fi
done
exit $failed
