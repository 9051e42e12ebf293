#!/usr/bin/python3
"""The frozen checkpoint files (tests/frozen/README.md): their expected contents, and the
forced-prediction model.

This script reads checkpoints on its own, from docs/CHECKPOINT.md (versions 1 to 4), without the
engine. It computes the logits on fixed tokens with the PyTorch references (the looped block's,
tools/reference/torch_reference.py, and the model family's, family_reference.py, for version 4's
models; float64), so the expected values do not come from the code under test. Run with Debian's
PyTorch:

    /usr/bin/python3 tests/frozen/frozen.py expect tests/frozen/*.tlc   # writes <file>.expect
    /usr/bin/python3 tests/frozen/frozen.py forced --out tests/frozen/forced_a2_v1.tlc

Expectation format (<file>.expect, text): one `key value...` per line, `#` starts a comment.
Configuration and state keys are the C++ field names; `sum.<set>.<tensor>` is the float64 sum of
the tensor's float32 values in file order; `tokens` the fixed tokens; `logits.<i>` the logits at
position i.
"""

import argparse
import struct
import sys
import zlib
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "reference"))
import family_reference as family  # noqa: E402
import torch_reference as ref  # noqa: E402

MAGIC = b"TLOOPCK\0"
POSITIONS = {v: k for k, v in ref.POSITION_CODES.items()}

# (key, struct code) of the configuration block, in file order; v2 and v3 append theirs.
CONFIG_V1 = [
    ("model.loops", "i"), ("model.vocab_in", "i"), ("model.vocab_out", "i"), ("model.positions", "I"),
    ("model.pe_scale", "f"), ("model.causal", "I"), ("model.loop", "I"), ("model.mu", "f"),
    ("model.alpha", "f"), ("model.beta", "f"), ("model.tau", "f"),
    ("loss.lambda_p", "f"), ("loss.lambda_k", "f"), ("loss.lambda_s", "f"), ("loss.q", "f"), ("loss.eta", "f"),
    ("optim.lr", "f"), ("optim.beta1", "f"), ("optim.beta2", "f"), ("optim.eps", "f"),
    ("optim.weight_decay", "f"), ("optim.clip_norm", "f"), ("optim.warmup_steps", "i"), ("optim.schedule", "I"),
    ("optim.min_lr_ratio", "f"), ("task.alphabet", "i"), ("task.hops", "i"), ("curriculum.min_len", "i"),
    ("curriculum.max_len", "i"), ("curriculum.ramp", "f"), ("batch", "i"), ("steps", "q"), ("seed", "Q"),
]
CONFIG_V2 = [("loss.eta_schedule", "I"), ("loss.eta_final", "f"), ("init_scale", "f")]
CONFIG_V3 = [("model.alibi_rho", "f"), ("model.rope_base", "f")]
# Version 4 (any model shape): the configuration block keeps the recipe every model shares, and a
# model block with every field of a ModelSpec follows it.
RECIPE_V4 = [(key, code) for key, code in CONFIG_V1 if key.startswith("optim.") or key in ("batch", "steps", "seed")]
MODEL_V4 = [("spec.layers", "i"), ("spec.looped", "I"), ("spec.heads", "i"), ("spec.width", "i"),
            ("spec.head_dim", "i"), ("spec.mlp", "I"), ("spec.hidden", "i"), ("spec.layernorm", "I"),
            ("spec.attention", "I"), ("spec.attn_scale", "f"), ("spec.causal", "I"), ("spec.out_proj", "I"),
            ("spec.residual", "I"), ("spec.positions", "I"), ("spec.pe_scale", "f"), ("spec.max_len", "i"),
            ("spec.alibi_rho", "f"), ("spec.rope_base", "f"), ("spec.input", "I"), ("spec.vocab_in", "i"),
            ("spec.in_dim", "i"), ("spec.input_proj", "I"), ("spec.output", "I"), ("spec.out_dim", "i"),
            ("spec.readout_bias", "I"), ("spec.ignore_class", "i"), ("spec.loop", "I"), ("spec.mu", "f"),
            ("spec.alpha", "f"), ("spec.init_scale", "f"), ("spec.attn_bias", "I"), ("spec.branch_norm", "I")]
STATE = [("step", "q"), ("rng_state", "Q"), ("rng_inc", "Q")]
SET_NAMES = ["params", "adam_m", "adam_v"]

# Fixed tokens for the logits, by alphabet size.
TOKENS = {2: [0, 1, 0, 1, 0, 1, 0, 1], 4: [0, 1, 2, 3, 0, 2, 1, 3, 0, 1, 2, 0],
          5: [0, 1, 2, 3, 4, 0, 2, 1, 4, 3, 0, 1]}


def config_fields(version):
    if version >= 4:
        return RECIPE_V4 + MODEL_V4
    return CONFIG_V1 + (CONFIG_V2 if version >= 2 else []) + (CONFIG_V3 if version >= 3 else [])


