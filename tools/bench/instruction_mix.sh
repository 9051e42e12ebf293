#!/usr/bin/env bash
# The instruction mix of the lam2026 training step (n = 64, batch 32) on 4-lane registers with
# fused multiply-add (x86 SSE4.2 + FMA: the width and FMA of NEON), counted by callgrind over a
# few steps, and the step time it implies on a Raspberry Pi 4 and 5 core (instruction_mix.py).
# Timing under qemu means nothing; this counts instead. About two minutes.
#   tools/bench/instruction_mix.sh [steps]     (needs valgrind and objdump)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
steps="${1:-3}"
build="$root/build/mix4"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTINYLOOP_BUILD_TESTS=OFF -DTINYLOOP_BUILD_EXAMPLES=OFF \
  -DCMAKE_CXX_FLAGS="-msse4.2 -mfma" > /dev/null
cmake --build "$build" -j "$(nproc)" --target tinyloop > /dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
valgrind --tool=callgrind --dump-instr=yes --dump-line=no --callgrind-out-file="$work/callgrind.out" \
  --toggle-collect='tinyloop::Model<float>::train_step(*' \
  "$build/tools/tinyloop" train --preset lam2026 --min-len 64 --max-len 64 --steps "$steps" --threads 1 \
  --no-eval --quiet --out "$work/run" > /dev/null 2> "$work/valgrind.log" || { cat "$work/valgrind.log"; exit 1; }
python3 "$root/tools/bench/instruction_mix.py" "$work/callgrind.out" "$build/tools/tinyloop" "$steps"
