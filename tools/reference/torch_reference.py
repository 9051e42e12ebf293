#!/usr/bin/python3
"""Independent PyTorch reference for tinyloop (SPEC.md sections 1-2).

This file re-implements the looped transformer and the energy-entropy objective with plain
PyTorch autograd, so the hand-written C++ forward/backward can be checked against it. It runs
with Debian's PyTorch (always invoke /usr/bin/python3, not the pyenv python on PATH).

Modes
-----
golden        Write the golden cases the C++ tests compare against (float64, fixed seeds):
                  /usr/bin/python3 tools/reference/torch_reference.py golden --out tests/golden
golden-extra  Write the AdamW-step goldens (a few steps of torch.optim.AdamW with clip_grad_norm_,
              warm-up and cosine rate, from golden weights: parameters and both moments) and the
              Tsallis goldens at q = 0.7 and q = 1.001:
                  /usr/bin/python3 tools/reference/torch_reference.py golden-extra --out tests/golden
bench         Time one full training step of the lam2026 model (forward, loss, backward,
              global-norm clip 1.0, AdamW) in float32 eager mode:
                  /usr/bin/python3 tools/reference/torch_reference.py bench \
                      --len 64 --batch 32 --threads 1 --steps 20 [--warmup 3] [--json]
check-export  Load a model written by `tinyloop export`, run the forward pass on the given
              tokens and compare with the engine's logits (exit 0 when within --tol):
                  /usr/bin/python3 tools/reference/torch_reference.py check-export \
                      --export model.json --tokens "0 1 2 3" --logits logits.json [--tol 1e-4]

Golden file format (.tlg, little-endian): 8 bytes "TLGOLD01", u32 tensor count, then per
tensor: u32 name length, the ASCII name, u32 ndim, ndim x u32 dims, prod(dims) float64 values
row-major (ndim 0 is a scalar). Integers (tokens, targets, config) are stored as float64.
"""

import argparse
import dataclasses
import json
import math
import struct
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

D = 8             # model width (SPEC 1)
HIDDEN = 4 * D    # MLP width
LN_EPS = 1e-5

# Parameter names in SPEC order; a linear map is y = x W + b with W stored (in x out). A model
# with ALiBi positions (SPEC 1.1) adds "rho", its slope being softplus(rho).
PARAM_NAMES = ["E", "Wq", "Wk", "Wv", "ln1.gain", "ln1.bias", "ln2.gain", "ln2.bias",
               "W1", "b1", "W2", "b2", "lnf.gain", "lnf.bias", "Wout", "bout"]

# Position kinds as the engine numbers them (tinyloop::Positions, checkpoint field).
POSITION_CODES = {"sinusoidal": 0, "none": 1, "alibi": 2, "alibi+sinusoidal": 3, "rope": 4}


def uses_alibi(cfg):
    return cfg.positions in ("alibi", "alibi+sinusoidal")


def param_names(cfg):
    return PARAM_NAMES + (["rho"] if uses_alibi(cfg) else [])


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class ModelConfig:
    loops: int = 25
    vocab_in: int = 4
    vocab_out: int = 5
    positions: str = "sinusoidal"   # a key of POSITION_CODES
    pe_scale: float = 0.15
    alibi_rho: float = 0.5           # initial rho of the ALiBi slope softplus(rho)
    rope_base: float = 10000.0
    causal: bool = True
    loop: str = "standard"          # or "hamiltonian"
    mu: float = 0.9
    alpha: float = 1.0


@dataclasses.dataclass
class LossConfig:
    lambda_p: float = 0.1
    lambda_k: float = 0.001
    lambda_s: float = 0.02
    q: float = 1.5
    eta: float = 0.0


def param_shapes(cfg):
    """Shape of each parameter, by name."""
    shapes = {
        "E": (cfg.vocab_in, D), "Wq": (D, D), "Wk": (D, D), "Wv": (D, D),
        "ln1.gain": (D,), "ln1.bias": (D,), "ln2.gain": (D,), "ln2.bias": (D,),
        "W1": (D, HIDDEN), "b1": (HIDDEN,), "W2": (HIDDEN, D), "b2": (D,),
        "lnf.gain": (D,), "lnf.bias": (D,), "Wout": (D, cfg.vocab_out), "bout": (cfg.vocab_out,),
    }
    if uses_alibi(cfg):
        shapes["rho"] = (1,)
    return shapes


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------

