#!/usr/bin/env bash
# The main job on the built-in sample dataset, start to finish:
#   install everything into .venv; make the sample videos and prepare them with the original's tools;
#   train I3D rgb and flow from scratch; fine-tune I3D rgb from DeepMind's Kinetics-400 weights; evaluate rgb, flow
#   and joint; export MINDIR and ONNX; evaluate the ONNX models through onnxruntime; print one results table and
#   check ONNX predicts what MindSpore predicts;
#   train, evaluate and export ECO-lite; classify one raw video with the demo; label a long video window by window
#   (timeline); plot the training curves.
# Every step is resumable: run it again and finished work is skipped (training continues from its checkpoints).
# Usage: bash scripts/quickstart.sh [WORK_DIR, default work_dirs/quickstart]
#   QUICKSTART_EPOCHS, QUICKSTART_ECO_EPOCHS, QUICKSTART_K400_EPOCHS and QUICKSTART_BATCH override the I3D epochs
#   (30), the ECO-lite epochs (15), the Kinetics-400 fine-tuning epochs (8) and the batch size (8): a shorter try
#   gives lower accuracy. QUICKSTART_K400_CROP (112) is the fine-tuning's crop. SAMPLE_DATASET_ARGS and
#   SAMPLE_FRAME_SIZE shrink the dataset (see prepare_sample_data.sh); the tests use all of these to run this whole
#   script at a tiny size.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(realpath -m "${1:-$root/work_dirs/quickstart}")"
epochs="${QUICKSTART_EPOCHS:-30}"
eco_epochs="${QUICKSTART_ECO_EPOCHS:-15}"
batch="${QUICKSTART_BATCH:-8}"
k400_epochs="${QUICKSTART_K400_EPOCHS:-8}"
k400_crop="${QUICKSTART_K400_CROP:-112}"
start=$(date +%s)
bash "$root/scripts/setup_env.sh"
bash "$root/scripts/prepare_sample_data.sh" "$work/data"
py="$root/.venv/bin/python"
cd "$root"
step() { echo; echo "== [$(( $(date +%s) - start )) s] $*"; }

data="$work/data"
num_classes=$(wc -l < "$data/raw/ucf101/label_map.txt")
# Small clips keep the run short on a CPU: 16 frames of 64x64 instead of the original's 64 of 224x224.
clip=(--spatial_size 64 --test_sample_duration 16)
eval_clips=(--num_clips 3)  # three 16-frame windows per video, scores averaged
stream_data() { echo "--video_path $data/$1/ucf101/jpg --annotation_path $data/$1/ucf101/annotation/ucf101_01.json"; }
final_checkpoint() { ls "$work/i3d/ucf101_$1/checkpoints/" | grep -E "^i3d-${epochs}_[0-9]+\.ckpt$" | head -1; }

for mode in rgb flow; do
  step "I3D $mode: train $epochs epochs from scratch -> $work/i3d/ucf101_$mode"
  # shellcheck disable=SC2046
  "$py" train.py --dataset ucf101 --mode "$mode" $(stream_data "$mode") --num_classes "$num_classes" "${clip[@]}" \
    --train_sample_duration 16 \
    --batch_size "$batch" --num_workers 2 --optimizer adam --lr 0.001 --lr_de_epochs 6 --bn_momentum 0.1 \
    --num_epochs "$epochs" --checkpoints_num_keep 2 --save_dir "$work/i3d" --resume
done

# Kinetics features need objects at a scale near the one they were trained at, so fine-tuning reads frames made
# from the same videos with the short side at 8/7 of a 112-pixel crop (the original: 256 for 224).
k400_data="$data/rgb_k400/ucf101"
k400_ckpt="$work/pretrained/rgb_kinetics400.ckpt"
k400_run="$work/i3d_kinetics400/ucf101_rgb"
step "I3D rgb: frames for fine-tuning (short side $(( k400_crop * 8 / 7 ))) and DeepMind's Kinetics-400 weights"
"$py" -m src.tools.generate_rgb_jpgs "$data/raw/ucf101/videos" "$k400_data/jpg" ucf101 --size $(( k400_crop * 8 / 7 ))
"$py" -m src.tools.generate_n_frames "$k400_data/jpg"
"$py" -m src.tools.ucf101_json "$data/raw/ucf101/splits" "$k400_data/jpg" "$k400_data/annotation"
[[ -f "$k400_ckpt" ]] || "$py" -m src.tools.pt2ckpt --pretrained_path=kinetics400 --save_path="$k400_ckpt"
step "I3D rgb: fine-tune $k400_epochs epochs from Kinetics-400 (new head; logits and Mixed_5 train) -> $k400_run"
"$py" train.py --dataset ucf101 --mode rgb --video_path "$k400_data/jpg" \
  --annotation_path "$k400_data/annotation/ucf101_01.json" --checkpoint_path "$k400_ckpt" \
  --spatial_size "$k400_crop" --train_sample_duration 16 --test_sample_duration 16 --batch_size "$batch" \
  --num_workers 2 --optimizer adam --lr 0.001 --lr_de_epochs 2 --num_epochs "$k400_epochs" \
  --checkpoints_num_keep 2 --save_dir "$work/i3d_kinetics400" --resume