class Reader:
    def __init__(self, data, pos=0):
        self.data, self.pos = data, pos

    def take(self, code):
        (value,) = struct.unpack_from("<" + code, self.data, self.pos)
        self.pos += struct.calcsize(code)
        return value

    def name(self):
        length = self.take("I")
        text = self.data[self.pos:self.pos + length].decode("ascii")
        self.pos += length
        return text


def read_checkpoint(path):
    """Returns (version, flags, fields, sets): fields maps every configuration and state key to its
    value; sets maps "params" (and the AdamW moments) to [(name, rows, cols, [float32 values])]."""
    data = Path(path).read_bytes()
    if data[:8] != MAGIC:
        raise ValueError(f"{path}: bad magic")
    r = Reader(data, 8)
    version, flags, size = r.take("I"), r.take("I"), r.take("Q")
    if size != len(data):
        raise ValueError(f"{path}: declared size {size}, file has {len(data)} bytes")
    (crc,) = struct.unpack_from("<I", data, len(data) - 4)
    if crc != zlib.crc32(data[:-4]):
        raise ValueError(f"{path}: checksum mismatch")
    fields = {key: r.take(code) for key, code in config_fields(version) + STATE}
    sets = {}
    for set_name in SET_NAMES[:3 if flags & 1 else 1]:
        tensors = []
        for _ in range(r.take("I")):
            name, rows, cols = r.name(), r.take("I"), r.take("I")
            values = list(struct.unpack_from(f"<{rows * cols}f", data, r.pos))
            r.pos += 4 * rows * cols
            tensors.append((name, rows, cols, values))
        sets[set_name] = tensors
    if r.pos != len(data) - 4:
        raise ValueError(f"{path}: {len(data) - 4 - r.pos} bytes left before the checksum")
    return version, flags, fields, sets


def model_config(fields):
    if fields["model.loop"] == 1 and fields["model.beta"] != 0.0:
        raise ValueError("the reference supports the Hamiltonian loop with beta 0 only")
    return ref.ModelConfig(
        loops=fields["model.loops"], vocab_in=fields["model.vocab_in"], vocab_out=fields["model.vocab_out"],
        positions=POSITIONS[fields["model.positions"]], pe_scale=fields["model.pe_scale"],
        alibi_rho=fields.get("model.alibi_rho", 0.5), rope_base=fields.get("model.rope_base", 10000.0),
        causal=fields["model.causal"] == 1, loop="hamiltonian" if fields["model.loop"] == 1 else "standard",
        mu=fields["model.mu"], alpha=fields["model.alpha"])


def family_logits(fields, params, tokens):
    """Version 4: the model family's reference on the stored ModelSpec (tokens in, classes out)."""
    c = {key[len("spec."):]: value for key, value in fields.items() if key.startswith("spec.")}
    if c["loop"] != 0 or c["input"] != family.TOKENS or c["output"] != family.CLASSES:
        raise ValueError("the frozen version-4 file must be a token classifier with the standard loop")
    shapes = dict(family.param_shapes(c))
    weights = {name: torch.tensor(params[name], dtype=torch.float64).reshape(shapes[name]) for name in shapes}
    data = {"tokens": torch.tensor([tokens]), "labels": torch.zeros(1, len(tokens), dtype=torch.int64)}
    with torch.no_grad():
        y, _, _ = family.forward(c, weights, data)
    return y[0]


def reference_logits(fields, params, tokens):
    if "spec.layers" in fields:
        return family_logits(fields, params, tokens)
    cfg = model_config(fields)
    shapes = ref.param_shapes(cfg)
    weights = {name: torch.tensor(params[name], dtype=torch.float64).reshape(shapes[name])
               for name in ref.param_names(cfg)}
    with torch.no_grad():
        return ref.forward(weights, cfg, torch.tensor([tokens]))["logits"][0]


def sequential_sum(values):
    total = 0.0
    for v in values:  # file order, in float64, as the C++ test adds them
        total += v
    return total


def expectation_text(path, version, flags, fields, sets):
    params = {name: values for name, _, _, values in sets["params"]}
    vocab = fields["spec.vocab_in"] if "spec.layers" in fields else fields["task.alphabet"]
    tokens = TOKENS.get(vocab) or [(7 * i + 3) % vocab for i in range(min(12, fields.get("spec.max_len", 12)))]
    logits = reference_logits(fields, params, tokens)
    lines = [f"# Expected contents of {Path(path).name}: tests/frozen/frozen.py expect (do not edit by hand)",
             f"version {version}", f"has_optimizer {flags & 1}", f"bytes {Path(path).stat().st_size}"]
    lines += [f"{key} {value!r}" for key, value in fields.items()]
    for set_name, tensors in sets.items():
        lines += [f"sum.{set_name}.{name} {sequential_sum(values)!r}" for name, _, _, values in tensors]
    lines.append("tokens " + " ".join(str(t) for t in tokens))
    lines += [f"logits.{i} " + " ".join(repr(v) for v in row.tolist()) for i, row in enumerate(logits)]
    return "\n".join(lines) + "\n"