def default_init(cfg, dtype):
    """PyTorch's default initialisation of the same layers (SPEC 1), weights stored (in x out)."""
    emb = torch.nn.Embedding(cfg.vocab_in, D)
    wq, wk, wv = (torch.nn.Linear(D, D, bias=False) for _ in range(3))
    ln1, ln2, lnf = (torch.nn.LayerNorm(D) for _ in range(3))
    fc1, fc2 = torch.nn.Linear(D, HIDDEN), torch.nn.Linear(HIDDEN, D)
    out = torch.nn.Linear(D, cfg.vocab_out)
    raw = {
        "E": emb.weight, "Wq": wq.weight.t(), "Wk": wk.weight.t(), "Wv": wv.weight.t(),
        "ln1.gain": ln1.weight, "ln1.bias": ln1.bias, "ln2.gain": ln2.weight, "ln2.bias": ln2.bias,
        "W1": fc1.weight.t(), "b1": fc1.bias, "W2": fc2.weight.t(), "b2": fc2.bias,
        "lnf.gain": lnf.weight, "lnf.bias": lnf.bias, "Wout": out.weight.t(), "bout": out.bias,
        "rho": torch.tensor([cfg.alibi_rho]),
    }
    return {name: raw[name].detach().to(dtype).contiguous() for name in param_names(cfg)}


def perturb(params):
    """Move LN gains/biases and the MLP/readout biases off their init so every gradient path
    is exercised: gains 1 + 0.2 N(0,1), LN biases and b1/b2/bout 0.1 N(0,1)."""
    for name in ("ln1.gain", "ln2.gain", "lnf.gain"):
        params[name] = 1.0 + 0.2 * torch.randn_like(params[name])
    for name in ("ln1.bias", "ln2.bias", "lnf.bias", "b1", "b2", "bout"):
        params[name] = 0.1 * torch.randn_like(params[name])
    if "rho" in params:
        params["rho"] = params["rho"] + 0.3 * torch.randn_like(params["rho"])
    return params


def require_grad(params):
    return {name: p.detach().clone().requires_grad_(True) for name, p in params.items()}


# --------------------------------------------------------------------------------------------
# Model (SPEC 1)
# --------------------------------------------------------------------------------------------

def sinusoidal_table(n, dtype):
    """P[i, 2k] = sin(i / 10000^(2k/d)), P[i, 2k+1] = cos(i / 10000^(2k/d)), i from 0."""
    i = torch.arange(n, dtype=torch.float64).unsqueeze(1)
    two_k = torch.arange(0, D, 2, dtype=torch.float64)
    angle = i / torch.pow(10000.0, two_k / D)
    table = torch.zeros(n, D, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle)
    return table.to(dtype)


def layer_norm(x, gain, bias):
    """LayerNorm over the last axis: biased variance, eps 1e-5, gain and bias."""
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + LN_EPS) * gain + bias


def attention_mask(n, causal):
    """True where query i may attend to key j: j <= i when causal, everywhere otherwise."""
    full = torch.ones(n, n, dtype=torch.bool)
    return torch.tril(full) if causal else full


def embed(params, cfg, tokens):
    """X = E[x] + pe_scale * P (E[x] alone when the scheme adds no sinusoids); [B, n] -> [B, n, d]."""
    if cfg.positions not in POSITION_CODES:
        raise ValueError(f"unknown positions {cfg.positions!r}")
    x = params["E"][tokens]
    if cfg.positions in ("sinusoidal", "alibi+sinusoidal"):
        x = x + cfg.pe_scale * sinusoidal_table(tokens.shape[1], x.dtype)
    return x


def rope(x, base):
    """SPEC 1.1: rotates each pair (2k, 2k+1) of x[..., i, :] by the angle i * base^(-2k/d)."""
    n = x.shape[-2]
    i = torch.arange(n, dtype=torch.float64).unsqueeze(1)
    theta = torch.pow(torch.tensor(float(base), dtype=torch.float64),
                      -torch.arange(0, D, 2, dtype=torch.float64) / D)
    angle = i * theta  # [n, d/2]
    cos, sin = torch.cos(angle).to(x.dtype), torch.sin(angle).to(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


def alibi_bias(params, n, dtype):
    """SPEC 1.1: -softplus(rho) * |i - j| (i - j under the causal mask, which hides j > i)."""
    i = torch.arange(n, dtype=dtype)
    distance = (i.unsqueeze(1) - i.unsqueeze(0)).abs()
    return -F.softplus(params["rho"][0]) * distance


def block(params, y, mask, cfg):
    """One pass of the shared block on Y = Z + X: returns (A, M, P)."""
    h = layer_norm(y, params["ln1.gain"], params["ln1.bias"])
    q, k, v = h @ params["Wq"], h @ params["Wk"], h @ params["Wv"]
    if cfg.positions == "rope":
        q, k = rope(q, cfg.rope_base), rope(k, cfg.rope_base)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)
    if uses_alibi(cfg):
        scores = scores + alibi_bias(params, y.shape[-2], scores.dtype)
    scores = scores.masked_fill(~mask, float("-inf"))
    p = torch.softmax(scores, dim=-1)
    a = p @ v
    h2 = layer_norm(y + a, params["ln2.gain"], params["ln2.bias"])
    m = F.gelu(h2 @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]  # erf GELU
    return a, m, p


