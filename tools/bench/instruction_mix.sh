#!/usr/bin/env bash
# The aarch64 instruction mix of the lam2026 training step (n = 64, batch 32), counted under
# qemu-aarch64, and the step time it implies on a Raspberry Pi 4 and 5 core
# (instruction_mix.py). Timing under qemu means nothing; counting the executed instructions
# does. Runs the aarch64 CLI of build/aarch64 (tools/ci/cross.sh aarch64 builds it) at batch 4
# for 1 and for 2 steps, and scales the difference to batch 32. About a minute; the two qemu
# logs take 1.7 GB in a temporary folder while it runs.
#   tools/bench/instruction_mix.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cli="$root/build/aarch64/tools/tinyloop"
[[ -x "$cli" ]] || { echo "instruction_mix.sh: no $cli; build it with tools/ci/cross.sh aarch64" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for steps in 1 2; do
  qemu-aarch64 -L /usr/aarch64-linux-gnu -d in_asm,exec,nochain -D "$work/steps$steps.log" "$cli" train \
    --preset lam2026 --min-len 64 --max-len 64 --batch 4 --steps "$steps" --threads 1 --no-eval --quiet \
    --out "$work/run$steps" > /dev/null 2> "$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
done
python3 "$root/tools/bench/instruction_mix.py" "$work/steps1.log" "$work/steps2.log" 1 8
