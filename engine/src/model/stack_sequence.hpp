#pragma once
// Forward and hand-written backward of one sequence through any stack of layers (the generic
// kernels of kernels/generic.hpp): the shapes that are not the d = 8 looped block. The model
// (model/model.cpp) runs one of these per sequence, each on its own tape and worker scratch.
#include <cmath>
#include <cstddef>

#include "kernels/attention.hpp"
#include "kernels/generic.hpp"
#include "kernels/position_gated.hpp"
#include "loss/cross_entropy.hpp"
#include "model/positions.hpp"
#include "tinyloop/arena.hpp"
#include "tinyloop/model.hpp"

namespace tinyloop::stack {

// What one sequence's forward saves (capacity strides; rows indexed with the actual n).
template <class T>
struct Tape {
  T* ys;     // (L+1) x N x d: the stream entering each layer, and the final one
  T* xhat1;  // L x N x d
  T* rstd1;  // L x N
  T* h1;     // L x N x d  (LN1 output)
  T* q; T* k; T* v;  // L x N x F
  T* P;      // L x heads x N x N  (position_gated: the map T_h . S_h)
  T* tok;    // L x heads x N x N  position_gated only: the token scores T_h after the forward,
             //                    T_h . dM_h (this sequence's share of dS_h) after the backward
  T* c;      // L x N x A  the heads' outputs, concatenated (A = F) or summed (A = d)
  T* u;      // L x N x d  after the attention residual
  T* xhata; T* rstda;  // L x N x d, L x N: the branch LayerNorm (branch_norm)
  T* xhat2; T* rstd2; T* h2;  // L x N x d, L x N, L x N x d
  T* act; T* dact;            // L x N x hidden
  T* xhatf; T* rstdf; T* hf;  // N x d, N, N x d
  T* out;                     // N x out_dim
};

template <class T>
struct Scratch {
  T* dx; T* dy; T* du; T* dh;  // N x d
  T* dq; T* dk; T* dv;  // N x F
  T* dc;                 // N x A
  T* dp;                       // N
  T* dg;                       // N x hidden
  T* dout;                     // N x out_dim
  T* rope;                     // N x head_dim: the RoPE table of each position (RoPE only)
};

struct Dims {
  int L, N, d, F, H, heads, dh, O, A;  // A: the attention's output width (ModelSpec::attention_width)
  static Dims of(const ModelSpec& c, int max_len) {
    return Dims{c.layers,       max_len, c.width,   c.heads * c.head_width(), c.hidden_width(), c.heads,
                c.head_width(), c.out_dim, c.attention_width()};
  }
};

template <class T>
Tape<T> take_tape(Arena& a, const ModelSpec& c, const Dims& m) {
  const std::size_t L = m.L, N = m.N, d = m.d, F = m.F, H = m.H, A = m.A;
  Tape<T> t{};
  t.ys = a.take<T>((L + 1) * N * d);
  if (c.layernorm) {
    t.xhat1 = a.take<T>(L * N * d);
    t.rstd1 = a.take<T>(L * N);
    t.h1 = a.take<T>(L * N * d);
  }
  t.q = a.take<T>(L * N * F);
  t.k = a.take<T>(L * N * F);
  t.v = a.take<T>(L * N * F);
  t.P = a.take<T>(L * std::size_t(m.heads) * N * N);
  if (c.position_gated()) t.tok = a.take<T>(L * std::size_t(m.heads) * N * N);
  t.c = a.take<T>(L * N * A);
  t.u = a.take<T>(L * N * d);
  if (c.branch_norm) {
    t.xhata = a.take<T>(L * N * d);
    t.rstda = a.take<T>(L * N);
  }
  if (c.mlp) {
    if (c.layernorm) {
      t.xhat2 = a.take<T>(L * N * d);
      t.rstd2 = a.take<T>(L * N);
      t.h2 = a.take<T>(L * N * d);
    }
    t.act = a.take<T>(L * N * H);
    t.dact = a.take<T>(L * N * H);
  }
  if (c.layernorm) {
    t.xhatf = a.take<T>(N * d);
    t.rstdf = a.take<T>(N);
    t.hf = a.take<T>(N * d);
  }
  t.out = a.take<T>(N * std::size_t(m.O));
  return t;
}

template <class T>
Scratch<T> take_scratch(Arena& a, const ModelSpec& c, const Dims& m) {
  const std::size_t N = m.N, d = m.d, F = m.F;
  Scratch<T> s{};
  s.dx = a.take<T>(N * d);
  s.dy = a.take<T>(N * d);
  s.du = a.take<T>(N * d);
  s.dh = a.take<T>(N * d);
  s.dq = a.take<T>(N * F);
  s.dk = a.take<T>(N * F);
  s.dv = a.take<T>(N * F);
  s.dc = a.take<T>(N * std::size_t(m.A));
  s.dp = a.take<T>(N);
  s.dg = a.take<T>(N * std::size_t(m.H));
  s.dout = a.take<T>(N * std::size_t(m.O));
  if (uses_rope(c.positions)) s.rope = a.take<T>(N * std::size_t(m.dh));
  return s;
}

template <class T>
inline void zero(T* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) p[i] = T(0);
}