def forward(params, cfg, tokens):
    """Runs the looped transformer. Returns the logits [B, n, V_out], the states Z_0..Z_L and
    the attention matrices P^(1)..P^(L), with the mask used."""
    x = embed(params, cfg, tokens)
    mask = attention_mask(tokens.shape[1], cfg.causal)
    z = torch.zeros_like(x)
    vel = torch.zeros_like(x)
    states, attns = [z], []
    for _ in range(cfg.loops):
        y = z + x
        a, m, p = block(params, y, mask, cfg)
        if cfg.loop == "standard":
            z = z + a + m
        elif cfg.loop == "hamiltonian":  # beta = 0: V_t = mu V_{t-1} + alpha (F(Z) - Z)
            vel = cfg.mu * vel + cfg.alpha * (a + m)
            z = z + vel
        else:
            raise ValueError(f"unknown loop {cfg.loop!r}")
        states.append(z)
        attns.append(p)
    final = layer_norm(z + x, params["lnf.gain"], params["lnf.bias"])
    logits = final @ params["Wout"] + params["bout"]
    return {"logits": logits, "states": states, "attns": attns, "mask": mask}


# --------------------------------------------------------------------------------------------
# Energy-entropy objective (SPEC 2)
# --------------------------------------------------------------------------------------------

def kinetic(states):
    """K = (1/(2L)) sum_t ||Z_t - Z_{t-1}||_F^2 per sequence, averaged over the batch."""
    loops, batch = len(states) - 1, states[0].shape[0]
    total = sum(((z1 - z0) ** 2).sum() for z0, z1 in zip(states[:-1], states[1:]))
    return total / (2 * loops * batch)


def potential(attns):
    """U = mean over loops, batch, rows of -log max_j P_ij. The gradient flows through the
    arg-max entry only (torch.argmax takes the lowest j on ties)."""
    terms = []
    for p in attns:
        j = p.detach().argmax(dim=-1, keepdim=True)
        terms.append(-torch.log(p.gather(-1, j)).mean())
    return torch.stack(terms).mean()


def tsallis(attns, mask, q):
    """Mean over loops, batch, rows of S_q(p) = (1 - sum_j p_j^q)/(q - 1) on unmasked entries."""
    terms = []
    for p in attns:
        safe = torch.where(mask, p, torch.ones_like(p))  # no p^q (or its gradient) off the mask
        power_sum = torch.where(mask, safe ** q, torch.zeros_like(p)).sum(dim=-1)
        terms.append(((1.0 - power_sum) / (q - 1.0)).mean())
    return torch.stack(terms).mean()


def loss_terms(trace, targets, lcfg):
    """All loss terms of SPEC 2 as a dict of scalar tensors."""
    logits = trace["logits"]
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    k = kinetic(trace["states"])
    u = potential(trace["attns"])
    s = tsallis(trace["attns"], trace["mask"], lcfg.q)
    ent = torch.abs(s - lcfg.eta)
    total = ce + lcfg.lambda_p * u + lcfg.lambda_k * k + lcfg.lambda_s * ent
    return {"ce": ce, "kinetic": k, "potential": u, "tsallis": s, "entropy": ent, "total": total}


# --------------------------------------------------------------------------------------------
# Induction-heads data (SPEC 4.1)
# --------------------------------------------------------------------------------------------

def induction_tokens(batch, n, alphabet, generator=None):
    """x_1 uniform; each next symbol uniform among the A - 1 symbols other than its predecessor."""
    tokens = torch.empty(batch, n, dtype=torch.long)
    tokens[:, 0] = torch.randint(alphabet, (batch,), generator=generator)
    for i in range(1, n):
        step = torch.randint(1, alphabet, (batch,), generator=generator)
        tokens[:, i] = (tokens[:, i - 1] + step) % alphabet
    return tokens


def induction_targets(tokens, alphabet, hops=1):
    """Target at i is x at hop^k(i), hop(i) = j + 1 for the most recent j < i with x_j = x_i;
    NONE (= alphabet) where a hop is undefined."""
    targets = torch.empty_like(tokens)
    for b, seq in enumerate(tokens.tolist()):
        last_seen, hop = {}, []
        for i, sym in enumerate(seq):
            hop.append(last_seen[sym] + 1 if sym in last_seen else None)
            last_seen[sym] = i
        for i in range(len(seq)):
            pos = i
            for _ in range(hops):
                pos = hop[pos] if pos is not None else None
            targets[b, i] = seq[pos] if pos is not None else alphabet
    return targets


