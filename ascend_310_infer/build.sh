#!/usr/bin/env bash
# Build the offline inference app: <build dir>/main (default ascend_310_infer/out/main).
# Usage: bash ascend_310_infer/build.sh [auto|onnxruntime|mindspore|all]
#   auto (default): mindspore on an Ascend machine whose MindSpore has the C++ inference API, else onnxruntime.
#   onnxruntime: the CPU backend (.onnx models), linked against the onnxruntime wheel of the project's Python.
#   mindspore: the Ascend 310 backend (.mindir models); MINDSPORE_PATH names the package folder (with include/api and
#     lib/), else the mindspore-ascend / mindspore / mindspore_lite package of the project's Python is used.
#   all: both.
# Environment: INFER_BUILD_DIR (build folder, default ascend_310_infer/out), PYTHON_BIN (see scripts/common.sh),
#   ONNXRUNTIME_LIBRARY (a libonnxruntime.so.1.* to use instead of the wheel's), BUILD_JOBS (default 2).
# Builds are incremental; nothing outside the build folder is written.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../scripts/common.sh"
backend="${1:-auto}"
build_dir="${INFER_BUILD_DIR:-$here/out}"

die() { echo "error: $*" >&2; exit 1; }
command -v cmake > /dev/null || die "cmake not found (Debian: apt-get install cmake)"
command -v "${CXX:-g++}" > /dev/null || die "C++ compiler ${CXX:-g++} not found (Debian: apt-get install g++)"

# The folder of an installed Python package, found without importing it (importing MindSpore is slow).
package_dir() {
  "$py" -c "import importlib.util, os, sys
spec = importlib.util.find_spec(sys.argv[1])
print(os.path.dirname(spec.origin) if spec and spec.origin else '')" "$1" 2> /dev/null || true
}

find_mindspore() {
  if [[ -n "${MINDSPORE_PATH:-}" ]]; then echo "$MINDSPORE_PATH"; return; fi
  local name dir
  for name in mindspore mindspore_lite; do
    dir="$(package_dir "$name")"
    if [[ -n "$dir" && -f "$dir/include/api/model.h" ]]; then echo "$dir"; return; fi
  done
}

find_onnxruntime() {
  if [[ -n "${ONNXRUNTIME_LIBRARY:-}" ]]; then echo "$ONNXRUNTIME_LIBRARY"; return; fi
  local dir
  dir="$(package_dir onnxruntime)"
  [[ -n "$dir" ]] || return 0
  compgen -G "$dir/capi/libonnxruntime.so*" | sort | tail -n 1
}

mindspore_path="$(find_mindspore)"
if [[ "$backend" == auto ]]; then
  if [[ "$(detect_target)" == Ascend && -n "$mindspore_path" ]]; then backend=mindspore; else backend=onnxruntime; fi
fi
case "$backend" in
  onnxruntime) use_ort=ON use_ms=OFF ;;
  mindspore) use_ort=OFF use_ms=ON ;;
  all) use_ort=ON use_ms=ON ;;
  *) die "unknown backend '$backend' (choose auto, onnxruntime, mindspore or all)" ;;
esac

args=(-DENABLE_ONNXRUNTIME="$use_ort" -DENABLE_MINDSPORE="$use_ms")
if [[ "$use_ort" == ON ]]; then
  ort_library="$(find_onnxruntime)"
  [[ -n "$ort_library" && -f "$ort_library" ]] || die "no ONNX Runtime library: install the onnxruntime wheel into" \
    "$py (pip install onnxruntime) or set ONNXRUNTIME_LIBRARY=/path/libonnxruntime.so.1.x"
  args+=(-DONNXRUNTIME_LIBRARY="$ort_library")
fi
if [[ "$use_ms" == ON ]]; then
  [[ -n "$mindspore_path" && -f "$mindspore_path/include/api/model.h" ]] || die "MindSpore's C++ inference API" \
    "not found: set MINDSPORE_PATH to the mindspore (or mindspore_lite) package folder with include/api/model.h" \
    "and lib/libmindspore.so (see the MindSpore C++ inference guide); off Ascend, use the onnxruntime backend"
  args+=(-DMINDSPORE_PATH="$mindspore_path")
fi

echo "building the $backend backend in $build_dir"
cmake -S "$here" -B "$build_dir" "${args[@]}" > /dev/null
cmake --build "$build_dir" -j "${BUILD_JOBS:-2}"
echo "built $build_dir/main"
