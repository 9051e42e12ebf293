#!/usr/bin/python3
"""Independent PyTorch reference for tinyloop's model family (engine/include/tinyloop/model.hpp).

Stacked or looped layers, several heads, softmax, linear or position-gated attention (the ICAR
authors' Fig. 7 layer), MLP and LayerNorm on or off, sinusoidal / learned / no positions or the
relative schemes of SPEC 1.1 (ALiBi with a learned slope per head, alone or with the sinusoids;
RoPE), token or vector inputs, cross-entropy or MSE outputs, written with plain autograd in
float64. `golden` writes one .tlg file per case (configuration, parameters, inputs, outputs, loss,
every gradient, every attention map and position gate); the C++ test
tests/model/test_family_golden.cpp builds the same model from the stored configuration and compares.

    /usr/bin/python3 tools/reference/family_reference.py golden --out tests/golden
    /usr/bin/python3 tools/reference/family_reference.py golden --case family_authors_gated  (one case)
    (also reachable as: torch_reference.py family-golden --out tests/golden)
"""

import argparse
import math
import struct
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

LN_EPS = 1e-5

# The cases mirror tests/support/family_cases.hpp (the C++ test reads the configuration from
# the file, so a mismatch would show up as a different model, not a silent pass).
DEFAULTS = dict(layers=2, looped=0, heads=1, width=8, head_dim=0, mlp=1, hidden=0, layernorm=1,
                attention=0, attn_scale=0.0, causal=1, out_proj=1, residual=1, positions=1,
                pe_scale=1.0, max_len=64, input=0, vocab_in=4, in_dim=8, input_proj=1, output=0,
                out_dim=5, readout_bias=1)
# The SPEC 1.1 settings; written only for the cases that use ALiBi or RoPE, so that the older
# golden files stay as they were.
RELATIVE_DEFAULTS = dict(alibi_rho=0.5, rope_base=10000.0)
SOFTMAX, LINEAR, GATED = 0, 1, 2
P_NONE, P_SIN, P_LEARNED, P_ALIBI, P_ALIBI_SIN, P_ROPE = 0, 1, 2, 3, 4, 5
TOKENS, VECTORS = 0, 1
CLASSES, REGRESSION = 0, 1

CASES = {
    "family_stacked_softmax": (dict(layers=2, heads=2, width=8, vocab_in=5, out_dim=6), 2, 7),
    "family_looped_learned": (dict(layers=3, looped=1, width=6, hidden=10, causal=0, positions=P_LEARNED,
                                   max_len=9, vocab_in=4, out_dim=3), 2, 6),
    "family_linear_icar": (dict(layers=1, width=6, mlp=0, layernorm=0, out_proj=0, residual=0,
                                attention=LINEAR, positions=P_NONE, input=VECTORS, in_dim=6, input_proj=0,
                                output=REGRESSION, out_dim=3, readout_bias=0), 2, 6),
    "family_linear_multihead_mlp": (dict(layers=2, heads=3, width=4, head_dim=3, layernorm=0, attention=LINEAR,
                                         positions=P_LEARNED, max_len=8, input=VECTORS, in_dim=3,
                                         output=REGRESSION, out_dim=2, hidden=6), 2, 5),
    "family_stacked_nomlp": (dict(layers=3, heads=2, width=6, mlp=0, pe_scale=0.5, readout_bias=0,
                                  attn_scale=0.7, vocab_in=7, out_dim=7), 3, 5),
    "family_stacked_alibi": (dict(layers=2, heads=2, width=8, positions=P_ALIBI, alibi_rho=0.3, vocab_in=5,
                                  out_dim=6), 2, 7),
    "family_looped_rope": (dict(layers=3, looped=1, heads=3, width=8, head_dim=4, hidden=12, positions=P_ROPE,
                                rope_base=100.0, vocab_in=4, out_dim=5), 2, 7),
    "family_alibi_sinusoidal_nomask": (dict(layers=2, heads=3, width=6, mlp=0, causal=0,
                                            positions=P_ALIBI_SIN, pe_scale=0.5, alibi_rho=-0.4, vocab_in=4,
                                            out_dim=4), 2, 6),
    # The ICAR authors' augmented model (their augmented.py): biases on q, k, v and o, a LayerNorm on
    # the attention branch, x' = e + LN(o); and the same two options inside a full stack.
    "family_authors_augmented": (dict(layers=1, width=6, mlp=0, layernorm=0, attn_bias=1, branch_norm=1,
                                      attention=LINEAR, positions=P_NONE, input=VECTORS, in_dim=6, input_proj=0,
                                      output=REGRESSION, out_dim=2), 2, 6),
    "family_stacked_bias_branch_norm": (dict(layers=2, heads=2, width=8, attn_bias=1, branch_norm=1, vocab_in=5,
                                             out_dim=4), 2, 7),
    # The ICAR authors' non-augmented model (their non_augmented.py, Fig. 7): position-gated heads as
    # wide as the stream, summed; the learned table feeds the gates only; x' = LN(o), no residual.
    "family_authors_gated": (dict(layers=1, heads=3, width=4, mlp=0, layernorm=0, residual=0, attn_bias=1,
                                  branch_norm=1, attention=GATED, positions=P_LEARNED, max_len=8, input=VECTORS,
                                  in_dim=4, input_proj=0, output=REGRESSION, out_dim=2), 2, 6),
}


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def uses_alibi(c):
    return c["positions"] in (P_ALIBI, P_ALIBI_SIN)