# --------------------------------------------------------------------------------------------
# Golden cases
# --------------------------------------------------------------------------------------------

GOLDEN_CASES = {
    "lam2026_small": dict(
        seed=72, batch=3, n=9,
        model=ModelConfig(loops=4, vocab_in=4, vocab_out=5),
        loss=LossConfig()),
    "variant": dict(
        seed=238, batch=2, n=7,
        model=ModelConfig(loops=3, vocab_in=6, vocab_out=7, positions="none", causal=False,
                          loop="hamiltonian", mu=0.9, alpha=0.7),
        loss=LossConfig(lambda_p=0.3, lambda_k=0.05, lambda_s=0.2, q=2.0, eta=0.9)),
    "lam2026_full": dict(
        seed=40, batch=2, n=16,
        model=ModelConfig(loops=25, vocab_in=4, vocab_out=5),
        loss=LossConfig()),
    # SPEC 1.1: relative positions, every loss term on.
    "alibi_small": dict(
        seed=91, batch=3, n=11,
        model=ModelConfig(loops=4, vocab_in=4, vocab_out=5, positions="alibi", alibi_rho=-0.2),
        loss=LossConfig(lambda_p=0.2, lambda_k=0.01, lambda_s=0.1)),
    "alibi_sinusoidal_nomask": dict(
        seed=17, batch=2, n=8,
        model=ModelConfig(loops=3, vocab_in=5, vocab_out=6, positions="alibi+sinusoidal",
                          pe_scale=0.5, causal=False, alibi_rho=0.8),
        loss=LossConfig(lambda_p=0.3, lambda_k=0.05, lambda_s=0.2, q=2.0, eta=0.9)),
    "rope_small": dict(
        seed=55, batch=3, n=10,
        model=ModelConfig(loops=4, vocab_in=4, vocab_out=5, positions="rope", rope_base=100.0),
        loss=LossConfig(lambda_p=0.2, lambda_k=0.01, lambda_s=0.1)),
}

# The C++ configuration holds these scalars as float; the golden cases use the float-rounded
# values so the double engine and this reference compute with the very same numbers.
FLOAT_FIELDS = {"pe_scale", "alibi_rho", "rope_base", "mu", "alpha", "lambda_p", "lambda_k", "lambda_s",
                "q", "eta"}

# Smallest accepted relative gap between the largest and second-largest probability of any
# attention row, so that float32 rounding cannot move the arg-max of the potential term.
MIN_ARGMAX_GAP = 1e-4


def as_float32(value):
    return float(torch.tensor(value, dtype=torch.float32).item())


def round_config(cfg):
    """Copy of a config with its float fields rounded to float32."""
    changes = {f.name: as_float32(getattr(cfg, f.name))
               for f in dataclasses.fields(cfg) if f.name in FLOAT_FIELDS}
    return dataclasses.replace(cfg, **changes)


def min_argmax_gap(attns, mask):
    """Smallest (p_max - p_second) / p_max over all rows with at least two unmasked keys."""
    gap = float("inf")
    rows_ok = mask.sum(dim=-1) >= 2
    for p in attns:
        top2 = torch.where(mask, p, torch.full_like(p, -1.0)).topk(2, dim=-1).values
        rel = (top2[..., 0] - top2[..., 1]) / top2[..., 0]
        gap = min(gap, rel[..., rows_ok].min().item())
    return gap


