#!/usr/bin/env bash
# tools/ci/cortexm.sh [CTEST_ARGS...]
#
# The Cortex-M leg: a trained model compiled into a bare-metal program for a Cortex-M4F and a
# Cortex-M7, run on qemu-system-arm's mps2-an386 and mps2-an500 boards and checked against the
# host's inference on the same checkpoint and tokens:
#   1. the host CLI (build/release, TINYLOOP_HOST_BUILD overrides; only its `tinyloop` target is
#      built) trains two small models for 20 steps: ALiBi (the default preset, tinyloop-alibi)
#      and sinusoids (lam2026);
#   2. `tinyloop export --c-array --max-len 64 --tokens <64 tokens>` writes each as a C header
#      that carries the host's predictions and logits for those tokens;
#   3. build/cortex-m4f and build/cortex-m7 (toolchains/cortex-m4f.cmake, cortex-m7.cmake) build
#      one program per model (examples/cortex_m), and ctest runs each on its emulated board: it
#      must match the host within its stated tolerance, refuse every bad input with the right
#      code, and never ask for heap. Extra arguments go to ctest.
# TINYLOOP_CORTEXM_BUILD_DIR moves the three build/cortex-* folders elsewhere.
#
# Installs nothing. Needs gcc-arm-none-eabi, libstdc++-arm-none-eabi-newlib and qemu-system-arm
# (Debian packages) besides what the native build needs; when one is missing it prints a
# SKIPPED line and exits 0. JOBS sets the build parallelism (default: all cores).
#
# Exit status: 0 = passed or skipped, 1 = build/test failure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
host_build=${TINYLOOP_HOST_BUILD:-$root/build/release}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
base=${TINYLOOP_CORTEXM_BUILD_DIR:-$root/build}
cores=(m4f m7)

missing=()
command -v arm-none-eabi-g++ >/dev/null 2>&1 || missing+=("arm-none-eabi-g++ (apt-get install gcc-arm-none-eabi)")
echo '#include <cmath>' | arm-none-eabi-g++ -x c++ -fsyntax-only - >/dev/null 2>&1 \
  || missing+=("the C++ library for arm-none-eabi (apt-get install libstdc++-arm-none-eabi-newlib)")
command -v qemu-system-arm >/dev/null 2>&1 || missing+=("qemu-system-arm (apt-get install qemu-system-arm)")
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "cortexm.sh: SKIPPED, missing: ${missing[*]}"
  exit 0
fi
command -v cmake >/dev/null 2>&1 || { echo "cortexm.sh: cmake is not installed" >&2; exit 1; }

step() { echo "== cortexm.sh: $*"; }
fail() { echo "cortexm.sh: FAILED: $*" >&2; exit 1; }
t0=$(date +%s)

step "host CLI in $host_build"
if [[ ! -f $host_build/CMakeCache.txt ]]; then
  cmake -S "$root" -B "$host_build" -DCMAKE_BUILD_TYPE=Release || fail "configure $host_build"
fi
cmake --build "$host_build" -j "$jobs" --target tinyloop || fail "build the host CLI"
cli=$host_build/tools/tinyloop

models=$base/cortex-m-models
mkdir -p "$models"
# 64 tokens of the induction task (no symbol repeats its predecessor), from a fixed LCG.
tokens=$(awk 'BEGIN { s = 12345; p = 0; for (i = 0; i < 64; i++) { s = (s * 1103515245 + 12345) % 2147483648;
  t = i == 0 ? int(s / 65536) % 4 : (p + 1 + int(s / 65536) % 3) % 4; printf "%d ", t; p = t } }')
headers=()
for model in alibi:tinyloop-alibi sinusoidal:lam2026; do
  name=${model%%:*}
  step "train and export the $name model (--preset ${model#*:})"
  "$cli" train --preset "${model#*:}" --steps 20 --batch 4 --threads 1 --max-len 24 --no-eval \
    --out "$models/$name" --overwrite >/dev/null || fail "train $name"
  "$cli" export --checkpoint "$models/$name/model.tlc" --c-array "$models/$name.h" --max-len 64 \
    --tokens "$tokens" --overwrite || fail "export $name"
  headers+=("$models/$name.h")
done
list=$(IFS=';'; echo "${headers[*]}")
t1=$(date +%s)

rc=0
for core in "${cores[@]}"; do
  build=$base/cortex-$core
  step "configure and build $build (toolchains/cortex-$core.cmake)"
  cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/toolchains/cortex-$core.cmake" \
    -DCMAKE_BUILD_TYPE=Release "-DTINYLOOP_CORTEX_M_MODELS=$list" >/dev/null || fail "configure $build"
  cmake --build "$build" -j "$jobs" || fail "build $build"
  arm-none-eabi-size "$build"/examples/cortex_m/*.elf
  step "run on qemu-system-arm ($core)"
  ctest --test-dir "$build" -V --timeout 300 "$@" || rc=1
done
t2=$(date +%s)
echo "== cortexm.sh: host models $((t1 - t0)) s, Cortex-M builds and runs $((t2 - t1)) s"
[[ $rc -eq 0 ]] || fail "ctest (see the output above)"
echo "cortexm.sh: PASSED"
