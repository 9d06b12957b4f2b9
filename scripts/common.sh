# Sourced by the launchers: the repository root, the Python interpreter (PYTHON_BIN, else the repository's .venv,
# else python3) and detect_target (this machine's accelerator: Ascend, else GPU, else CPU, as src/cli.py decides it
# for the Python entry points).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PYTHON_BIN:-$root/.venv/bin/python}"
[[ -x "$py" ]] || py=python3
detect_target() {
  (cd "$root" && "$py" -c 'from src.cli import detect_device_target; print(detect_device_target())')
}

# launch_data_parallel NUM RANK_TABLE LOG_DIR MASTER_PORT SCRIPT ARGS...: runs SCRIPT on NUM ranks, waits for all of
# them and returns non-zero if any failed; logs go to LOG_DIR/worker_<rank>.log. Needs $target.
# Ascend: one process per device with the HCCL rank table (RANK_ID = DEVICE_ID = rank, --device_id rank).
# GPU/CPU: MindSpore's msrun (it starts its workers with the `python` on PATH); the rank table is not used.
launch_data_parallel() {
  local num=$1 rank_table=$2 log_dir=$3 port=$4 script=$5
  shift 5
  mkdir -p "$log_dir"
  ulimit -n 65530 2>/dev/null || true
  if [ "$target" = "Ascend" ]; then
    if [ ! -f "$rank_table" ]; then echo "error: rank table file '$rank_table' not found" >&2; return 1; fi
    export RANK_SIZE=$num DEVICE_NUM=$num RANK_TABLE_FILE="$(realpath "$rank_table")"
    export HCCL_CONNECT_TIMEOUT="${HCCL_CONNECT_TIMEOUT:-6000}"
    local pids=() i failed=0
    for ((i = 0; i < num; i++)); do
      RANK_ID=$i DEVICE_ID=$i "$py" -u "$script" "$@" --device_id="$i" > "$log_dir/worker_$i.log" 2>&1 &
      pids+=($!)
    done
    for i in "${!pids[@]}"; do
      if ! wait "${pids[$i]}"; then echo "error: rank $i failed: see $log_dir/worker_$i.log" >&2; failed=1; fi
    done
    return $failed
  fi
  local msrun
  msrun="$(dirname "$py")/msrun"
  [ -x "$msrun" ] || msrun=msrun
  PATH="$(dirname "$py"):$PATH" "$msrun" --worker_num="$num" --local_worker_num="$num" --master_port="$port" \
    --log_dir="$log_dir" --join=True --cluster_time_out=600 "$script" "$@" || {
    echo "error: distributed training failed: see $log_dir/worker_<rank>.log" >&2; return 1; }
}

# run_logged LOG WHAT COMMAND...: runs COMMAND in the foreground, its output shown and saved to LOG; returns its status.
run_logged() {
  local log=$1 what=$2 status=0
  shift 2
  "$@" 2>&1 | tee "$log" || status=$?
  [[ $status -eq 0 ]] || echo "error: $what failed with status $status; see $log" >&2
  return "$status"
}

# choose_infer_backend EXPORT_HINT: the C++ app's backend for $model (INFER_BACKEND=onnxruntime|mindspore overrides):
# .onnx runs on ONNX Runtime; .mindir on MindSpore where an Ascend device exists, else the .onnx export beside it.
# Sets $backend (and $model to that .onnx); without one, fails with EXPORT_HINT (how to export it). Needs die().
choose_infer_backend() {
  backend="${INFER_BACKEND:-auto}"
  [[ "$backend" == auto ]] || return 0
  case "$model" in
    *.onnx) backend=onnxruntime ;;
    *.mindir)
      if [[ "$(detect_target)" == Ascend ]]; then
        backend=mindspore
      elif [[ -f "${model%.mindir}.onnx" ]]; then
        echo "note: no Ascend device here; running ${model%.mindir}.onnx, the ONNX export beside $model, on the CPU" \
             "with ONNX Runtime" >&2
        model="${model%.mindir}.onnx" backend=onnxruntime
      else
        die "$model is a MINDIR model, which needs an Ascend 310 with MindSpore's inference package, and this" \
            "machine has no Ascend device. Export the checkpoint to ONNX beside it ($1) or pass an .onnx file:" \
            "it then runs on the CPU with ONNX Runtime"
      fi ;;
    *) die "MINDIR_PATH must end in .mindir or .onnx, got $model" ;;
  esac
}
