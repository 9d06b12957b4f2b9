#!/usr/bin/env bash
# Evaluate an rgb and a flow checkpoint and their fusion (eval.py --test_mode=joint), in the foreground.
# Usage: bash scripts/run_joint_eval.sh [device_id] [dataset] [video_path] [video_path_joint_flow] [annotation_path] \
#          [annotation_path_joint_flow] [rgb_path] [flow_path] [eval.py options...]
#   video_path/annotation_path are the rgb stream's, *_joint_flow the flow stream's. Further eval.py options
#   (e.g. --fusion=softmax_avg --scores_path=scores.npz) may follow the eight arguments.
#   DEVICE_TARGET=CPU|GPU|Ascend picks the backend (default: this machine's accelerator, else CPU);
#   PYTHON_BIN picks the interpreter (default: the repository's .venv, else python3).
# Output: the eval.py lines on stdout and in ./joint_eval_log.txt (current folder); exit status: eval.py's.
set -euo pipefail
usage() {
  echo "Usage: bash $0 [device_id] [dataset] [video_path] [video_path_joint_flow] [annotation_path]" \
       "[annotation_path_joint_flow] [rgb_path] [flow_path] [eval.py options...]" >&2
  exit 1
}
[[ $# -ge 8 ]] || usage
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
target="${DEVICE_TARGET:-$(detect_target)}"
device_id=$1 dataset=$2 rgb_video=$3 flow_video=$4 rgb_annotation=$5 flow_annotation=$6 rgb_ckpt=$7 flow_ckpt=$8
shift 8
log="./joint_eval_log.txt"
echo "eval.py: joint $rgb_ckpt + $flow_ckpt on $target device $device_id -> $log"
status=0
"$py" "$root/eval.py" --device_target="$target" --device_id="$device_id" --test_mode=joint --dataset="$dataset" \
  --video_path="$rgb_video" --video_path_joint_flow="$flow_video" --annotation_path="$rgb_annotation" \
  --annotation_path_joint_flow="$flow_annotation" --rgb_path="$rgb_ckpt" --flow_path="$flow_ckpt" "$@" 2>&1 \
  | tee "$log" || status=$?
[[ $status -eq 0 ]] || echo "error: eval.py failed with status $status; see $log" >&2
exit "$status"