// Rotates the query or key pairs of every head of one row (heads x dh) by position's RoPE
// table; `inverse` applies the transpose.
template <class T>
void rope_row(const T* table, int heads, int dh, bool inverse, T* row) {
  for (int hd = 0; hd < heads; ++hd) model::rope_rotate(table, inverse, row + std::size_t(hd) * dh, dh);
}

// One sequence's view of the batch, the weights and its buffers.
template <class T>
struct Sequence {
  const ModelSpec& c;
  const ModelLayout& lay;
  const ModelBatch<T>& batch;
  const Tape<T>& t;
  const Scratch<T>& s;
  const T* W;      // parameters
  const T* WT;     // their matrices transposed (transpose_weights), or null
  T* G;            // this sequence's gradient slot (backward only)
  int n;           // length
  std::size_t base;  // index of its first position in the batch
  T scale;         // attention score scale
  const T* gates;  // position_gated: the batch's gates S, blocks x heads x n x n (model/position_gates.hpp)

  const T* wt(std::size_t offset) const { return WT ? WT + offset : nullptr; }
  int d() const { return c.width; }
  int F() const { return c.heads * c.head_width(); }
  int H() const { return c.hidden_width(); }
  int dh() const { return c.head_width(); }
  int A() const { return c.attention_width(); }
  std::size_t Nd() const { return std::size_t(n) * std::size_t(c.width); }
  std::size_t NF() const { return std::size_t(n) * std::size_t(F()); }
  std::size_t NH() const { return std::size_t(n) * std::size_t(H()); }
  std::size_t NA() const { return std::size_t(n) * std::size_t(A()); }
  const ModelLayout::Block& block(int l) const { return lay.block[c.looped ? 0 : l]; }
  // Where head hd's n x n map of layer l starts in the tape; the gate of that head (position_gated).
  std::size_t map(int l, int hd) const { return (std::size_t(l) * c.heads + hd) * std::size_t(n) * std::size_t(n); }
  const T* gate(int l, int hd) const {
    return gates + (std::size_t(c.looped ? 0 : l) * c.heads + hd) * std::size_t(n) * std::size_t(n);
  }
  // Layer l's slice of a tape array packed with `per` entries per layer.
  template <class U>
  static U* at(int l, U* p, std::size_t per) { return p + std::size_t(l) * per; }
};

template <class T>
bool counted(const ModelBatch<T>& b, std::size_t idx) {
  if (b.mask && b.mask[idx] == 0) return false;
  if (b.labels && b.labels[idx] < 0) return false;
  return true;
}