def full_config(over):
    c = dict(DEFAULTS)
    if over.get("positions") in (P_ALIBI, P_ALIBI_SIN, P_ROPE):
        c.update(RELATIVE_DEFAULTS)
    c.update(over)
    for key in ("attn_scale", "pe_scale", "alibi_rho", "rope_base"):
        if key in c:
            c[key] = f32(c[key])
    return c


def head_width(c):
    if c["head_dim"] > 0:
        return c["head_dim"]
    return c["width"] if c["attention"] == GATED else c["width"] // c["heads"]


def attention_width(c):
    """The attention's output before Wo: heads concatenated, or summed (position-gated)."""
    return head_width(c) if c["attention"] == GATED else c["heads"] * head_width(c)


def hidden_width(c):
    return c["hidden"] if c["hidden"] > 0 else 4 * c["width"]


def param_shapes(c):
    """(name, shape) in the engine's layout order (ModelLayout::make)."""
    d, Fw, H = c["width"], c["heads"] * head_width(c), hidden_width(c)
    out = []
    if c["input"] == TOKENS:
        out.append(("E", (c["vocab_in"], d)))
    if c["input"] == VECTORS and c["input_proj"]:
        out += [("Win", (c["in_dim"], d)), ("bin", (d,))]
    if c["positions"] == P_LEARNED:
        out.append(("pos", (c["max_len"], d)))
    for b in range(1 if c["looped"] else c["layers"]):
        p = f"L{b}."
        if c["layernorm"]:
            out += [(p + "ln1.gain", (d,)), (p + "ln1.bias", (d,))]
        out += [(p + "Wq", (d, Fw)), (p + "Wk", (d, Fw)), (p + "Wv", (d, Fw))]
        if c["out_proj"]:
            out.append((p + "Wo", (attention_width(c), d)))
        if uses_alibi(c):
            out.append((p + "rho", (c["heads"],)))
        if c["mlp"]:
            if c["layernorm"]:
                out += [(p + "ln2.gain", (d,)), (p + "ln2.bias", (d,))]
            out += [(p + "W1", (d, H)), (p + "b1", (H,)), (p + "W2", (H, d)), (p + "b2", (d,))]
        if c.get("attn_bias", 0):
            out += [(p + "bq", (Fw,)), (p + "bk", (Fw,)), (p + "bv", (Fw,))]
            if c["out_proj"]:
                out.append((p + "bo", (d,)))
        if c.get("branch_norm", 0):
            out += [(p + "lna.gain", (d,)), (p + "lna.bias", (d,))]
    if c["layernorm"]:
        out += [("lnf.gain", (d,)), ("lnf.bias", (d,))]
    out.append(("Wout", (d, c["out_dim"])))
    if c["readout_bias"]:
        out.append(("bout", (c["out_dim"],)))
    return out


def sinusoids(n, d):
    t = torch.zeros(n, d, dtype=torch.float64)
    for i in range(n):
        for col in range(d):
            k2 = col - col % 2
            angle = i / (10000.0 ** (k2 / d))
            t[i, col] = math.sin(angle) if col % 2 == 0 else math.cos(angle)
    return t


