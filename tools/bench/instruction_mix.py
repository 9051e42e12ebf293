#!/usr/bin/env python3
"""The aarch64 instruction mix of a training step, and what it means for a Raspberry Pi core.

qemu-aarch64 -d in_asm,exec,nochain writes every translated block's instructions once and a
"Trace" line each time a block runs (nochain: every time). This reads two such logs of the
same command, one running more training steps than the other, so that their difference is
whole steps and nothing else (start-up, saving). It counts the executed instructions by class
and bounds the cycles per step on two cores, from what each can issue per cycle:

  Cortex-A72 (Raspberry Pi 4; 1.5 GHz, 1.8 GHz with newer firmware): decodes 3 instructions a
  cycle; 2 FP/NEON pipes; 1 load and 1 store a cycle;
  Cortex-A76 (Raspberry Pi 5, 2.4 GHz): decodes 4 a cycle; 2 FP/NEON pipes; 2 loads or stores.

The bound is the largest of those limits. Real code also waits on latencies and caches, so the
estimate is a range from the bound to twice the bound.

usage: instruction_mix.py LOG_FEWER_STEPS LOG_MORE_STEPS EXTRA_STEPS BATCH_SCALE
  EXTRA_STEPS: how many more steps the second log ran; BATCH_SCALE: the factor from the logged
  batch to the one reported (the step's work is per sequence, so it scales with the batch).
"""
import collections
import re
import sys

CORES = [  # name, GHz, decode width, FP/NEON pipes, loads per cycle, stores per cycle, memory ops per cycle
    ("Cortex-A72 (Pi 4) at 1.5 GHz", 1.5, 3, 2, 1, 1, 2),
    ("Cortex-A72 (Pi 4) at 1.8 GHz", 1.8, 3, 2, 1, 1, 2),
    ("Cortex-A76 (Pi 5) at 2.4 GHz", 2.4, 4, 2, 2, 1, 2),
]

VECTOR = re.compile(r"\bv\d+\.\d*[bhsd]\b|\bq\d+\b")
FP_OPS = ("fadd", "fsub", "fmul", "fdiv", "fsqrt", "fmax", "fmin", "fmaxnm", "fminnm", "fneg", "fabs", "frint",
          "fcm", "frecp", "frsqrt", "fcvt", "scvtf", "ucvtf", "fmaxv", "fminv", "faddp", "fmulx", "fnmul")


def classify(mnemonic, operands):
    vector = bool(VECTOR.search(operands))
    m = mnemonic
    if m.startswith(("ld", "st")):
        kind = "load" if m.startswith("ld") else "store"
        return ("vector " if vector else "scalar/integer ") + kind
    if m in ("fmla", "fmls"):
        return "vector FMA" if vector else "scalar FP"
    if m in ("fmadd", "fmsub", "fnmadd", "fnmsub"):
        return "scalar FP"
    if m.startswith(FP_OPS) or m in ("bsl", "bit", "bif"):
        return "vector FP other" if vector else "scalar FP"
    if vector:
        return "vector move/shuffle/integer"
    return "integer, branch, other"


def read_log(path):
    """class -> executed instructions, from one qemu log."""
    blocks = {}  # block start -> Counter of classes
    runs = collections.Counter()
    current, start = None, None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("Trace "):
                m = re.search(r"\[[0-9a-f]+/([0-9a-f]+)/", line)
                if m:
                    runs[int(m.group(1), 16)] += 1
                continue
            if line.startswith("IN:"):
                current, start = collections.Counter(), None
                continue
            if current is not None:
                m = re.match(r"0x([0-9a-f]+):\s+[0-9a-f]+\s+(\S+)\s*(.*)", line)
                if m:
                    if start is None:
                        start = int(m.group(1), 16)
                    current[classify(m.group(2), m.group(3))] += 1
                elif start is not None:  # the block's end
                    blocks[start] = current
                    current = None
    totals = collections.Counter()
    for pc, n in runs.items():
        for cls, k in blocks.get(pc, {}).items():
            totals[cls] += n * k
    return totals


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    fewer, more = read_log(sys.argv[1]), read_log(sys.argv[2])
    steps, scale = int(sys.argv[3]), float(sys.argv[4])
    per_step = {cls: (more[cls] - fewer[cls]) * scale / steps for cls in set(fewer) | set(more)}
    total = sum(per_step.values())
    print(f"aarch64 instructions per training step: {total / 1e6:.1f} M")
    for cls, n in sorted(per_step.items(), key=lambda kv: -kv[1]):
        print(f"  {cls:30s} {n / 1e6:8.1f} M  ({100.0 * n / total:4.1f}%)")
    fp = per_step.get("vector FMA", 0) + per_step.get("vector FP other", 0) + per_step.get("scalar FP", 0)
    loads = per_step.get("vector load", 0) + per_step.get("scalar/integer load", 0)
    stores = per_step.get("vector store", 0) + per_step.get("scalar/integer store", 0)
    print("\nestimated step time on one core (from the bound to twice the bound):")
    for core, ghz, width, pipes, ld, st, mem in CORES:
        limits = {"decode": total / width, "FP/NEON pipes": fp / pipes, "loads": loads / ld, "stores": stores / st,
                  "memory ops": (loads + stores) / mem}
        limit = max(limits, key=limits.get)
        ms = limits[limit] / ghz / 1e6
        print(f"  {core}: {limits[limit] / 1e6:.1f} M cycles ({limit} bound) = {ms:.1f} ms; "
              f"estimate {ms:.0f}-{2 * ms:.0f} ms per step")


if __name__ == "__main__":
    main()