// X = E[token] (or the projected vector) plus the absolute positions; the RoPE table.
template <class T>
void embed_forward(const Sequence<T>& q) {
  using namespace kernels::generic;
  const ModelSpec& c = q.c;
  const int d = q.d();
  for (int i = 0; i < q.n; ++i) {
    T* x = q.t.ys + std::size_t(i) * d;
    const std::size_t at = q.base + i;
    if (c.input == InputKind::tokens) {
      const T* e = q.W + q.lay.E + std::size_t(q.batch.tokens[at]) * d;
      for (int k = 0; k < d; ++k) x[k] = e[k];
    } else if (c.input_proj) {
      dense_rows(q.batch.inputs + at * c.in_dim, 1, c.in_dim, q.W + q.lay.Win, q.W + q.lay.bin, d, x);
    } else {
      for (int k = 0; k < d; ++k) x[k] = q.batch.inputs[at * c.in_dim + k];
    }
    if (uses_sinusoids(c.positions)) {
      for (int k = 0; k < d; ++k) {
        const int k2 = k - (k % 2);
        const double angle = double(i) / std::pow(10000.0, double(k2) / double(d));
        x[k] += T(c.pe_scale) * T(k % 2 == 0 ? std::sin(angle) : std::cos(angle));
      }
    } else if (c.adds_learned_positions()) {
      const T* p = q.W + q.lay.pos + std::size_t(i) * d;
      for (int k = 0; k < d; ++k) x[k] += p[k];
    }
  }
  if (uses_rope(c.positions))
    for (int i = 0; i < q.n; ++i) model::rope_angles(i, c.rope_base, q.s.rope + std::size_t(i) * q.dh(), q.dh());
}

// h = LN(x) row by row into `out` (saving xhat and rstd), or x itself without LayerNorm.
template <class T>
const T* layernorm_rows(const Sequence<T>& q, const T* x, std::size_t gain, std::size_t bias, T* out, T* xhat,
                        T* rstd) {
  if (!q.c.layernorm) return x;
  const int d = q.d();
  for (int i = 0; i < q.n; ++i)
    kernels::generic::layernorm(x + std::size_t(i) * d, d, q.W + gain, q.W + bias, out + std::size_t(i) * d,
                                xhat + std::size_t(i) * d, rstd + i);
  return out;
}

// The heads of layer l: cc (n x A) gets their outputs, concatenated or summed (position_gated),
// and the tape their maps.
template <class T>
void heads_forward(const Sequence<T>& q, int l, const T* qq, const T* kk, const T* v, T* cc) {
  using namespace kernels::generic;
  const ModelSpec& c = q.c;
  const int F = q.F(), dh = q.dh(), n = q.n;
  if (c.position_gated()) zero(cc, q.NA());
  for (int hd = 0; hd < c.heads; ++hd) {
    const std::size_t map = q.map(l, hd);
    if (c.position_gated()) {
      gated_head(qq + hd * dh, kk + hd * dh, v + hd * dh, F, n, dh, c.causal, q.scale, q.gate(l, hd), q.t.tok + map,
                 q.t.P + map, cc);
      continue;
    }
    const T slope = uses_alibi(c.positions) ? model::softplus(q.W[q.block(l).rho + hd]) : T(0);
    attention_head(qq + hd * dh, kk + hd * dh, v + hd * dh, F, n, dh, c.causal, c.attention == AttentionKind::softmax,
                   q.scale, q.t.P + map, cc + hd * dh, slope);
  }
}