def rope(x, base):
    """SPEC 1.1: rotates each pair (2k, 2k+1) of x[..., i, :] by i * base^(-2k/dh), dh = x's last dim."""
    n, dh = x.shape[-2], x.shape[-1]
    i = torch.arange(n, dtype=torch.float64).unsqueeze(1)
    theta = torch.pow(torch.tensor(float(base), dtype=torch.float64),
                      -torch.arange(0, dh, 2, dtype=torch.float64) / dh)
    angle = i * theta  # [n, dh/2]
    cos, sin = torch.cos(angle), torch.sin(angle)
    even, odd = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


def alibi_bias(rho, n):
    """SPEC 1.1: -softplus(rho_h) * |i - j| per head, [heads, n, n] (the causal mask hides j > i)."""
    i = torch.arange(n, dtype=torch.float64)
    distance = (i.unsqueeze(1) - i.unsqueeze(0)).abs()
    return -F.softplus(rho).view(-1, 1, 1) * distance


def layer_norm(x, g, b):
    return F.layer_norm(x, (x.shape[-1],), g, b, LN_EPS)


def position_gated_attention(P, p, bias, h, pos, heads, scale, allowed):
    """The ICAR authors' non-augmented attention (their Fig. 7), from its description: each head is
    as wide as the stream; its linear token scores are multiplied, entry by entry, by a causal
    softmax over the learned position table seen through the same head's query and key maps (with
    their biases), and the heads' outputs are summed. Returns the output before Wo (B, n, E), the
    maps T * S (B, heads, n, n) and the gates S (heads, n, n)."""
    E = h.shape[-1]

    def project(x, name):  # (..., n, E) -> (..., n, heads, E): head j is columns j*E .. (j+1)*E
        return (x @ P[p + "W" + name] + bias("b" + name)).unflatten(-1, (heads, E))

    q, k, v = project(h, "q"), project(h, "k"), project(h, "v")
    tokens = torch.einsum("bihe,bjhe->bhij", q, k) * scale
    tokens = tokens.masked_fill(~allowed, 0.0)  # linear: the future contributes nothing
    gate = torch.einsum("ihe,jhe->hij", project(pos, "q"), project(pos, "k")) * scale
    gate = torch.softmax(gate.masked_fill(~allowed, float("-inf")), dim=-1)
    maps = tokens * gate
    return torch.einsum("bhij,bjhe->bie", maps, v), maps, gate


def forward(c, P, data):
    """Returns outputs (B, n, out), loss, the attention maps [(B, heads, n, n)] per layer, and the
    position gates [(heads, n, n)] per layer of position-gated attention."""
    if c["input"] == TOKENS:
        x = P["E"][data["tokens"]]
    elif c["input_proj"]:
        x = data["inputs"] @ P["Win"] + P["bin"]
    else:
        x = data["inputs"]
    B, n, d = x.shape
    if c["positions"] in (P_SIN, P_ALIBI_SIN):
        x = x + c["pe_scale"] * sinusoids(n, d)
    elif c["positions"] == P_LEARNED and c["attention"] != GATED:
        x = x + P["pos"][:n]
    dh, heads = head_width(c), c["heads"]
    scale = c["attn_scale"] if c["attn_scale"] > 0 else 1.0 / math.sqrt(dh)
    allowed = torch.tril(torch.ones(n, n, dtype=torch.bool)) if c["causal"] else torch.ones(n, n, dtype=torch.bool)
    attns, gates = [], []
    for layer in range(c["layers"]):
        p = f"L{0 if c['looped'] else layer}."
        h = layer_norm(x, P[p + "ln1.gain"], P[p + "ln1.bias"]) if c["layernorm"] else x
        bias = (lambda name: P[p + name]) if c.get("attn_bias", 0) else (lambda name: 0.0)
        if c["attention"] == GATED:
            a, a_map, gate = position_gated_attention(P, p, bias, h, P["pos"][:n], heads, scale, allowed)
            gates.append(gate)
        else:
            split = lambda t: t.view(B, n, heads, dh).transpose(1, 2)
            q, k, v = (split(h @ P[p + "Wq"] + bias("bq")), split(h @ P[p + "Wk"] + bias("bk")),
                       split(h @ P[p + "Wv"] + bias("bv")))
            if c["positions"] == P_ROPE:
                q, k = rope(q, c["rope_base"]), rope(k, c["rope_base"])
            s = q @ k.transpose(-1, -2) * scale
            if uses_alibi(c):
                s = s + alibi_bias(P[p + "rho"], n)
            if c["attention"] == SOFTMAX:
                a_map = torch.softmax(s.masked_fill(~allowed, float("-inf")), dim=-1)
            else:
                a_map = s * allowed
            a = (a_map @ v).transpose(1, 2).reshape(B, n, heads * dh)
        attns.append(a_map)
        if c["out_proj"]:
            a = a @ P[p + "Wo"] + bias("bo")
        if c.get("branch_norm", 0):
            a = layer_norm(a, P[p + "lna.gain"], P[p + "lna.bias"])
        u = x + a if c["residual"] else a
        if c["mlp"]:
            h2 = layer_norm(u, P[p + "ln2.gain"], P[p + "ln2.bias"]) if c["layernorm"] else u
            x = u + F.gelu(h2 @ P[p + "W1"] + P[p + "b1"]) @ P[p + "W2"] + P[p + "b2"]
        else:
            x = u
    h = layer_norm(x, P["lnf.gain"], P["lnf.bias"]) if c["layernorm"] else x
    y = h @ P["Wout"]
    if c["readout_bias"]:
        y = y + P["bout"]
    if c["output"] == CLASSES:
        keep = data["labels"] >= 0
        loss = F.cross_entropy(y[keep], data["labels"][keep])
    else:
        keep = data["mask"] > 0
        loss = F.mse_loss(y[keep], data["targets"][keep])
    return y, loss, attns, gates