def make_case(spec):
    """Builds one golden case: weights, batch, forward/backward in float64. Returns the
    ordered list of (name, tensor) to store."""
    cfg, lcfg = round_config(spec["model"]), round_config(spec["loss"])
    torch.manual_seed(spec["seed"])
    # Weights are rounded to float32 so the float and double engines start from the same values.
    base = perturb(default_init(cfg, torch.float64))
    params = require_grad({k: v.float().double() for k, v in base.items()})
    tokens = induction_tokens(spec["batch"], spec["n"], cfg.vocab_in)
    targets = induction_targets(tokens, cfg.vocab_in)

    trace = forward(params, cfg, tokens)
    terms = loss_terms(trace, targets, lcfg)
    terms["total"].backward()

    gap = min_argmax_gap(trace["attns"], trace["mask"])
    assert gap >= MIN_ARGMAX_GAP, f"near tie in an attention arg-max (gap {gap:.3g}); change the seed"
    if lcfg.eta > 0:
        margin = lcfg.eta - terms["tsallis"].item()
        assert margin > 1e-3, f"mean Tsallis entropy must stay below eta (margin {margin:.3g})"

    scalars = [
        ("config.loops", cfg.loops), ("config.vocab_in", cfg.vocab_in),
        ("config.vocab_out", cfg.vocab_out),
        ("config.positions", POSITION_CODES[cfg.positions]),
        ("config.pe_scale", cfg.pe_scale), ("config.causal", 1 if cfg.causal else 0),
        ("config.loop", 0 if cfg.loop == "standard" else 1),
        ("config.mu", cfg.mu), ("config.alpha", cfg.alpha),
        ("loss.lambda_p", lcfg.lambda_p), ("loss.lambda_k", lcfg.lambda_k),
        ("loss.lambda_s", lcfg.lambda_s), ("loss.q", lcfg.q), ("loss.eta", lcfg.eta),
    ]
    if cfg.positions not in ("sinusoidal", "none"):  # the SPEC 1.1 settings (older cases stay as they were)
        scalars += [("config.alibi_rho", cfg.alibi_rho), ("config.rope_base", cfg.rope_base)]
    entries = [(name, torch.tensor(float(v), dtype=torch.float64)) for name, v in scalars]
    entries += [("tokens", tokens), ("targets", targets)]
    entries += [(f"param.{name}", params[name]) for name in param_names(cfg)]
    entries.append(("logits", trace["logits"]))
    entries += [(f"loss.{name}", terms[name]) for name in
                ("ce", "kinetic", "potential", "tsallis", "entropy", "total")]
    entries += [(f"grad.{name}", params[name].grad) for name in param_names(cfg)]
    entries += [("attention.first", trace["attns"][0]), ("attention.last", trace["attns"][-1])]
    summary = {k: round(v.item(), 6) for k, v in terms.items()}
    return [(name, t.detach().to(torch.float64)) for name, t in entries], summary, gap


def write_tlg(path, entries):
    """Writes (name, float64 tensor) pairs in the .tlg format (little-endian)."""
    with open(path, "wb") as f:
        f.write(b"TLGOLD01")
        f.write(struct.pack("<I", len(entries)))
        for name, tensor in entries:
            raw = name.encode("ascii")
            f.write(struct.pack("<I", len(raw)) + raw)
            f.write(struct.pack("<I", tensor.dim()))
            f.write(struct.pack(f"<{tensor.dim()}I", *tensor.shape))
            values = tensor.contiguous().reshape(-1).tolist()
            f.write(struct.pack(f"<{len(values)}d", *values))


def read_tlg(path):
    """Reads a .tlg file back into {name: float64 tensor} (used to verify what was written)."""
    data = Path(path).read_bytes()
    assert data[:8] == b"TLGOLD01", "bad magic"
    pos, out = 12, {}
    for _ in range(struct.unpack_from("<I", data, 8)[0]):
        (length,) = struct.unpack_from("<I", data, pos)
        name = data[pos + 4:pos + 4 + length].decode("ascii")
        pos += 4 + length
        (ndim,) = struct.unpack_from("<I", data, pos)
        dims = struct.unpack_from(f"<{ndim}I", data, pos + 4)
        pos += 4 + 4 * ndim
        count = math.prod(dims)
        values = struct.unpack_from(f"<{count}d", data, pos)
        pos += 8 * count
        out[name] = torch.tensor(values, dtype=torch.float64).reshape(dims)
    assert pos == len(data), "trailing bytes"
    return out


def cmd_golden(args):
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, spec in GOLDEN_CASES.items():
        entries, summary, gap = make_case(spec)
        path = out_dir / f"{name}.tlg"
        write_tlg(path, entries)
        back = read_tlg(path)
        assert all(torch.equal(back[n], t) for n, t in entries), f"{path} did not read back"
        print(f"{path}: {len(entries)} tensors, argmax gap {gap:.2e}, {summary}")
    return 0


# --------------------------------------------------------------------------------------------
# More goldens: AdamW steps, Tsallis entropy at other q
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class OptimConfig:
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.1
    clip_norm: float = 1.0          # global gradient-norm clip; 0 disables it
    warmup_steps: int = 0
    schedule: str = "constant"      # or "cosine"
    min_lr_ratio: float = 0.0


OPTIM_FLOAT_FIELDS = {"lr", "beta1", "beta2", "eps", "weight_decay", "clip_norm", "min_lr_ratio"}


def scheduled_lr(o, step, total):
    """Rate at 0-based `step` of `total`: linear warm-up to lr over warmup_steps (lr (step + 1) /
    warmup), then lr, or half a cosine from lr to lr * min_lr_ratio over the remaining steps."""
    if o.warmup_steps > 0 and step < o.warmup_steps:
        return o.lr * (step + 1) / o.warmup_steps
    if o.schedule == "cosine" and total > o.warmup_steps:
        progress = min(1.0, max(0.0, (step - o.warmup_steps) / (total - o.warmup_steps)))
        end = o.lr * o.min_lr_ratio
        return end + (o.lr - end) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return o.lr


