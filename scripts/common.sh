# Sourced by the launchers: the repository root, the Python interpreter (PYTHON_BIN, else the repository's .venv,
# else python3) and detect_target (this machine's accelerator: Ascend, else GPU, else CPU, as src/cli.py decides it
# for the Python entry points).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PYTHON_BIN:-$root/.venv/bin/python}"
[[ -x "$py" ]] || py=python3
detect_target() {
  (cd "$root" && "$py" -c 'from src.cli import detect_device_target; print(detect_device_target())')
}

# launch_for_model I3D_COUNT ECO_SCRIPT I3D_USAGE ECO_USAGE ARGS...: the original I3D and ECO-lite launchers share a
# name (run_standalone_train.sh, run_distribute_train.sh) but not their arguments, so the leading positional ones (up
# to the first --flag) decide: 2 run ECO_SCRIPT (ECO-lite's two), I3D_COUNT return to the caller (I3D); any other
# count prints both usages and exits 1.
launch_for_model() {
  local i3d_count=$1 eco_script=$2 i3d_usage=$3 eco_usage=$4 positional=0 arg
  shift 4
  for arg in "$@"; do [[ "$arg" == --* ]] && break; positional=$((positional + 1)); done
  if (( positional == 2 )); then exec bash "$eco_script" "$@"; fi
  if (( positional != i3d_count )); then
    echo "Usage: $i3d_usage    (I3D)" >&2
    echo "Usage: $eco_usage    (ECO-lite)" >&2
    exit 1
  fi
}

# launch_data_parallel NUM RANK_TABLE LOG_DIR MASTER_PORT SCRIPT ARGS...: runs SCRIPT on NUM ranks in all, waits for
# this machine's and returns non-zero if any failed; logs go to LOG_DIR/worker_<rank>.log. Needs $target.
# Several machines: run the same launcher on each, with NNODES (machines, default 1), NODE_RANK (this machine's
# index, 0..NNODES-1; node 0 hosts msrun's scheduler) and MASTER_ADDR (node 0's address, default 127.0.0.1) in the
# environment; each runs NUM / NNODES ranks. MSRUN_ARGS adds msrun options (e.g. "--cluster_time_out 120").
# Ascend: one process per local device of the HCCL rank table's server NODE_RANK, with RANK_ID its rank_id and
# DEVICE_ID its device_id (src/rank_table.py; a second 8-device server runs RANK_ID 8..15 on devices 0..7).
# GPU/CPU: MindSpore's msrun (it starts its workers with the `python` on PATH); the rank table is not used.
launch_data_parallel() {
  local num=$1 rank_table=$2 log_dir=$3 port=$4 script=$5
  shift 5
  local nnodes="${NNODES:-1}" node_rank="${NODE_RANK:-0}"
  if ! [[ "$nnodes" =~ ^[1-9][0-9]*$ && "$node_rank" =~ ^[0-9]+$ ]] || (( node_rank >= nnodes )); then
    echo "error: NNODES=$nnodes and NODE_RANK=$node_rank must be integers with 0 <= NODE_RANK < NNODES" >&2; return 1
  fi
  if (( num % nnodes != 0 )); then
    echo "error: $num ranks cannot be split evenly over NNODES=$nnodes machines" >&2; return 1
  fi
  if [[ "$target" != CPU && "$(detect_target)" != "$target" ]]; then
    echo "error: DEVICE_TARGET=$target, but this machine has no $target device; run with DEVICE_TARGET=CPU (or leave" \
         "it out to use what the machine has)" >&2
    return 1
  fi
  mkdir -p "$log_dir"
  ulimit -n 65530 2>/dev/null || true
  if [ "$target" = "Ascend" ]; then
    if [ ! -f "$rank_table" ]; then echo "error: rank table file '$rank_table' not found" >&2; return 1; fi
    local table total rank device pids=() ranks=() failed=0 i table_path
    table_path="$(realpath "$rank_table")"
    table="$(cd "$root" && "$py" -m src.rank_table "$table_path" "$node_rank")" || return 1
    total="$(sed -n 's/^total //p' <<< "$table")"
    if (( total != num )); then
      echo "error: $rank_table describes $total ranks, the launcher was asked for $num" >&2; return 1
    fi
    export RANK_SIZE=$num DEVICE_NUM=$num RANK_TABLE_FILE="$(realpath "$rank_table")"
    export HCCL_CONNECT_TIMEOUT="${HCCL_CONNECT_TIMEOUT:-6000}"
    while read -r rank device; do
      RANK_ID=$rank DEVICE_ID=$device "$py" -u "$script" "$@" --device_id="$device" > "$log_dir/worker_$rank.log" 2>&1 &
      pids+=($!) ranks+=("$rank")
    done < <(sed '1d' <<< "$table")
    for i in "${!pids[@]}"; do
      if ! wait "${pids[$i]}"; then
        echo "error: rank ${ranks[$i]} failed: see $log_dir/worker_${ranks[$i]}.log" >&2; failed=1
      fi
    done
    return $failed
  fi
  local extra=()
  read -r -a extra <<< "${MSRUN_ARGS:-}"
  # src/msrun.py is msrun with its scheduler on node 0 only (two nodes of one machine would both start one).
  PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" PATH="$(dirname "$py"):$PATH" "$py" -m src.msrun \
    --worker_num="$num" --local_worker_num=$((num / nnodes)) \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="$port" --node_rank="$node_rank" --log_dir="$log_dir" \
    --join=True --cluster_time_out=600 "${extra[@]}" "$script" "$@" || {
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
