#!/usr/bin/env bash
# Offline inference of one I3D model over preprocess.py's files with the C++ app (ascend_310_infer), then its accuracy
# with postprocess.py (the original's interface), in the foreground.
# Usage: bash scripts/run_infer_310.sh [MINDIR_PATH] [DATASET] [DEVICE_ID] [MODE]
#   MINDIR_PATH: the exported model (relative or absolute). A .mindir runs on an Ascend 310 through MindSpore's C++
#     inference API. A machine without Ascend runs the model's ONNX export on the CPU with ONNX Runtime instead: pass
#     the .onnx, or keep <name>.onnx beside <name>.mindir (export.py --file_format=ONNX with the same --file_name),
#     which is then used with a note. DATASET: hmdb51 or ucf101. DEVICE_ID: the Ascend device. MODE: rgb or flow.
#   Environment: PREPROCESS_RESULT (preprocess.py's --save_dir, default ./preprocess_Result), INFER_BACKEND
#     (auto|onnxruntime|mindspore; default: from the model file and this machine), INFER_BUILD_DIR (the app's build
#     folder, default ascend_310_infer/out), PYTHON_BIN (the interpreter, see scripts/common.sh).
# Output, under the current folder: ./infer_result/<dataset>_<mode>/result_Files/<dataset>_bs<mode>_<i>_0.bin,
#   .../time_Result/test_perform_static.txt and .../scores.npz (per-video scores, as eval.py --scores_path); logs
#   ./infer_<dataset>_<mode>.log (the app), ./acc_<dataset>_<mode>.log (postprocess.py, ending with
#   `eval result: top_1 X%`) and ./infer_result/build.log. Only this run's result_Files and time_Result are replaced.
# Exit status: 0, or 1 with an `error: ...` line.
set -euo pipefail
usage() { echo "Usage: bash $0 [MINDIR_PATH] [DATASET] [DEVICE_ID] [MODE]" >&2; exit 1; }
die() { echo "error: $*" >&2; exit 1; }
[[ $# -eq 4 ]] || usage
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
model=$1 dataset=$2 device_id=$3 mode=$4
case "$dataset" in hmdb51|ucf101) ;; *) die "DATASET must be hmdb51 or ucf101, got '$dataset'" ;; esac
case "$mode" in rgb|flow) ;; *) die "MODE must be rgb or flow, got '$mode'" ;; esac
[[ "$device_id" =~ ^[0-9]+$ ]] || die "DEVICE_ID must be a non-negative integer, got '$device_id'"
[[ -f "$model" ]] || die "model file not found: $model"

choose_infer_backend "python export.py --checkpoint_path=CKPT --mode=$mode --file_format=ONNX \
--file_name=${model%.mindir}, with the --batch_size/--sample_duration/--spatial_size of the MINDIR export"

preprocessed="${PREPROCESS_RESULT:-./preprocess_Result}"
data_dir="$preprocessed/data/$dataset/$mode"
label_dir="$preprocessed/label/$dataset/$mode"
[[ -d "$data_dir" && -d "$label_dir" ]] || die "no preprocessed $dataset $mode files in $preprocessed: run" \
  "scripts/run_preprocess.sh first (or set PREPROCESS_RESULT to its --save_dir)"
out="./infer_result/${dataset}_${mode}"
mkdir -p "$out"
model_abs="$(realpath "$model")" data_abs="$(realpath "$data_dir")"  # the app runs inside $out

build_log=./infer_result/build.log
bash "$root/ascend_310_infer/build.sh" "$backend" > "$build_log" 2>&1 || { tail -n 5 "$build_log" >&2;
  die "building the inference app failed: see $build_log"; }
app="${INFER_BUILD_DIR:-$root/ascend_310_infer/out}/main"

rm -rf "$out/result_Files" "$out/time_Result"
infer_log="./infer_${dataset}_${mode}.log"
echo "inference: $model_abs ($backend) on $data_abs -> $out/result_Files; log $infer_log"
status=0
(cd "$out" && "$app" --mindir_path="$model_abs" --input0_path="$data_abs" --device_id="$device_id" \
  --backend="$backend") 2>&1 | tee "$infer_log" || status=$?
[[ $status -eq 0 ]] || die "the inference app failed with status $status; see $infer_log"

acc_log="./acc_${dataset}_${mode}.log"
"$py" "$root/postprocess.py" --dataset="$dataset" --mode="$mode" --label-path="$label_dir" \
  --result_path="$out/result_Files" --scores_path="$out/scores.npz" 2>&1 | tee "$acc_log" || status=$?
[[ $status -eq 0 ]] || die "postprocess.py failed with status $status; see $acc_log"
