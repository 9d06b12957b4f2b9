#!/usr/bin/env bash
# Evaluate exported ONNX models with eval_onnx.py (onnxruntime), in the foreground.
# Usage: bash scripts/run_eval_onnx.sh joint [device_target] [device_id] [dataset] [video_path] \
#          [video_path_joint_flow] [annotation_path] [annotation_path_joint_flow] [rgb_onnx] [flow_onnx] \
#          [eval_onnx.py options...]
#        bash scripts/run_eval_onnx.sh rgb|flow [device_target] [device_id] [dataset] [video_path] [annotation_path] \
#          [onnx] [eval_onnx.py options...]
#   device_target: GPU (CUDA provider when onnxruntime has it) or CPU. The models' input shape fixes the batch size;
#   pass --test_sample_duration/--spatial_size after the arguments when they differ from 64/224.
#   PYTHON_BIN picks the interpreter (default: the repository's .venv, else python3).
# Output: the eval_onnx.py lines on stdout and in ./<mode>_onnx_eval.log (current folder); exit status: eval_onnx.py's.
set -euo pipefail
usage() {
  echo "Usage: bash $0 joint [device_target] [device_id] [dataset] [video_path] [video_path_joint_flow]" \
       "[annotation_path] [annotation_path_joint_flow] [rgb_onnx] [flow_onnx] [eval_onnx.py options...]" >&2
  echo "       bash $0 rgb|flow [device_target] [device_id] [dataset] [video_path] [annotation_path] [onnx]" \
       "[eval_onnx.py options...]" >&2
  exit 1
}
[[ $# -ge 1 ]] || usage
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
mode=$1
case "$mode" in
  joint)
    [[ $# -ge 10 ]] || usage
    args=(--test_mode=joint --device_target="$2" --device_id="$3" --dataset="$4" --video_path="$5"
          --video_path_joint_flow="$6" --annotation_path="$7" --annotation_path_joint_flow="$8" --rgb_path="$9"
          --flow_path="${10}")
    shift 10 ;;
  rgb|flow)
    [[ $# -ge 7 ]] || usage
    args=(--test_mode="$mode" --device_target="$2" --device_id="$3" --dataset="$4" --video_path="$5"
          --annotation_path="$6" --"${mode}_path"="$7")
    shift 7 ;;
  *)
    echo "illegal eval mode: '$mode' (use rgb, flow or joint)" >&2
    exit 1 ;;
esac
log="./${mode}_onnx_eval.log"
echo "eval_onnx.py: $mode -> $log"
status=0
"$py" "$root/eval_onnx.py" "${args[@]}" "$@" 2>&1 | tee "$log" || status=$?
[[ $status -eq 0 ]] || echo "error: eval_onnx.py failed with status $status; see $log" >&2
exit "$status"