// u = y + attention(LN1(y)) of layer l.
template <class T>
void attention_forward(const Sequence<T>& q, int l) {
  using namespace kernels::generic;
  const ModelSpec& c = q.c;
  const auto& k = q.block(l);
  const Tape<T>& t = q.t;
  const int d = q.d(), F = q.F(), dh = q.dh(), n = q.n;
  const std::size_t Nd = q.Nd(), NF = q.NF(), N = std::size_t(n);
  const T* y = q.at(l, t.ys, Nd);
  const T* h1 = layernorm_rows(q, y, k.ln1_g, k.ln1_b, q.at(l, t.h1, Nd), q.at(l, t.xhat1, Nd), q.at(l, t.rstd1, N));
  T* qq = q.at(l, t.q, NF); T* kk = q.at(l, t.k, NF); T* v = q.at(l, t.v, NF); T* cc = q.at(l, t.c, q.NA());
  auto bias = [&](std::size_t off) { return off == kAbsent ? (const T*)nullptr : q.W + off; };
  dense_rows(h1, n, d, q.W + k.Wq, bias(k.bq), F, qq);
  dense_rows(h1, n, d, q.W + k.Wk, bias(k.bk), F, kk);
  dense_rows(h1, n, d, q.W + k.Wv, bias(k.bv), F, v);
  if (uses_rope(c.positions))  // the tape keeps the rotated queries and keys, as attention sees them
    for (int i = 0; i < n; ++i) {
      rope_row(q.s.rope + std::size_t(i) * dh, c.heads, dh, false, qq + std::size_t(i) * F);
      rope_row(q.s.rope + std::size_t(i) * dh, c.heads, dh, false, kk + std::size_t(i) * F);
    }
  heads_forward(q, l, qq, kk, v, cc);
  T* u = q.at(l, t.u, Nd);
  if (c.out_proj) dense_rows(cc, n, q.A(), q.W + k.Wo, bias(k.bo), d, u);
  else for (std::size_t e = 0; e < Nd; ++e) u[e] = cc[e];
  if (c.branch_norm)  // in place: each row's statistics are taken before it is overwritten
    for (int i = 0; i < n; ++i)
      layernorm(u + std::size_t(i) * d, d, q.W + k.lna_g, q.W + k.lna_b, u + std::size_t(i) * d,
                q.at(l, t.xhata, Nd) + std::size_t(i) * d, q.at(l, t.rstda, N) + i);
  if (c.residual)
    for (std::size_t e = 0; e < Nd; ++e) u[e] += y[e];
}

// The stream leaving layer l: u + MLP(LN2(u)), or u without the MLP.
template <class T>
void mlp_forward(const Sequence<T>& q, int l) {
  using namespace kernels::generic;
  const auto& k = q.block(l);
  const Tape<T>& t = q.t;
  const int d = q.d(), H = q.H(), n = q.n;
  const std::size_t Nd = q.Nd(), NH = q.NH(), N = std::size_t(n);
  const T* u = q.at(l, t.u, Nd);
  T* next = q.at(l + 1, t.ys, Nd);
  if (!q.c.mlp) {
    for (std::size_t e = 0; e < Nd; ++e) next[e] = u[e];
    return;
  }
  const T* h2 = layernorm_rows(q, u, k.ln2_g, k.ln2_b, q.at(l, t.h2, Nd), q.at(l, t.xhat2, Nd), q.at(l, t.rstd2, N));
  T* act = q.at(l, t.act, NH); T* dact = q.at(l, t.dact, NH);
  dense_rows(h2, n, d, q.W + k.W1, q.W + k.b1, H, act);
  gelu_rows(act, NH, act, dact);
  dense_rows(act, n, H, q.W + k.W2, q.W + k.b2, d, next);
  for (std::size_t e = 0; e < Nd; ++e) next[e] += u[e];
}

