#!/usr/bin/env bash
# Make the built-in sample dataset and prepare it completely with the original's own tools, as a user would
# prepare UCF101/HMDB51: frames, TV-L1 flow, n_frames, annotation JSON (I3D), frames and lists (ECO-lite).
# Every step is resumable: rerunning skips what is finished.
# Usage: bash scripts/prepare_sample_data.sh [OUT_DIR, default sample_data] [DATASETS, default "ucf101"]
#   DATASETS may be "ucf101 hmdb51": the HMDB51 layout is then prepared too (twice the flow time).
#   SAMPLE_DATASET_ARGS (e.g. "--num_classes 3 --clips 1") is passed to make_sample_dataset; SAMPLE_FRAME_SIZE
#   (default 96, the videos' height) is the frames' short side.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(realpath -m "${1:-sample_data}")"
datasets="${2:-ucf101}"
size="${SAMPLE_FRAME_SIZE:-96}"
py="${PYTHON_BIN:-$root/.venv/bin/python}"
cd "$root"
step() { echo; echo "== $*"; }

step "1/7 sample videos -> $out/raw"
# shellcheck disable=SC2086
"$py" -m src.tools.make_sample_dataset "$out/raw" --datasets $datasets ${SAMPLE_DATASET_ARGS:-}
for ds in $datasets; do
  rgb="$out/rgb/$ds"; flow="$out/flow/$ds"
  step "2/7 [$ds] rgb frames (short side $size) -> $rgb/jpg"
  "$py" -m src.tools.generate_rgb_jpgs "$out/raw/$ds/videos" "$rgb/jpg" "$ds" --size "$size"
  step "3/7 [$ds] TV-L1 flow -> $flow/jpg"
  "$py" -m src.tools.convert_rgb_to_flow --rgb_path "$rgb/jpg" --flow_path "$flow/jpg"
  step "4/7 [$ds] n_frames (rgb and flow)"
  "$py" -m src.tools.generate_n_frames "$rgb/jpg"
  "$py" -m src.tools.generate_n_frames "$flow/jpg"
  step "5/7 [$ds] annotation JSON -> $rgb/annotation, $flow/annotation"
  "$py" -m "src.tools.${ds}_json" "$out/raw/$ds/splits" "$rgb/jpg" "$rgb/annotation"
  mkdir -p "$flow/annotation"
  cp "$rgb/annotation/"*.json "$flow/annotation/"
done
if [[ " $datasets " == *" ucf101 "* ]]; then
step "6/7 [ecolite] frames -> $out/eco/ucf101_frames"
"$py" ./src/extract_frames.py --video_src_path "$out/raw/ucf101/videos" --image_save_path "$out/eco/ucf101_frames"
step "7/7 [ecolite] list files -> $out/eco/lists"
"$py" ./src/gen_dataset_lists.py ucf101 "$out/eco/ucf101_frames" --splits_path "$out/raw/ucf101/splits" \
  --out_list_path "$out/eco/lists"
fi
echo
echo "Sample data ready in $out:"
echo "  I3D rgb : $out/rgb/<dataset>/{jpg,annotation}"
echo "  I3D flow: $out/flow/<dataset>/{jpg,annotation}"
echo "  ECO-lite: $out/eco/ucf101_frames, $out/eco/lists/ucf101_rgb_{train,val}_split_{1,2,3}.txt"