# Goldens of the general Tsallis path (q neither 1.5 nor 2) and of q close to 1, in the format of
# GOLDEN_CASES.
TSALLIS_CASES = {
    "tsallis_q07": dict(
        seed=31, batch=3, n=9,
        model=ModelConfig(loops=4, vocab_in=4, vocab_out=5),
        loss=LossConfig(lambda_p=0.1, lambda_k=0.001, lambda_s=0.5, q=0.7)),
    "tsallis_q1001": dict(
        seed=47, batch=3, n=9,
        model=ModelConfig(loops=4, vocab_in=4, vocab_out=5),
        loss=LossConfig(lambda_p=0.1, lambda_k=0.001, lambda_s=0.5, q=1.001)),
}

# A few AdamW steps from golden weights, one new batch per step, every loss term on.
OPTIM_CASES = {
    # Warm-up, then cosine to 0.1 lr; the clip is active on some steps and not on others.
    "optim_lam2026_small": dict(
        seed=72, batch=3, n=9, steps=6,
        model=ModelConfig(loops=4, vocab_in=4, vocab_out=5),
        loss=LossConfig(),
        optim=OptimConfig(lr=1e-2, warmup_steps=2, schedule="cosine", min_lr_ratio=0.1, clip_norm=0.8)),
    # The ALiBi slope's tensor, other betas and eps, no weight decay, no clip, constant rate.
    "optim_alibi_noclip": dict(
        seed=91, batch=2, n=11, steps=4,
        model=ModelConfig(loops=3, vocab_in=4, vocab_out=5, positions="alibi", alibi_rho=-0.2),
        loss=LossConfig(lambda_p=0.2, lambda_k=0.01, lambda_s=0.1),
        optim=OptimConfig(lr=2e-2, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.0, clip_norm=0.0)),
}


def round_optim(o):
    changes = {name: as_float32(getattr(o, name)) for name in OPTIM_FLOAT_FIELDS}
    return dataclasses.replace(o, **changes)


def optim_scalars(o, steps):
    return [("optim.lr", o.lr), ("optim.beta1", o.beta1), ("optim.beta2", o.beta2), ("optim.eps", o.eps),
            ("optim.weight_decay", o.weight_decay), ("optim.clip_norm", o.clip_norm),
            ("optim.warmup_steps", o.warmup_steps), ("optim.schedule", 1 if o.schedule == "cosine" else 0),
            ("optim.min_lr_ratio", o.min_lr_ratio), ("optim.steps", steps)]


def model_scalars(cfg, lcfg):
    """The configuration scalars of a case, all SPEC 1.1 settings included."""
    return [
        ("config.loops", cfg.loops), ("config.vocab_in", cfg.vocab_in), ("config.vocab_out", cfg.vocab_out),
        ("config.positions", POSITION_CODES[cfg.positions]), ("config.pe_scale", cfg.pe_scale),
        ("config.causal", 1 if cfg.causal else 0), ("config.loop", 0 if cfg.loop == "standard" else 1),
        ("config.mu", cfg.mu), ("config.alpha", cfg.alpha), ("config.alibi_rho", cfg.alibi_rho),
        ("config.rope_base", cfg.rope_base),
        ("loss.lambda_p", lcfg.lambda_p), ("loss.lambda_k", lcfg.lambda_k), ("loss.lambda_s", lcfg.lambda_s),
        ("loss.q", lcfg.q), ("loss.eta", lcfg.eta),
    ]


def adamw_steps(params, cfg, lcfg, o, batches):
    """torch.optim.AdamW with clip_grad_norm_ and the scheduled rate, one step per batch. Returns
    the optimizer and, per step, the rate, the gradient norm before clipping and the total loss."""
    tensors = list(params.values())
    optimizer = torch.optim.AdamW(tensors, lr=o.lr, betas=(o.beta1, o.beta2), eps=o.eps,
                                  weight_decay=o.weight_decay)
    lrs, norms, losses = [], [], []
    for step, (tokens, targets) in enumerate(batches):
        optimizer.zero_grad(set_to_none=True)
        trace = forward(params, cfg, tokens)
        terms = loss_terms(trace, targets, lcfg)
        terms["total"].backward()
        gap = min_argmax_gap(trace["attns"], trace["mask"])
        assert gap >= MIN_ARGMAX_GAP, f"near tie in an attention arg-max at step {step} (gap {gap:.3g})"
        if o.clip_norm > 0:
            norm = torch.nn.utils.clip_grad_norm_(tensors, o.clip_norm)
        else:
            norm = torch.norm(torch.stack([torch.norm(t.grad, 2.0) for t in tensors]), 2.0)
        lr = scheduled_lr(o, step, len(batches))
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        lrs.append(lr)
        norms.append(norm.item())
        losses.append(terms["total"].item())
    return optimizer, lrs, norms, losses