def make_case(over, B, n, seed):
    c = full_config(over)
    g = torch.Generator().manual_seed(seed)
    P = {}
    for name, shape in param_shapes(c):
        t = torch.randn(*shape, generator=g, dtype=torch.float64) * 0.4
        if name.endswith("gain"):
            t = 1.0 + 0.1 * t
        elif name.endswith("rho"):
            t = c["alibi_rho"] + t
        P[name] = t.requires_grad_(True)
    data = {}
    if c["input"] == TOKENS:
        data["tokens"] = torch.randint(0, c["vocab_in"], (B, n), generator=g)
    else:
        data["inputs"] = torch.rand(B, n, c["in_dim"], generator=g, dtype=torch.float64) * 2 - 1
    idx = torch.arange(B * n).reshape(B, n)
    if c["output"] == CLASSES:
        labels = torch.randint(0, c["out_dim"], (B, n), generator=g)
        data["labels"] = torch.where(idx % 3 == 1, torch.full_like(labels, -1), labels)
    else:
        data["targets"] = torch.rand(B, n, c["out_dim"], generator=g, dtype=torch.float64) * 2 - 1
        data["mask"] = (idx % 3 != 1).to(torch.int64)
    y, loss, attns, gates = forward(c, P, data)
    loss.backward()
    entries = [(f"cfg.{k}", torch.tensor(float(v), dtype=torch.float64)) for k, v in c.items()]
    for k, v in data.items():
        entries.append((k, v.to(torch.float64)))
    entries += [(f"param.{name}", P[name].detach()) for name, _ in param_shapes(c)]
    entries += [("outputs", y.detach()), ("loss", loss.detach())]
    entries += [(f"grad.{name}", P[name].grad) for name, _ in param_shapes(c)]
    entries += [(f"attention.L{i}", a.detach()) for i, a in enumerate(attns)]
    entries += [(f"gate.L{i}", s.detach()) for i, s in enumerate(gates)]
    return [(k, t.to(torch.float64).contiguous()) for k, t in entries], loss.item()


def write_tlg(path, entries):
    with open(path, "wb") as f:
        f.write(b"TLGOLD01")
        f.write(struct.pack("<I", len(entries)))
        for name, tensor in entries:
            raw = name.encode("ascii")
            f.write(struct.pack("<I", len(raw)) + raw)
            f.write(struct.pack("<I", tensor.dim()))
            f.write(struct.pack(f"<{tensor.dim()}I", *tensor.shape))
            values = tensor.reshape(-1).tolist()
            f.write(struct.pack(f"<{len(values)}d", *values))


def cmd_golden(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    unknown = set(args.case or []) - set(CASES)
    if unknown:
        print(f"unknown case(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    for i, (name, (over, B, n)) in enumerate(CASES.items()):  # the seed is the case's place in CASES
        if args.case and name not in args.case:
            continue
        entries, loss = make_case(over, B, n, seed=100 + i)
        write_tlg(out / f"{name}.tlg", entries)
        print(f"{out / name}.tlg: {len(entries)} tensors, loss {loss:.6f}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("golden", help="write the family golden .tlg cases")
    g.add_argument("--out", default="tests/golden")
    g.add_argument("--case", action="append", help="write only this case (repeatable; default: every case)")
    g.set_defaults(func=cmd_golden)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
