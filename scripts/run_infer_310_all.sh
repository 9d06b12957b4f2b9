#!/usr/bin/env bash
# scripts/run_infer_310.sh for the original's four models, one after the other.
# Usage: bash scripts/run_infer_310_all.sh [MINDIR_HMDB51_RGB] [MINDIR_HMDB51_FLOW] [MINDIR_UCF101_RGB] \
#          [MINDIR_UCF101_FLOW] [DEVICE_ID]
#   DEVICE_ID is optional (default: env DEVICE_ID, else 0). Models, environment and outputs: see run_infer_310.sh
#   (logs ./infer_<dataset>_<mode>.log and ./acc_<dataset>_<mode>.log).
# Every run is attempted; the `eval result` lines are summarised at the end; the exit status is 1 if any failed.
set -euo pipefail
usage() {
  echo "Usage: bash $0 [MINDIR_HMDB51_RGB] [MINDIR_HMDB51_FLOW] [MINDIR_UCF101_RGB] [MINDIR_UCF101_FLOW]" \
       "[DEVICE_ID]" >&2
  exit 1
}
[[ $# -eq 4 || $# -eq 5 ]] || usage
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
device_id="${5:-${DEVICE_ID:-0}}"
models=("$1" "$2" "$3" "$4")
runs=("hmdb51 rgb" "hmdb51 flow" "ucf101 rgb" "ucf101 flow")
failed=() summary=()
for i in "${!runs[@]}"; do
  read -r dataset mode <<< "${runs[$i]}"
  echo "=== $dataset $mode: ${models[$i]}"
  if bash "$here/run_infer_310.sh" "${models[$i]}" "$dataset" "$device_id" "$mode"; then
    summary+=("$dataset $mode: $(grep '^eval result: top_1' "./acc_${dataset}_${mode}.log" | tail -n 1)")
  else
    failed+=("$dataset $mode")
    summary+=("$dataset $mode: failed")
  fi
done
echo "=== summary"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "error: offline inference failed for: ${failed[*]}" >&2
  exit 1
fi