def make_optim_case(spec):
    """Golden weights and batches, then spec["steps"] AdamW steps in float64. Returns the ordered
    (name, tensor) list: configuration, batches, start weights, per-step rate, gradient norm and
    loss, and the final weights with both AdamW moments."""
    cfg, lcfg, o = round_config(spec["model"]), round_config(spec["loss"]), round_optim(spec["optim"])
    torch.manual_seed(spec["seed"])
    base = perturb(default_init(cfg, torch.float64))
    params = require_grad({k: v.float().double() for k, v in base.items()})
    start = {k: v.detach().clone() for k, v in params.items()}
    batches = []
    for _ in range(spec["steps"]):
        tokens = induction_tokens(spec["batch"], spec["n"], cfg.vocab_in)
        batches.append((tokens, induction_targets(tokens, cfg.vocab_in)))

    optimizer, lrs, norms, losses = adamw_steps(params, cfg, lcfg, o, batches)
    scalars = model_scalars(cfg, lcfg) + optim_scalars(o, spec["steps"])
    entries = [(name, torch.tensor(float(v), dtype=torch.float64)) for name, v in scalars]
    entries += [("tokens", torch.stack([t for t, _ in batches])), ("targets", torch.stack([t for _, t in batches]))]
    entries += [(f"param.{name}", start[name]) for name in param_names(cfg)]
    entries += [("step.lr", torch.tensor(lrs, dtype=torch.float64)),
                ("step.grad_norm", torch.tensor(norms, dtype=torch.float64)),
                ("step.loss", torch.tensor(losses, dtype=torch.float64))]
    for name in param_names(cfg):
        state = optimizer.state[params[name]]
        entries += [(f"final.param.{name}", params[name]), (f"final.adam_m.{name}", state["exp_avg"]),
                    (f"final.adam_v.{name}", state["exp_avg_sq"])]
    summary = {"grad_norm": [round(v, 4) for v in norms], "lr": [round(v, 6) for v in lrs]}
    return [(name, t.detach().to(torch.float64)) for name, t in entries], summary


def cmd_golden_extra(args):
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, spec in TSALLIS_CASES.items():
        entries, summary, gap = make_case(spec)
        written.append((out_dir / f"{name}.tlg", entries, f"argmax gap {gap:.2e}, {summary}"))
    for name, spec in OPTIM_CASES.items():
        entries, summary = make_optim_case(spec)
        written.append((out_dir / f"{name}.tlg", entries, str(summary)))
    for path, entries, note in written:
        write_tlg(path, entries)
        back = read_tlg(path)
        assert all(torch.equal(back[n], t) for n, t in entries), f"{path} did not read back"
        print(f"{path}: {len(entries)} tensors, {note}")
    return 0


# --------------------------------------------------------------------------------------------
# Benchmark
# --------------------------------------------------------------------------------------------

def cmd_bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg, lcfg = ModelConfig(), LossConfig()  # lam2026: d 8, L 25, A 4
    params = require_grad(default_init(cfg, torch.float32))
    optimizer = torch.optim.AdamW(list(params.values()), lr=1e-3, betas=(0.9, 0.999),
                                  eps=1e-8, weight_decay=0.1)
    batches = []
    for _ in range(min(args.warmup + args.steps, 16)):  # data drawn outside the timed region
        tokens = induction_tokens(args.batch, args.len, cfg.vocab_in)
        batches.append((tokens, induction_targets(tokens, cfg.vocab_in)))

    def step(i):
        tokens, targets = batches[i % len(batches)]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_terms(forward(params, cfg, tokens), targets, lcfg)["total"]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
        optimizer.step()

    for i in range(args.warmup):
        step(i)
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(args.steps):
        step(args.warmup + i)
    ms = (time.perf_counter() - start) * 1000.0 / args.steps
    # CPU time of the whole process (all its threads): with --threads 1 it is the step's cost
    # without the time the process spent waiting for a core on a busy machine.
    cpu_ms = (time.process_time() - cpu_start) * 1000.0 / args.steps
    if args.json:
        print(json.dumps({"ms_per_step": ms, "cpu_ms_per_step": cpu_ms, "threads": args.threads,
                          "len": args.len, "batch": args.batch, "torch": torch.__version__}))
    else:
        print(f"torch {torch.__version__} eager float32, {args.threads} thread(s), "
              f"n={args.len} batch={args.batch}: {ms:.2f} ms/step over {args.steps} steps")
    return 0


# --------------------------------------------------------------------------------------------
# Export check
# --------------------------------------------------------------------------------------------

