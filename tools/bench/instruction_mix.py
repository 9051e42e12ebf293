#!/usr/bin/env python3
"""The instruction mix of a training step, and what it means for a Raspberry Pi core.

Reads a callgrind profile taken with --dump-instr=yes (tools/bench/instruction_mix.sh makes one
from a 4-lane x86 build: SSE4.2 registers with FMA, the width and fused multiply-add of NEON),
classifies every executed instruction by its mnemonic (objdump of the same binary), and turns
the counts per step into a cycle bound for two cores:

  Cortex-A72 (Raspberry Pi 4, 1.5 GHz; 1.8 GHz with the newer firmware): decodes 3 instructions
  a cycle, 2 FP/NEON pipes;
  Cortex-A76 (Raspberry Pi 5, 2.4 GHz): decodes 4 a cycle, 2 FP/NEON pipes.

The bound is the larger of (all instructions / decode width) and (vector and scalar FP
operations / 2 pipes); real code runs slower than its bound, so the estimate is a range from the
bound to twice the bound. x86 folds a load into an arithmetic instruction where NEON needs its
own load, and NEON multiplies by a lane where x86 broadcasts first; the two roughly cancel.

usage: instruction_mix.py CALLGRIND_OUT BINARY STEPS
"""
import collections
import re
import subprocess
import sys

CORES = [  # name, GHz, decode width, FP/NEON pipes
    ("Cortex-A72 (Pi 4) at 1.5 GHz", 1.5, 3, 2),
    ("Cortex-A72 (Pi 4) at 1.8 GHz", 1.8, 3, 2),
    ("Cortex-A76 (Pi 5) at 2.4 GHz", 2.4, 4, 2),
]


def mnemonics(binary):
    """address -> mnemonic, from objdump -d."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary], check=True, capture_output=True,
                         text=True).stdout
    table = {}
    for line in out.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+(\S+)", line)
        if m:
            table[int(m.group(1), 16)] = m.group(2)
    return table


def instruction_counts(callgrind_out):
    """address -> executed count (Ir), from a callgrind file written with --dump-instr=yes.

    Cost lines start with an address (absolute "0x...", relative "+n"/"-n", or "*" for the
    same one) followed by the Ir count; other lines (fn=, calls=, ...) are skipped. A line after
    calls= is the call's inclusive cost, which is not this instruction's own and is skipped."""
    counts = collections.Counter()
    addr = 0
    skip_next = False
    with open(callgrind_out) as f:
        for line in f:
            if line.startswith("calls="):
                skip_next = True
                continue
            m = re.match(r"(0x[0-9a-fA-F]+|[+-]\d+|\*)\s+(\d+)", line)
            if not m:
                continue
            pos = m.group(1)
            if pos.startswith("0x"):
                addr = int(pos, 16)
            elif pos != "*":
                addr += int(pos)
            if skip_next:
                skip_next = False
                continue
            counts[addr] += int(m.group(2))
    return counts


def classify(mnemonic):
    m = mnemonic
    if re.match(r"v?fn?m(add|sub)\d*[ps]s", m):
        return "vector FMA" if m.endswith("ps") else "scalar FP"
    if re.match(r"v?(add|sub|mul|div|sqrt|max|min|rcp|rsqrt|cmp|blendv|round|and|andn|or|xor)ps", m):
        return "vector FP other"
    if re.match(r"v?(add|sub|mul|div|sqrt|max|min|cmp|ucomi|comi|round)ss", m) or m.startswith("vcvt") or \
            m.startswith("cvt"):
        return "scalar FP"
    if re.match(r"v?(movups|movaps|movss|movd|movq|broadcast|vbroadcast|movsldup|movshdup|insertps|extract|shufps|"
                 r"unpck|perm|pshufd|blendps|movhl|movlh|haddps|pslld|psrld|padd|psub|pand|por|pxor|pcmp|cvtt)", m):
        return "vector move/shuffle/int"
    return "integer, branch, other"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    callgrind_out, binary, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    names = mnemonics(binary)
    counts = instruction_counts(callgrind_out)
    classes = collections.Counter()
    unknown = 0
    for addr, n in counts.items():
        name = names.get(addr)
        if name is None:
            unknown += n  # outside the binary (libm, libc): counted as other
            classes["outside the binary (libm, libc)"] += n
        else:
            classes[classify(name)] += n
    total = sum(classes.values())
    print(f"instructions per training step (lam2026, n = 64, batch 32; {steps} steps counted): {total / steps / 1e6:.1f} M")
    for name, n in classes.most_common():
        print(f"  {name:34s} {n / steps / 1e6:8.1f} M  ({100.0 * n / total:4.1f}%)")
    fp = classes["vector FMA"] + classes["vector FP other"] + classes["scalar FP"]
    print("\nestimated step time on one core (bound .. twice the bound):")
    for core, ghz, width, pipes in CORES:
        cycles = max(total / width, fp / pipes) / steps
        print(f"  {core}: bound {cycles / 1e6:.1f} M cycles = {cycles / ghz / 1e6:.1f} ms; "
              f"estimate {cycles / ghz / 1e6:.0f}-{2 * cycles / ghz / 1e6:.0f} ms per step")


if __name__ == "__main__":
    main()