// Outputs, the loss summed over counted positions (each scaled by inv_count into s.dout for the
// backward pass), and the right answers among the scored positions.
template <class T>
void readout_forward(const Sequence<T>& q, T inv_count, bool backward, double* loss, long* correct, long* scored) {
  using namespace kernels::generic;
  const ModelSpec& c = q.c;
  const Tape<T>& t = q.t;
  const int d = q.d(), O = c.out_dim, L = c.layers;
  const T* hf = layernorm_rows(q, q.at(L, t.ys, q.Nd()), q.lay.lnf_g, q.lay.lnf_b, t.hf, t.xhatf, t.rstdf);
  dense_rows(hf, q.n, d, q.W + q.lay.Wout, q.lay.bout == kAbsent ? (const T*)nullptr : q.W + q.lay.bout, O, t.out);
  *loss = 0;
  *correct = *scored = 0;
  for (int i = 0; i < q.n; ++i) {
    const std::size_t idx = q.base + i;
    const T* y = t.out + std::size_t(i) * O;
    T* dy = q.s.dout + std::size_t(i) * O;
    if (!counted(q.batch, idx)) {
      zero(dy, std::size_t(O));
      continue;
    }
    if (c.output == OutputKind::classes) {
      const int label = q.batch.labels[idx];
      *loss += double(loss::cross_entropy(y, O, label, inv_count, backward ? dy : (T*)nullptr));
      if (label == c.ignore_class) continue;
      ++*scored;
      if (loss::argmax(y, O) == label) ++*correct;
    } else {
      const T* target = q.batch.targets + idx * O;
      const T g = T(2) * inv_count / T(O);
      for (int o = 0; o < O; ++o) {
        const T r = y[o] - target[o];
        *loss += double(r) * double(r) / double(O);
        dy[o] = g * r;
      }
    }
  }
}

// dx += LN backward of dh (or dh itself without LayerNorm), row by row.
template <class T>
void layernorm_rows_backward(const Sequence<T>& q, const T* dh, const T* xhat, const T* rstd, std::size_t gain,
                             std::size_t bias, T* dx) {
  const int d = q.d();
  if (!q.c.layernorm) {
    for (std::size_t e = 0; e < q.Nd(); ++e) dx[e] += dh[e];
    return;
  }
  for (int i = 0; i < q.n; ++i)
    kernels::generic::layernorm_backward(dh + std::size_t(i) * d, xhat + std::size_t(i) * d, rstd[i], d, q.W + gain,
                                         q.G + gain, q.G + bias, dx + std::size_t(i) * d);
}

// Back through the readout: s.dx gets the gradient of the final stream.
template <class T>
void readout_backward(const Sequence<T>& q) {
  const Tape<T>& t = q.t;
  const Scratch<T>& s = q.s;
  const int d = q.d(), L = q.c.layers;
  const T* hf = q.c.layernorm ? t.hf : q.at(L, t.ys, q.Nd());
  zero(s.dx, q.Nd());
  zero(s.dh, q.Nd());
  kernels::generic::dense_rows_backward(hf, q.n, d, q.W + q.lay.Wout, q.wt(q.lay.Wout), q.c.out_dim, s.dout,
                                        q.G + q.lay.Wout, q.lay.bout == kAbsent ? (T*)nullptr : q.G + q.lay.bout,
                                        s.dh);
  layernorm_rows_backward(q, s.dh, t.xhatf, t.rstdf, q.lay.lnf_g, q.lay.lnf_b, s.dx);
}

// s.dx holds the gradient of the stream leaving layer l; s.du gets the gradient of u.
template <class T>
void mlp_backward(const Sequence<T>& q, int l) {
  using namespace kernels::generic;
  const Scratch<T>& s = q.s;
  const std::size_t Nd = q.Nd(), NH = q.NH(), N = std::size_t(q.n);
  for (std::size_t e = 0; e < Nd; ++e) s.du[e] = s.dx[e];
  if (!q.c.mlp) return;
  const auto& k = q.block(l);
  const Tape<T>& t = q.t;
  const int d = q.d(), H = q.H();
  const T* u = q.at(l, t.u, Nd);
  const T* h2 = q.c.layernorm ? q.at(l, t.h2, Nd) : u;
  const T* dact = q.at(l, t.dact, NH);
  zero(s.dg, NH);
  dense_rows_backward(q.at(l, t.act, NH), q.n, H, q.W + k.W2, q.wt(k.W2), d, s.dx, q.G + k.W2, q.G + k.b2, s.dg);
  for (std::size_t e = 0; e < NH; ++e) s.dg[e] *= dact[e];
  zero(s.dh, Nd);
  dense_rows_backward(h2, q.n, d, q.W + k.W1, q.wt(k.W1), H, s.dg, q.G + k.W1, q.G + k.b1, s.dh);
  layernorm_rows_backward(q, s.dh, q.at(l, t.xhat2, Nd), q.at(l, t.rstd2, N), k.ln2_g, k.ln2_b, s.du);
}