def read_json(path, what):
    """The JSON document at `path`, or exit with one error line naming `what` (no traceback)."""
    try:
        text = Path(path).read_text()
    except OSError as e:
        sys.exit(f"torch_reference.py: error: cannot read {what} '{path}': {e.strerror}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        why = "it is empty (did the command that writes it fail?)" if not text.strip() else \
            f"{e.msg} at line {e.lineno}"
        sys.exit(f"torch_reference.py: error: {what} '{path}' is not JSON: {why}")


def load_export(path):
    """Reads a `tinyloop export` JSON file into (ModelConfig, params as float64 tensors)."""
    doc = read_json(path, "export")
    if doc.get("format") != "tinyloop-export" or doc.get("version") != 1:
        raise ValueError(f"{path}: not a tinyloop-export version 1 file")
    c = doc["config"]
    if c.get("d", D) != D or c.get("hidden", HIDDEN) != HIDDEN:
        raise ValueError(f"{path}: d/hidden {c.get('d')}/{c.get('hidden')} != {D}/{HIDDEN}")
    if c.get("loop") == "hamiltonian" and c.get("beta", 0.0) != 0.0:
        raise ValueError(f"{path}: hamiltonian beta != 0 is not supported by the reference")
    cfg = ModelConfig(loops=int(c["loops"]), vocab_in=int(c["vocab_in"]),
                      vocab_out=int(c["vocab_out"]), positions=c["positions"],
                      pe_scale=float(c["pe_scale"]), causal=bool(c["causal"]), loop=c["loop"],
                      mu=float(c.get("mu", 0.9)), alpha=float(c.get("alpha", 1.0)),
                      alibi_rho=float(c.get("alibi_rho", 0.5)), rope_base=float(c.get("rope_base", 10000.0)))
    if cfg.positions not in POSITION_CODES:
        raise ValueError(f"{path}: unknown positions {cfg.positions!r}")
    shapes, params = param_shapes(cfg), {}
    for name in param_names(cfg):
        entry = doc["params"][name]
        if tuple(entry["shape"]) != shapes[name]:
            raise ValueError(f"{path}: {name} has shape {entry['shape']}, expected {shapes[name]}")
        params[name] = torch.tensor(entry["data"], dtype=torch.float64).reshape(shapes[name])
    return cfg, params


def cmd_check_export(args):
    cfg, params = load_export(args.export)
    tokens = torch.tensor([[int(t) for t in args.tokens.replace(",", " ").split()]])
    if tokens.numel() == 0 or tokens.min() < 0 or tokens.max() >= cfg.vocab_in:
        print(f"tokens must be non-empty and in [0, {cfg.vocab_in})", file=sys.stderr)
        return 2
    with torch.no_grad():
        ours = forward(params, cfg, tokens)["logits"][0]
    logits = read_json(args.logits, "logits file")
    if not isinstance(logits, dict) or "logits" not in logits:
        sys.exit(f"torch_reference.py: error: logits file '{args.logits}' has no \"logits\" "
                 "(write it with tinyloop infer --logits --json)")
    theirs = torch.tensor(logits["logits"], dtype=torch.float64)
    if theirs.shape != ours.shape:
        print(f"logits shape {tuple(theirs.shape)} != expected {tuple(ours.shape)}", file=sys.stderr)
        return 1
    diff = (ours - theirs).abs().max().item()
    ok = diff <= args.tol
    print(f"max abs diff {diff:.3e} over {tokens.shape[1]} positions x {cfg.vocab_out} classes "
          f"(tol {args.tol:g}): {'OK' if ok else 'MISMATCH'}")
    return 0 if ok else 1


# --------------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("golden", help="write the golden .tlg cases")
    g.add_argument("--out", default="tests/golden")
    g.set_defaults(func=cmd_golden)

    e = sub.add_parser("golden-extra", help="write the AdamW-step and Tsallis (q 0.7, 1.001) golden cases")
    e.add_argument("--out", default="tests/golden")
    e.set_defaults(func=cmd_golden_extra)

    b = sub.add_parser("bench", help="time a float32 training step of lam2026")
    b.add_argument("--len", type=int, default=64)
    b.add_argument("--batch", type=int, default=32)
    b.add_argument("--threads", type=int, default=1)
    b.add_argument("--steps", type=int, default=20)
    b.add_argument("--warmup", type=int, default=3)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)

    c = sub.add_parser("check-export", help="compare engine logits with this reference")
    c.add_argument("--export", required=True)
    c.add_argument("--tokens", required=True, help='token ids, e.g. "0 1 2 3"')
    c.add_argument("--logits", required=True, help='JSON file with {"logits": [[...], ...]}')
    c.add_argument("--tol", type=float, default=1e-4)
    c.set_defaults(func=cmd_check_export)

    f = sub.add_parser("family-golden", help="write the model-family golden cases (family_reference.py)")
    f.add_argument("--out", default="tests/golden")
    f.set_defaults(func=lambda a: __import__("family_reference").cmd_golden(a))

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