k400_final="$k400_run/checkpoints/$(ls "$k400_run/checkpoints/" | grep -E "^i3d-${k400_epochs}_[0-9]+\.ckpt$" |
  head -1)"

rgb_ckpt="$work/i3d/ucf101_rgb/checkpoints/$(final_checkpoint rgb)"
flow_ckpt="$work/i3d/ucf101_flow/checkpoints/$(final_checkpoint flow)"
joint_data=(--video_path "$data/rgb/ucf101/jpg" --annotation_path "$data/rgb/ucf101/annotation/ucf101_01.json"
            --video_path_joint_flow "$data/flow/ucf101/jpg"
            --annotation_path_joint_flow "$data/flow/ucf101/annotation/ucf101_01.json")

step "I3D: evaluate rgb, flow and joint (the final checkpoints)"
"$py" eval.py --dataset ucf101 --test_mode joint --rgb_path "$rgb_ckpt" --flow_path "$flow_ckpt" "${joint_data[@]}" \
  --num_classes "$num_classes" "${clip[@]}" "${eval_clips[@]}" --batch_size "$batch" --num_workers 2 \
  --scores_path "$work/results/mindspore_scores.npz" --report_dir "$work/results/report" --backend mindspore
step "I3D rgb fine-tuned from Kinetics-400: evaluate the final checkpoint"
"$py" eval.py --dataset ucf101 --test_mode rgb --rgb_path "$k400_final" --video_path "$k400_data/jpg" \
  --annotation_path "$k400_data/annotation/ucf101_01.json" --num_classes "$num_classes" \
  --spatial_size "$k400_crop" --test_sample_duration 16 "${eval_clips[@]}" --batch_size "$batch" --num_workers 2 \
  --scores_path "$work/results/kinetics400_rgb.npz" --backend mindspore

for mode in rgb flow; do
  ckpt="$rgb_ckpt"; [[ $mode == flow ]] && ckpt="$flow_ckpt"
  for format in MINDIR ONNX; do
    step "I3D $mode: export $format -> $work/export/i3d_$mode"
    "$py" export.py --checkpoint_path "$ckpt" --mode "$mode" --num_classes "$num_classes" --file_format "$format" \
      --file_name "$work/export/i3d_$mode" --batch_size "$batch" --sample_duration 16 --spatial_size 64
  done
done

step "I3D: evaluate the ONNX models (onnxruntime) on rgb, flow and joint"
"$py" eval_onnx.py --dataset ucf101 --test_mode joint --rgb_path "$work/export/i3d_rgb.onnx" \
  --flow_path "$work/export/i3d_flow.onnx" "${joint_data[@]}" "${clip[@]}" "${eval_clips[@]}" --num_workers 2 \
  --scores_path "$work/results/onnx_scores.npz"

lists="$data/eco/lists"
eco_run="$work/eco_lite/ecolite_ucf101"
# 112x112 inputs (the original's 224 is 4x the work); the original's plateau rule with a shorter patience for 15 epochs.
eco_input=(--num_classes "$num_classes" --input_size 112 --batch-size "$batch")
step "ECO-lite: train $eco_epochs epochs from scratch -> $eco_run"
"$py" train.py --dataset ucf101 --train_list "$lists/ucf101_rgb_train_split_1.txt" \
  --val_list "$lists/ucf101_rgb_val_split_1.txt" --resume "" "${eco_input[@]}" --lr 0.003 --num_saturate 3 \
  --epochs "$eco_epochs" --checkpoints_num_keep 1 --save_dir "$work/eco_lite" --continue_training True
