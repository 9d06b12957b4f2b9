#!/usr/bin/env bash
# Evaluate up to eight consecutive checkpoints of one training run (rgb or flow) and summarise their accuracies.
# Usage: bash scripts/run_distributed_single-mode_eval.sh [ckpt_start_id] [mode] [dataset] [annotation_path] \
#          [video_path] [output_ckpt_path] [train_steps] [eval.py options...]
#   Checkpoints: <output_ckpt_path>/i3d-<id>_<train_steps>.ckpt for id = ckpt_start_id .. ckpt_start_id + 7; the ones
#   that do not exist are named and skipped. Further eval.py options may follow the seven arguments.
#   DEVICE_TARGET=CPU|GPU|Ascend (default: this machine's accelerator, else CPU): on Ascend and GPU the checkpoints
#   are evaluated at the same time, the k-th on device k (0..7); on CPU one after another.
#   PYTHON_BIN picks the interpreter (default: the repository's .venv, else python3).
# Output, under ./output_eval/ (current folder; nothing there is deleted, only this run's files are written):
#   eval_<mode>_i3d-<id>_<steps>_log.txt   one eval.py log per checkpoint
#   summary_<mode>_i3d-<first>-<last>_<steps>.txt and summary.txt (a copy: the latest run), alternating lines
#   "checkpoint: <path>" / "<mode> accuracy: <value>" as the original's (value FAILED when that evaluation failed).
# Exit status: 0 when every existing checkpoint was evaluated, 1 otherwise.
set -euo pipefail
usage() {
  echo "Usage: bash $0 [ckpt_start_id] [mode] [dataset] [annotation_path] [video_path] [output_ckpt_path]" \
       "[train_steps] [eval.py options...]" >&2
  exit 1
}
[[ $# -ge 7 ]] || usage
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
target="${DEVICE_TARGET:-$(detect_target)}"
start=$1 mode=$2 dataset=$3 annotation=$4 video=$5 ckpt_dir=$6 steps=$7
shift 7
[[ "$start" =~ ^[0-9]+$ ]] || { echo "error: ckpt_start_id must be a non-negative integer, got '$start'" >&2; exit 1; }
start=$((10#$start))
[[ "$steps" =~ ^[1-9][0-9]*$ ]] || { echo "error: train_steps must be a positive integer, got '$steps'" >&2; exit 1; }
case "$mode" in
  rgb|flow) ;;
  *) echo "error: mode must be rgb or flow, got '$mode'" >&2; exit 1 ;;
esac
[[ -d "$ckpt_dir" ]] || { echo "error: checkpoint folder not found: $ckpt_dir" >&2; exit 1; }

names=() missing=()
last=$((start + 7))
for ((id = start; id <= last; id++)); do
  name="i3d-${id}_${steps}"
  if [[ -f "$ckpt_dir/$name.ckpt" ]]; then names+=("$name"); else missing+=("$name.ckpt"); fi
done
[[ ${#missing[@]} -eq 0 ]] || echo "missing in $ckpt_dir (skipped): ${missing[*]}" >&2
if [[ ${#names[@]} -eq 0 ]]; then
  echo "error: none of the checkpoints i3d-<$start..$last>_$steps.ckpt exist in $ckpt_dir" >&2
  exit 1
fi

out=./output_eval
mkdir -p "$out"
log_of() { echo "$out/eval_${mode}_$1_log.txt"; }
evaluate() {  # evaluate <checkpoint name> <device id> [eval.py options...]
  local name=$1 device=$2
  shift 2
  "$py" "$root/eval.py" --device_target="$target" --device_id="$device" --test_mode="$mode" \
    --"${mode}_path"="$ckpt_dir/$name.ckpt" --dataset="$dataset" --video_path="$video" \
    --annotation_path="$annotation" "$@" > "$(log_of "$name")" 2>&1
}
echo "evaluating ${#names[@]} $mode checkpoint(s) on $target; logs: $out/eval_${mode}_<checkpoint>_log.txt"
statuses=()
if [[ "$target" == CPU ]]; then
  for name in "${names[@]}"; do
    echo "  $name"
    if evaluate "$name" 0 "$@"; then statuses+=(0); else statuses+=(1); fi
  done
else
  pids=()
  for k in "${!names[@]}"; do
    evaluate "${names[$k]}" "$k" "$@" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    if wait "$pid"; then statuses+=(0); else statuses+=(1); fi
  done
fi

summary="$out/summary_${mode}_i3d-${start}-${last}_${steps}.txt"
failed=0
{
  for k in "${!names[@]}"; do
    echo "checkpoint: $ckpt_dir/${names[$k]}.ckpt"
    line=$(grep -m1 "^$mode accuracy: " "$(log_of "${names[$k]}")" || true)
    if [[ ${statuses[$k]} -eq 0 && -n "$line" ]]; then echo "$line"; else echo "$mode accuracy: FAILED"; failed=1; fi
  done
} > "$summary.partial"
mv "$summary.partial" "$summary"
cp "$summary" "$out/summary.txt.partial" && mv "$out/summary.txt.partial" "$out/summary.txt"
cat "$summary"
echo "summary: $summary (also $out/summary.txt)"
if [[ $failed -ne 0 ]]; then
  echo "error: some evaluations failed; see their logs in $out" >&2
  exit 1
fi
