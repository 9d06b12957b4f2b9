#!/usr/bin/env bash
# ECO-lite evaluation at the original's path: bash ./scripts/run_eval.sh [CHECKPOINT_PATH] [DEVICE_ID] [flags...]
# (scripts/eco_lite/run_eval.sh; I3D's evaluation launchers are run_single_eval.sh and run_joint_eval.sh).
exec bash "$(dirname "${BASH_SOURCE[0]}")/eco_lite/run_eval.sh" "$@"