// From s.du (gradient of u) to s.dx (gradient of the stream entering layer l).
template <class T>
void attention_backward(const Sequence<T>& q, int l) {
  using namespace kernels::generic;
  const ModelSpec& c = q.c;
  const auto& k = q.block(l);
  const Tape<T>& t = q.t;
  const Scratch<T>& s = q.s;
  const int d = q.d(), F = q.F(), dh = q.dh(), n = q.n;
  const std::size_t Nd = q.Nd(), N = std::size_t(n);
  if (c.residual) for (std::size_t e = 0; e < Nd; ++e) s.dy[e] = s.du[e];
  else zero(s.dy, Nd);
  const T* dbranch = s.du;  // the gradient of the attention branch's output
  if (c.branch_norm) {
    zero(s.dh, Nd);
    for (int i = 0; i < n; ++i)
      layernorm_backward(s.du + std::size_t(i) * d, q.at(l, t.xhata, Nd) + std::size_t(i) * d, q.at(l, t.rstda, N)[i],
                         d, q.W + k.lna_g, q.G + k.lna_g, q.G + k.lna_b, s.dh + std::size_t(i) * d);
    dbranch = s.dh;
  }
  auto bias_grad = [&](std::size_t off) { return off == kAbsent ? (T*)nullptr : q.G + off; };
  if (c.out_proj) {
    zero(s.dc, q.NA());
    dense_rows_backward(q.at(l, t.c, q.NA()), n, q.A(), q.W + k.Wo, q.wt(k.Wo), d, dbranch, q.G + k.Wo,
                        bias_grad(k.bo), s.dc);
  } else {
    for (std::size_t e = 0; e < q.NA(); ++e) s.dc[e] = dbranch[e];
  }
  const T* qq = q.at(l, t.q, q.NF()); const T* kk = q.at(l, t.k, q.NF()); const T* v = q.at(l, t.v, q.NF());
  zero(s.dq, q.NF()); zero(s.dk, q.NF()); zero(s.dv, q.NF());
  const bool softmax = c.attention == AttentionKind::softmax, alibi = uses_alibi(c.positions);
  for (int hd = 0; hd < c.heads; ++hd) {
    const std::size_t map = q.map(l, hd);
    if (c.position_gated()) {  // leaves this sequence's share of dS in the tape (Tape::tok)
      gated_head_backward(qq + hd * dh, kk + hd * dh, v + hd * dh, F, n, dh, c.causal, q.scale, q.gate(l, hd),
                          t.P + map, t.tok + map, s.dc, s.dp, s.dq + hd * dh, s.dk + hd * dh, s.dv + hd * dh);
      continue;
    }
    T dslope = 0;
    attention_head_backward(qq + hd * dh, kk + hd * dh, v + hd * dh, F, n, dh, c.causal, softmax, q.scale, t.P + map,
                            s.dc + hd * dh, s.dp, s.dq + hd * dh, s.dk + hd * dh, s.dv + hd * dh,
                            alibi ? &dslope : nullptr);
    if (alibi) q.G[k.rho + hd] += dslope * model::sigmoid(q.W[k.rho + hd]);  // slope = softplus(rho)
  }
  if (uses_rope(c.positions))  // back through the rotation: its transpose
    for (int i = 0; i < n; ++i) {
      rope_row(s.rope + std::size_t(i) * dh, c.heads, dh, true, s.dq + std::size_t(i) * F);
      rope_row(s.rope + std::size_t(i) * dh, c.heads, dh, true, s.dk + std::size_t(i) * F);
    }
  const T* y = q.at(l, t.ys, Nd);
  const T* h1 = c.layernorm ? q.at(l, t.h1, Nd) : y;
  zero(s.dh, Nd);
  dense_rows_backward(h1, n, d, q.W + k.Wq, q.wt(k.Wq), F, s.dq, q.G + k.Wq, bias_grad(k.bq), s.dh);
  dense_rows_backward(h1, n, d, q.W + k.Wk, q.wt(k.Wk), F, s.dk, q.G + k.Wk, bias_grad(k.bk), s.dh);
  dense_rows_backward(h1, n, d, q.W + k.Wv, q.wt(k.Wv), F, s.dv, q.G + k.Wv, bias_grad(k.bv), s.dh);
  layernorm_rows_backward(q, s.dh, q.at(l, t.xhat1, Nd), q.at(l, t.rstd1, N), k.ln1_g, k.ln1_b, s.dy);
  for (std::size_t e = 0; e < Nd; ++e) s.dx[e] = s.dy[e];
}