eco_ckpt="$eco_run/checkpoints/$(ls "$eco_run/checkpoints/" | grep -E "^eco-${eco_epochs}_[0-9]+\.ckpt$" | head -1)"

step "ECO-lite: evaluate the final checkpoint"
"$py" eval.py --dataset ucf101 --val_list "$lists/ucf101_rgb_val_split_1.txt" --evaluate True --resume "$eco_ckpt" \
  "${eco_input[@]}" --scores_path "$work/results/ecolite_rgb.npz"
for format in MINDIR ONNX; do
  step "ECO-lite: export $format -> $work/export/ecolite"
  "$py" export.py --dataset ucf101 --checkpoint_path "$eco_ckpt" "${eco_input[@]}" --file_format "$format" \
    --file_name "$work/export/ecolite"
done

demo_video="$data/raw/ucf101/videos/$(head -1 "$data/raw/ucf101/splits/testlist01.txt" | tr -d '\r')"
step "Demo: a raw test video -> frames and TV-L1 flow in memory -> I3D joint top-5 -> $work/results/demo.gif"
"$py" demo.py "$demo_video" --mode joint --rgb_path "$rgb_ckpt" --flow_path "$flow_ckpt" \
  --label_map "$data/raw/ucf101/label_map.txt" --spatial_size 64 --sample_duration 16 \
  --frame_size "${SAMPLE_FRAME_SIZE:-96}" --out_video "$work/results/demo.gif"

step "Timeline: the 24 test videos joined into one -> I3D rgb label per window -> $work/results/timeline.png"
"$py" scripts/timeline_sample.py "$data/raw/ucf101" "$work/results/timeline"
"$py" timeline.py "$work/results/timeline/sample_long.avi" --rgb_path "$rgb_ckpt" \
  --label_map "$data/raw/ucf101/label_map.txt" --spatial_size 64 --sample_duration 16 \
  --frame_size "${SAMPLE_FRAME_SIZE:-96}" --stride 8 --smooth 3 --truth "$work/results/timeline/sample_long_truth.csv" \
  --out_csv "$work/results/timeline.csv" --out_png "$work/results/timeline.png"

step "Training curves -> $work/results/*_curves.png"
for run in "$work/i3d/ucf101_rgb" "$work/i3d/ucf101_flow" "$eco_run"; do
  "$py" -m src.tools.plot_training "$run/train_log.jsonl" --out "$work/results/$(basename "$run")_curves.png"
done
"$py" -m src.tools.plot_training "$k400_run/train_log.jsonl" --out "$work/results/ucf101_rgb_kinetics400_curves.png"

step "Results (test split 1 of the sample dataset)"
"$py" -m src.tools.results_table "MindSpore=$work/results/mindspore_scores.npz" "ONNX=$work/results/onnx_scores.npz" \
  "MindSpore, from Kinetics-400=$work/results/kinetics400_rgb.npz" "ECO-lite=$work/results/ecolite_rgb.npz" \
  --same_predictions MindSpore,ONNX --run "I3D rgb, from scratch=$work/i3d/ucf101_rgb" \
  --run "I3D rgb, from Kinetics-400=$k400_run" --run "I3D flow, from scratch=$work/i3d/ucf101_flow" \
  --run "ECO-lite, from scratch=$eco_run" --out "$work/results/results.md"

echo
echo "Quick start finished in $(( $(date +%s) - start )) s. Everything is under $work:"
echo "  sample videos and split files : $work/data/raw/ucf101/{videos,splits}"
echo "  I3D rgb / flow frames         : $work/data/{rgb,flow}/ucf101/{jpg,annotation}"
echo "  ECO-lite frames and lists     : $work/data/eco/{ucf101_frames,lists}"
echo "  I3D runs (logs, checkpoints)  : $work/i3d/ucf101_{rgb,flow}/, $k400_run/ (from Kinetics-400)"
echo "  ECO-lite run, best checkpoint : $eco_run/, $work/eco_lite/ucf101bestacc.ckpt"
echo "  exported models               : $work/export/{i3d_rgb,i3d_flow,ecolite}.{mindir,onnx}"
echo "  scores, results table, plots  : $work/results/ (report/: confusion matrices, per-class accuracy)"
echo "  timeline of the joined videos : $work/results/timeline.{png,csv}"
