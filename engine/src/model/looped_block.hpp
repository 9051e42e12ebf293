#pragma once
// Forward and hand-written backward of the looped block (SPEC §1) over one sequence.
// The standard loop is the Hamiltonian update with mu = 0, alpha = 1:
//   vel_t = mu vel_{t-1} + alpha (A + M),  Z_t = Z_{t-1} + vel_t.
#include <cstdint>

#include "kernels/block_kernels.hpp"
#include "kernels/dense.hpp"
#include "kernels/layernorm.hpp"
#include "kernels/token_block.hpp"
#include "loss/cross_entropy.hpp"
#include "model/positions.hpp"
#include "model/tape.hpp"
#include "tinyloop/params.hpp"

namespace tinyloop::model {

struct LoopCoefficients {
  double mu, alpha;
  static LoopCoefficients of(const ModelSpec& m) {
    if (m.loop == LoopKind::hamiltonian) return {double(m.mu), double(m.alpha)};
    return {0.0, 1.0};
  }
};

// Which positions count: a label >= 0 whose mask (when given) is set; ignore_class (the
// paper's NONE) counts in the loss but not in the accuracy.
struct Targets {
  const std::int32_t* labels;
  const std::uint8_t* mask;  // may be null
  int ignore_class;
  bool counted(int i) const { return labels[i] >= 0 && (mask == nullptr || mask[i] != 0); }
};

// Per-sequence sums; the model normalises them once the whole batch is known.
template <class T>
struct SequenceSums {
  T ce = 0;         // sum over positions
  T kinetic = 0;    // sum over loops of ||vel_t||^2
  T potential = 0;  // sum over loops and rows
  T tsallis = 0;    // sum over loops and rows
  int correct = 0;  // scored positions predicted right
  int scored = 0;   // counted positions whose label is not ignore_class
};

// RoPE on a block of tokens: rotates each pair (2k, 2k+1) of q or k by its position's angle
// (table: d x stride, cosines in rows 0..d/2, sines after), or back by it (the transpose).
template <class L, class T>
inline void rope_rotate_block(const T* table, std::size_t stride, int i, bool inverse, typename L::P (&v)[kDim]) {
  using P = typename L::P;
  for (int k = 0; k < kDim / 2; ++k) {
    const P c = L::load(table + k * stride + i);
    P s = L::load(table + (kDim / 2 + k) * stride + i);
    if (inverse) s = L::set(T(0)) - s;
    const P a = v[2 * k], b = v[2 * k + 1];
    v[2 * k] = a * c - b * s;
    v[2 * k + 1] = a * s + b * c;
  }
}

// One of the attention's projections for a block of tokens: out = h W, rotated when RoPE is on
// (rope: d x rope_stride), stored to rows (d x S).
template <class L, class T>
inline void project_block(const typename L::P (&h)[kDim], const T* W, const T* rope, std::size_t rope_stride,
                          std::size_t S, int i, T* rows) {
  typename L::P out[kDim];
  kernels::block::dense_bias<L>((const T*)nullptr, 0, out);
  kernels::block::dense_add<L, kDim, kDim>(h, W, 0, out);
  if (rope) rope_rotate_block<L>(rope, rope_stride, i, false, out);
  kernels::block::store_rows<L>(out, S, i, rows);
}

// Forward of one sequence. The per-token work of each loop runs on blocks of TokenLanes<T>
// tokens (kernels/token_block.hpp); attention runs between the two halves of the block.
template <class T>
void forward_sequence(const ModelSpec& m, const Weights<const T>& w, const std::int32_t* tokens,
                      const Targets& targets, int n, T q_exp, const Tape<T>& tape, const Scratch<T>& s,
                      SequenceSums<T>* sums) {
  using namespace kernels;
  using L = TokenLanes<T>;
  using P = typename L::P;
  constexpr int D = kDim, H = kHidden, G = 8;  // G: hidden units per group, in registers
  const int V = m.out_dim;
  const std::size_t S = std::size_t(token_stride(n));
  const auto k = LoopCoefficients::of(m);
  const T mu = T(k.mu), alpha = T(k.alpha);
  *sums = SequenceSums<T>{};

  for (std::size_t e = 0; e < D * S; ++e) tape.x[e] = s.z[e] = T(0);
  for (int i = 0; i < n; ++i) {
    T row[kDim];
    embed_token(m, w.E, tokens[i], tape.sinusoids ? tape.sinusoids + i * D : nullptr, row);
    scatter_token(row, S, i, tape.x);
  }
  const T slope = alibi_slope(m, w.rho);

  AttentionRowSums<T> att{};
  block::zero_lanes<L>(s.lanes, D);  // the kinetic sums, per feature
  for (int t = 0; t < m.layers; ++t) {
    const std::size_t tDS = std::size_t(t) * D * S, tS = std::size_t(t) * S;
    T *q = tape.q + tDS, *kk = tape.k + tDS, *v = tape.v + tDS;
    for (int i = 0; i < n; i += L::width) {
      P y[D], h[D], x[D];
      block::load_rows<L>(s.z, S, i, y);
      block::load_rows<L>(tape.x, S, i, x);
      for (int c = 0; c < D; ++c) y[c] = y[c] + x[c];
      block::layernorm_forward<L>(y, w.ln1_gain, w.ln1_bias, h, tape.xhat1 + tDS, S, i, tape.rstd1 + tS);
      project_block<L>(h, w.Wq, tape.rope, tape.rope_stride, S, i, q);
      project_block<L>(h, w.Wk, tape.rope, tape.rope_stride, S, i, kk);
      project_block<L>(h, w.Wv, (const T*)nullptr, 0, S, i, v);
    }
    T* probs = tape.P ? tape.P + std::size_t(t) * n * n : nullptr;
    T* attn = tape.att + tDS;
    BlockKernels<T>::attention_forward(q, kk, v, n, S, m.causal, q_exp, probs, s.att, tape.lse + tS,
                                       tape.argmax + tS, tape.power_sum + tS, attn, &att, slope);
    const T* vel_prev = t > 0 ? tape.vel + tDS - D * S : nullptr;
    T* vel = tape.vel + tDS;
    T* act = tape.act + std::size_t(t) * H * S;
    T* dact = tape.dact + std::size_t(t) * H * S;
    for (int i = 0; i < n; i += L::width) {
      P z[D], u[D], a[D], h[D], mlp[D];
      block::load_rows<L>(s.z, S, i, z);
      block::load_rows<L>(tape.x, S, i, u);
      block::load_rows<L>(attn, S, i, a);
      for (int c = 0; c < D; ++c) u[c] = z[c] + u[c] + a[c];
      block::layernorm_forward<L>(u, w.ln2_gain, w.ln2_bias, h, tape.xhat2 + tDS, S, i, tape.rstd2 + tS);
      block::dense_bias<L>(w.b2, 0, mlp);
      for (int j0 = 0; j0 < H; j0 += G) {
        P g[G];
        block::dense_bias<L>(w.b1, j0, g);
        block::dense_add<L, D, H>(h, w.W1, j0, g);
        for (int j = 0; j < G; ++j) {
          P slope_j;
          L::gelu(g[j], &g[j], &slope_j);
          L::store(act + (j0 + j) * S + i, g[j]);
          L::store(dact + (j0 + j) * S + i, slope_j);
        }
        block::dense_add<L, G, D>(g, w.W2 + j0 * D, 0, mlp);
      }
      for (int c = 0; c < D; ++c) {
        P vc = L::set(alpha) * (a[c] + mlp[c]);
        if (vel_prev) vc = L::fma(L::set(mu), L::load(vel_prev + c * S + i), vc);
        L::store(vel + c * S + i, vc);
        L::store(s.z + c * S + i, z[c] + vc);
      }
    }
    block::row_dots<L, D>(vel, vel, S, n, s.lanes);
  }
  T kinetic[kDim] = {};
  block::reduce_lanes<L>(s.lanes, D, kinetic);
  for (int c = 0; c < D; ++c) sums->kinetic += kinetic[c];
  sums->potential = att.potential;
  sums->tsallis = att.tsallis;

  for (int i = 0; i < n; ++i) {
    T y[kDim], h[kDim], z[kDim];
    gather_token(tape.x, S, i, y);
    gather_token(s.z, S, i, z);
    for (int c = 0; c < D; ++c) y[c] += z[c];
    layernorm_forward(y, w.lnf_gain, w.lnf_bias, h, tape.xhatf + i * D, tape.rstdf + i);
    T* logits = tape.logits + std::size_t(i) * V;
    dense_forward_n<kDim>(h, w.Wout, w.bout, logits, V);
    if (!targets.counted(i)) continue;
    const int target = targets.labels[i];
    sums->ce += loss::cross_entropy(logits, V, target, T(0), (T*)nullptr);
    if (target != targets.ignore_class) {
      ++sums->scored;
      if (loss::argmax(logits, V) == target) ++sums->correct;
    }
  }
}

// Loss-term weights, already divided by the counts that turn sums into the means of SPEC §2.
template <class T>
struct GradientScales {
  T ce;       // 1 / (counted positions of the batch)
  T kinetic;  // 2 * lambda_K / (2 L B): d/dvel of lambda_K/(2L B) ||vel||^2
  T potential;  // lambda_P / (L B n)
  T tsallis;    // lambda_S * sign(mean - eta) / (L B n)
};

// Backward of one sequence, in the forward's token blocks. Within a loop, each half runs its
// blocks first (input gradients), then the weight gradients as reductions over the sequence.
template <class T>
void backward_sequence(const ModelSpec& m, const Weights<const T>& w, const Weights<T>& g,
                       const std::int32_t* tokens, const Targets& targets, int n, T q_exp,
                       const GradientScales<T>& scale, const Tape<T>& tape, const Scratch<T>& s) {
  using namespace kernels;
  using L = TokenLanes<T>;
  using P = typename L::P;
  constexpr int D = kDim, H = kHidden, G = 8;
  const int V = m.out_dim;
  const std::size_t S = std::size_t(token_stride(n));
  const auto k = LoopCoefficients::of(m);
  const T mu = T(k.mu), alpha = T(k.alpha);
  const T slope = alibi_slope(m, w.rho);
  T dslope = 0;

  using GL = GradientLanes;
  auto lanes = [&](int slot) { return s.lanes + std::size_t(slot) * L::width; };
  block::zero_lanes<L>(s.lanes, GL::count);
  for (std::size_t e = 0; e < D * S; ++e) s.dz[e] = s.dx[e] = s.dvel[e] = T(0);
  for (int i = 0; i < n; ++i) {
    T h[kDim], dh[kDim] = {}, dz[kDim] = {};
    if (targets.counted(i)) {
      loss::cross_entropy(tape.logits + std::size_t(i) * V, V, targets.labels[i], scale.ce, s.dlogits);
    } else {
      for (int o = 0; o < V; ++o) s.dlogits[o] = T(0);
    }
    layernorm_apply(tape.xhatf + i * D, w.lnf_gain, w.lnf_bias, h);
    dense_backward_n<kDim>(h, w.Wout, s.dlogits, g.Wout, g.bout, dh, V);
    layernorm_backward(dh, tape.xhatf + i * D, tape.rstdf[i], w.lnf_gain, g.lnf_gain, g.lnf_bias, dz);
    scatter_token(dz, S, i, s.dz);
    scatter_token(dz, S, i, s.dx);
  }

  for (int t = m.layers - 1; t >= 0; --t) {
    const std::size_t tDS = std::size_t(t) * D * S, tS = std::size_t(t) * S;
    const T* vel = tape.vel + tDS;
    const T* act = tape.act + std::size_t(t) * H * S;
    const T* dact = tape.dact + std::size_t(t) * H * S;
    const T* xhat2 = tape.xhat2 + tDS;
    for (int i = 0; i < n; i += L::width) {  // the MLP half: dA and dY from dZ
      P ddelta[D], dh[D], h[D], du[D];
      for (int c = 0; c < D; ++c) {
        const P dvel = L::fma(L::set(scale.kinetic), L::load(vel + c * S + i),
                              L::fma(L::set(mu), L::load(s.dvel + c * S + i), L::load(s.dz + c * S + i)));
        L::store(s.dvel + c * S + i, dvel);
        ddelta[c] = L::set(alpha) * dvel;
        dh[c] = du[c] = L::set(T(0));
      }
      block::store_rows<L>(ddelta, S, i, s.ddelta);
      for (int j0 = 0; j0 < H; j0 += G) {
        P dhid[G];
        for (int j = 0; j < G; ++j) dhid[j] = L::set(T(0));
        block::dense_input_grad<L, G, D>(ddelta, w.W2 + j0 * D, 0, dhid);
        for (int j = 0; j < G; ++j) {
          dhid[j] = dhid[j] * L::load(dact + (j0 + j) * S + i);
          L::store(s.dhid + (j0 + j) * S + i, dhid[j]);
        }
        block::dense_input_grad<L, D, H>(dhid, w.W1, j0, dh);
      }
      block::store_rows<L>(dh, S, i, s.dh);
      block::layernorm_apply<L>(xhat2, S, i, w.ln2_gain, w.ln2_bias, h);
      block::store_rows<L>(h, S, i, s.h);
      block::layernorm_backward<L>(dh, xhat2, S, i, tape.rstd2 + tS, w.ln2_gain, du);
      for (int c = 0; c < D; ++c) ddelta[c] = ddelta[c] + du[c];
      block::store_rows<L>(ddelta, S, i, s.da);  // dA = dDelta + dU
      block::store_rows<L>(du, S, i, s.dy);     // dY so far (through U = Y + A)
    }
    block::outer_accumulate<L, H, D>(act, s.ddelta, S, n, lanes(GL::W2));
    block::row_sums<L, D>(s.ddelta, S, n, lanes(GL::b2));
    block::outer_accumulate<L, D, H>(s.h, s.dhid, S, n, lanes(GL::W1));
    block::row_sums<L, H>(s.dhid, S, n, lanes(GL::b1));
    block::row_dots<L, D>(s.dh, xhat2, S, n, lanes(GL::ln2_gain));
    block::row_sums<L, D>(s.dh, S, n, lanes(GL::ln2_bias));

    const T* probs = tape.P ? tape.P + std::size_t(t) * n * n : nullptr;
    BlockKernels<T>::attention_backward(tape.q + tDS, tape.k + tDS, tape.v + tDS, n, S, m.causal, probs,
                                        tape.lse + tS, tape.argmax + tS, tape.power_sum + tS, tape.att + tDS, s.da,
                                        scale.potential, scale.tsallis, q_exp, s.att, s.dq, s.dk, s.dv, slope,
                                        g.rho ? &dslope : nullptr);
    const T* xhat1 = tape.xhat1 + tDS;
    for (int i = 0; i < n; i += L::width) {  // the attention half: dZ and dX from dQ, dK, dV
      P dq[D], dk[D], dv[D], dh[D], h[D], dy[D];
      block::load_rows<L>(s.dq, S, i, dq);
      block::load_rows<L>(s.dk, S, i, dk);
      block::load_rows<L>(s.dv, S, i, dv);
      if (tape.rope) {  // back through the rotation: its transpose
        rope_rotate_block<L>(tape.rope, tape.rope_stride, i, true, dq);
        rope_rotate_block<L>(tape.rope, tape.rope_stride, i, true, dk);
        block::store_rows<L>(dq, S, i, s.dq);
        block::store_rows<L>(dk, S, i, s.dk);
      }
      for (int c = 0; c < D; ++c) dh[c] = L::set(T(0));
      block::dense_input_grad<L, D, D>(dq, w.Wq, 0, dh);
      block::dense_input_grad<L, D, D>(dk, w.Wk, 0, dh);
      block::dense_input_grad<L, D, D>(dv, w.Wv, 0, dh);
      block::store_rows<L>(dh, S, i, s.dh);
      block::layernorm_apply<L>(xhat1, S, i, w.ln1_gain, w.ln1_bias, h);
      block::store_rows<L>(h, S, i, s.h);
      block::load_rows<L>(s.dy, S, i, dy);
      block::layernorm_backward<L>(dh, xhat1, S, i, tape.rstd1 + tS, w.ln1_gain, dy);
      for (int c = 0; c < D; ++c) {
        L::store(s.dz + c * S + i, L::load(s.dz + c * S + i) + dy[c]);
        L::store(s.dx + c * S + i, L::load(s.dx + c * S + i) + dy[c]);
      }
    }
    block::outer_accumulate<L, D, D>(s.h, s.dq, S, n, lanes(GL::Wq));
    block::outer_accumulate<L, D, D>(s.h, s.dk, S, n, lanes(GL::Wk));
    block::outer_accumulate<L, D, D>(s.h, s.dv, S, n, lanes(GL::Wv));
    block::row_dots<L, D>(s.dh, xhat1, S, n, lanes(GL::ln1_gain));
    block::row_sums<L, D>(s.dh, S, n, lanes(GL::ln1_bias));
  }
  block::reduce_lanes<L>(lanes(GL::W1), D * H, g.W1);
  block::reduce_lanes<L>(lanes(GL::W2), H * D, g.W2);
  block::reduce_lanes<L>(lanes(GL::Wq), D * D, g.Wq);
  block::reduce_lanes<L>(lanes(GL::Wk), D * D, g.Wk);
  block::reduce_lanes<L>(lanes(GL::Wv), D * D, g.Wv);
  block::reduce_lanes<L>(lanes(GL::b1), H, g.b1);
  block::reduce_lanes<L>(lanes(GL::b2), D, g.b2);
  block::reduce_lanes<L>(lanes(GL::ln1_gain), D, g.ln1_gain);
  block::reduce_lanes<L>(lanes(GL::ln1_bias), D, g.ln1_bias);
  block::reduce_lanes<L>(lanes(GL::ln2_gain), D, g.ln2_gain);
  block::reduce_lanes<L>(lanes(GL::ln2_bias), D, g.ln2_bias);

  for (int i = 0; i < n; ++i) {
    T dx[kDim];
    gather_token(s.dx, S, i, dx);
    T* de = g.E + tokens[i] * D;
    for (int c = 0; c < D; ++c) de[c] += dx[c];
  }
  if (g.rho) g.rho[0] += dslope * sigmoid(w.rho[0]);  // m = softplus(rho)
}

}  // namespace tinyloop::model