def cmd_expect(args):
    for path in args.files:
        version, flags, fields, sets = read_checkpoint(path)
        out = Path(str(path) + ".expect")
        out.write_text(expectation_text(path, version, flags, fields, sets))
        print(f"{out}: version {version}, {len(sets)} tensor set(s), {len(sets['params'])} tensors")
    return 0


# --------------------------------------------------------------------------------------------
# The forced-prediction model
# --------------------------------------------------------------------------------------------
# Alphabet 2, no positions, 4 loops. Wq = Wk = Wv = 0 (attention adds nothing), W1 = W2 = 0 and
# b1 = 0 (the MLP adds b2 = B e_K every loop), E[x] = A e_{(x+1) mod 2}, Wout[c][c] = 1, bout = 0.
# After loop t the readout is LNf(t B e_K + A e_{(x+1) mod 2}): it predicts (x + 1) mod 2 while
# t B < A and class K once t B > A. With A = 2.5, B = 1, K = 0: loops 1-2 predict the other
# symbol, which is every target of an alternating sequence (100%); loops 3-4 predict 0 (half of
# the targets at an even length, and no sequence whole).
FORCED_A, FORCED_B, FORCED_K = 2.5, 1.0, 0


def forced_fields():
    f = {"model.loops": 4, "model.vocab_in": 2, "model.vocab_out": 3, "model.positions": 1, "model.pe_scale": 0.15,
         "model.causal": 1, "model.loop": 0, "model.mu": 0.9, "model.alpha": 1.0, "model.beta": 0.0, "model.tau": 1.0,
         "loss.lambda_p": 0.1, "loss.lambda_k": 0.001, "loss.lambda_s": 0.02, "loss.q": 1.5, "loss.eta": 0.0,
         "optim.lr": 1e-3, "optim.beta1": 0.9, "optim.beta2": 0.999, "optim.eps": 1e-8, "optim.weight_decay": 0.1,
         "optim.clip_norm": 1.0, "optim.warmup_steps": 0, "optim.schedule": 0, "optim.min_lr_ratio": 0.0,
         "task.alphabet": 2, "task.hops": 1, "curriculum.min_len": 16, "curriculum.max_len": 64,
         "curriculum.ramp": 0.5, "batch": 32, "steps": 20000, "seed": 1,
         "step": 0, "rng_state": 0x853C49E6748FEA9B, "rng_inc": 0xDA3E39CB94B95BDB}
    return f


def forced_params():
    d, hidden, vocab = ref.D, ref.HIDDEN, 3
    zeros = lambda rows, cols: [[0.0] * cols for _ in range(rows)]  # noqa: E731
    E = zeros(2, d)
    for x in range(2):
        E[x][(x + 1) % 2] = FORCED_A
    b2 = [0.0] * d
    b2[FORCED_K] = FORCED_B
    Wout = zeros(d, vocab)
    for c in range(vocab):
        Wout[c][c] = 1.0
    ones = [1.0] * d
    return [("E", E), ("Wq", zeros(d, d)), ("Wk", zeros(d, d)), ("Wv", zeros(d, d)),
            ("ln1.gain", [ones]), ("ln1.bias", zeros(1, d)), ("ln2.gain", [ones]), ("ln2.bias", zeros(1, d)),
            ("W1", zeros(d, hidden)), ("b1", zeros(1, hidden)), ("W2", zeros(hidden, d)), ("b2", [b2]),
            ("lnf.gain", [ones]), ("lnf.bias", zeros(1, d)), ("Wout", Wout), ("bout", zeros(1, vocab))]


def write_checkpoint(path, fields, tensors):
    """A version-1 file without optimizer state (flags 0), laid out as docs/CHECKPOINT.md says."""
    body = b"".join(struct.pack("<" + code, fields[key]) for key, code in CONFIG_V1 + STATE)
    body += struct.pack("<I", len(tensors))
    for name, rows in tensors:
        raw = name.encode("ascii")
        values = [v for row in rows for v in row]
        body += struct.pack("<I", len(raw)) + raw + struct.pack("<II", len(rows), len(rows[0]))
        body += struct.pack(f"<{len(values)}f", *values)
    size = 24 + len(body) + 4
    data = MAGIC + struct.pack("<IIQ", 1, 0, size) + body
    Path(path).write_bytes(data + struct.pack("<I", zlib.crc32(data)))


def cmd_forced(args):
    write_checkpoint(args.out, forced_fields(), forced_params())
    version, _, fields, _ = read_checkpoint(args.out)
    assert version == 1, "the forced model must be a version-1 file"
    print(f"{args.out}: forced-prediction model, {Path(args.out).stat().st_size} bytes")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("expect", help="write <file>.expect for each checkpoint")
    e.add_argument("files", nargs="+")
    e.set_defaults(func=cmd_expect)
    f = sub.add_parser("forced", help="write the forced-prediction model (version 1)")
    f.add_argument("--out", required=True)
    f.set_defaults(func=cmd_forced)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
