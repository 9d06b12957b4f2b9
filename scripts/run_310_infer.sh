#!/usr/bin/env bash
# ECO-lite offline inference at the original's path:
#   bash scripts/run_310_infer.sh [MINDIR_PATH] [EVAL_DATA_DIR] [DEVICE_ID] [BATCH_SIZE] [flags...]
# (scripts/eco_lite/run_310_infer.sh; I3D's is run_infer_310.sh).
exec bash "$(dirname "${BASH_SOURCE[0]}")/eco_lite/run_310_infer.sh" "$@"