// From s.dx (gradient of X) into E (or Win, bin) and the learned positions.
template <class T>
void embed_backward(const Sequence<T>& q) {
  const ModelSpec& c = q.c;
  const int d = q.d();
  for (int i = 0; i < q.n; ++i) {
    const T* g = q.s.dx + std::size_t(i) * d;
    const std::size_t at = q.base + i;
    if (c.input == InputKind::tokens) {
      T* ge = q.G + q.lay.E + std::size_t(q.batch.tokens[at]) * d;
      for (int k = 0; k < d; ++k) ge[k] += g[k];
    } else if (c.input_proj) {
      // no input gradient (dX is null), so no transposed Win either (transpose_weights leaves it out)
      kernels::generic::dense_rows_backward(q.batch.inputs + at * c.in_dim, 1, c.in_dim, q.W + q.lay.Win,
                                            (const T*)nullptr, d, g, q.G + q.lay.Win, q.G + q.lay.bin, (T*)nullptr);
    }
    if (c.adds_learned_positions()) {
      T* gp = q.G + q.lay.pos + std::size_t(i) * d;
      for (int k = 0; k < d; ++k) gp[k] += g[k];
    }
  }
}

// Wt = W transposed for every matrix whose input gradient a backward pass takes: the blocks'
// projections and MLP, and the readout. E, pos and Win take none (the stream starts there), so
// they are left out. The same offsets as W.
template <class T>
void transpose_weights(const ModelLayout& lay, const T* W, T* Wt) {
  for (int t = 0; t < lay.count; ++t) {
    const LayoutTensor& m = lay.tensors[t];
    if (m.rows < 2 || m.cols < 2 || m.offset == lay.E || m.offset == lay.pos || m.offset == lay.Win) continue;
    kernels::generic::transpose(W + m.offset, m.rows, m.cols, Wt + m.offset);
  }
}

// The whole sequence: forward, loss, and (when q.G is set) the backward pass added to q.G.
template <class T>
void run_sequence(const Sequence<T>& q, T inv_count, double* loss, long* correct, long* scored) {
  embed_forward(q);
  for (int l = 0; l < q.c.layers; ++l) {
    attention_forward(q, l);
    mlp_forward(q, l);
  }
  readout_forward(q, inv_count, q.G != nullptr, loss, correct, scored);
  if (q.G == nullptr) return;
  readout_backward(q);
  for (int l = q.c.layers - 1; l >= 0; --l) {
    mlp_backward(q, l);
    attention_backward(q, l);
  }
  embed_backward(q);
}

}  // namespace tinyloop::stack
