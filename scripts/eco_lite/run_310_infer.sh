#!/usr/bin/env bash
# ECO-lite offline inference (the original's scripts/run_310_infer.sh, with the fixes of
# docs/differences.md#offline-eco-launcher): writes the validation clips with get_310_eval_dataset.py at BATCH_SIZE,
# builds the C++ app (ascend_310_infer), runs it and
# scores the results with postprocess.py, all in the foreground.
# Usage: bash scripts/eco_lite/run_310_infer.sh [MINDIR_PATH] [EVAL_DATA_DIR] [DEVICE_ID] [BATCH_SIZE] [flags...]
#   MINDIR_PATH: the exported model (export.py --dataset ... --batch-size BATCH_SIZE), relative or absolute. A .mindir
#     runs on an Ascend 310 through MindSpore's C++ API; a machine without Ascend runs the ONNX export on the CPU
#     instead: pass the .onnx, or keep <name>.onnx beside <name>.mindir (same --file_name), used with a note.
#   EVAL_DATA_DIR: where the eval_data_<i>_.bin files go (created; never emptied: a rerun with the same options
#     resumes, other options are refused). DEVICE_ID: the Ascend device. BATCH_SIZE: the model's batch.
#   flags: --val_list LIST (default ./data/ucf101_rgb_val_split_1.txt, as the original), --dataset D (default ucf101);
#     any other flag goes to get_310_eval_dataset.py (e.g. --input_size 112 --num_classes 6 --num_segments 4).
#   Environment: INFER_BACKEND (auto|onnxruntime|mindspore), INFER_BUILD_DIR (default ascend_310_infer/out),
#     PYTHON_BIN (the interpreter).
# Output, under the current folder: labels EVAL_DATA_DIR/label/{eval_label_bs<B>.npy,preprocess_info.json};
#   ./infer_result/eco_lite/result_Files/eval_predict_<i>_.bin, .../time_Result/test_perform_static.txt,
#   .../scores.npz (per-video scores, as eval.py --scores_path); logs ./infer_result/eco_lite/build.log,
#   ./infer_eco_lite.log (the app) and ./acc_eco_lite.log (postprocess.py, ending with
#   `Total data: N, top1 accuracy: x, top5 accuracy: y.`). Only this run's result_Files and time_Result are replaced.
# Exit status: 0, or 1 with an `error: ...` line.
set -euo pipefail
usage() {
  echo "Usage: bash $0 [MINDIR_PATH] [EVAL_DATA_DIR] [DEVICE_ID] [BATCH_SIZE] [--val_list LIST] [--dataset D]" \
       "[get_310_eval_dataset.py flags...]" >&2
  exit 1
}
die() { echo "error: $*" >&2; exit 1; }
[[ $# -ge 4 ]] || usage
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
model=$1 data_dir=$2 device_id=$3 batch_size=$4
shift 4
val_list=./data/ucf101_rgb_val_split_1.txt dataset=ucf101 extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --val_list|--dataset) [[ $# -ge 2 ]] || die "$1 needs a value"
      if [[ $1 == --val_list ]]; then val_list=$2; else dataset=$2; fi; shift 2 ;;
    --val_list=*) val_list=${1#*=}; shift ;;
    --dataset=*) dataset=${1#*=}; shift ;;
    *) extra+=("$1"); shift ;;
  esac
done
[[ "$device_id" =~ ^[0-9]+$ ]] || die "DEVICE_ID must be a non-negative integer, got '$device_id'"
[[ "$batch_size" =~ ^[1-9][0-9]*$ ]] || die "BATCH_SIZE must be a positive integer, got '$batch_size'"
[[ -f "$model" ]] || die "model file not found: $model"
[[ -f "$val_list" ]] || die "validation list not found: $val_list (pass --val_list LIST)"

choose_infer_backend "python export.py --dataset $dataset --checkpoint_path=CKPT --file_format=ONNX \
--file_name=${model%.mindir} --batch-size $batch_size, with the --input_size/--num_classes of the MINDIR export"

out=./infer_result/eco_lite
mkdir -p "$out"
echo "ECO-lite validation clips: $val_list -> $data_dir (batch $batch_size)"
"$py" "$root/get_310_eval_dataset.py" "$dataset" RGB "$val_list" "$data_dir" -b "$batch_size" --no-progress \
  "${extra[@]}" || die "get_310_eval_dataset.py failed"
model_abs="$(realpath "$model")" data_abs="$(realpath "$data_dir")"  # the app runs inside $out

build_log="$out/build.log"
bash "$root/ascend_310_infer/build.sh" "$backend" > "$build_log" 2>&1 || { tail -n 5 "$build_log" >&2;
  die "building the inference app failed: see $build_log"; }
app="${INFER_BUILD_DIR:-$root/ascend_310_infer/out}/main"

rm -rf "$out/result_Files" "$out/time_Result"
infer_log=./infer_eco_lite.log
echo "inference: $model_abs ($backend) on $data_abs -> $out/result_Files; log $infer_log"
status=0
(cd "$out" && "$app" --mindir_path="$model_abs" --input0_path="$data_abs" --device_id="$device_id" \
  --backend="$backend" --result_name=predict) 2>&1 | tee "$infer_log" || status=$?
[[ $status -eq 0 ]] || die "the inference app failed with status $status; see $infer_log"

acc_log=./acc_eco_lite.log
"$py" "$root/postprocess.py" --result_path "$out/result_Files" --label_path "$data_dir/label/" \
  --batch_size "$batch_size" --scores_path "$out/scores.npz" 2>&1 | tee "$acc_log" || status=$?
[[ $status -eq 0 ]] || die "postprocess.py failed with status $status; see $acc_log"
