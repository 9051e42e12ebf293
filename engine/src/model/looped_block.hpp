#pragma once
// Forward and hand-written backward of the looped block (SPEC §1) over one sequence.
// The standard loop is the Hamiltonian update with mu = 0, alpha = 1:
//   vel_t = mu vel_{t-1} + alpha (A + M),  Z_t = Z_{t-1} + vel_t.
#include <cstdint>

#include "kernels/block_kernels.hpp"
#include "kernels/layernorm.hpp"
#include "loss/cross_entropy.hpp"
#include "model/positions.hpp"
#include "model/tape.hpp"
#include "tinyloop/params.hpp"

namespace tinyloop::model {

struct LoopCoefficients {
  double mu, alpha;
  static LoopCoefficients of(const ModelConfig& m) {
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

template <class T>
void forward_sequence(const ModelConfig& m, const Weights<const T>& w, const std::int32_t* tokens,
                      const Targets& targets, int n, T q_exp, const Tape<T>& tape, const Scratch<T>& s,
                      SequenceSums<T>* sums) {
  using namespace kernels;
  using K = BlockKernels<T>;  // xsimd for float in a SIMD build, else the scalar references
  const int L = m.loops, D = kDim, V = m.vocab_out;
  const auto k = LoopCoefficients::of(m);
  const T mu = T(k.mu), alpha = T(k.alpha);
  *sums = SequenceSums<T>{};

  for (int i = 0; i < n; ++i) embed_token(m, w.E, tokens[i], i, tape.x + i * D);
  for (int e = 0; e < n * D; ++e) s.z[e] = 0;
  if (tape.rope)
    for (int i = 0; i < n; ++i) rope_angles(i, m.rope_base, tape.rope + i * D);
  const T slope = alibi_slope(m, w.rho);

  AttentionRowSums<T> att{};
  T kinetic = 0;  // in a register: through *sums every add would wait on a store and a load
  for (int t = 0; t < L; ++t) {
    const std::size_t tn = std::size_t(t) * n;
    T* q = tape.q + tn * D; T* kk = tape.k + tn * D; T* v = tape.v + tn * D;
    for (int i = 0; i < n; ++i) {
      T y[kDim], h[kDim];
      for (int c = 0; c < D; ++c) y[c] = s.z[i * D + c] + tape.x[i * D + c];
      layernorm_forward(y, w.ln1_gain, w.ln1_bias, h, tape.xhat1 + (tn + i) * D, tape.rstd1 + tn + i);
      K::template dense_forward<kDim, kDim>(h, w.Wq, (const T*)nullptr, q + i * D);
      K::template dense_forward<kDim, kDim>(h, w.Wk, (const T*)nullptr, kk + i * D);
      K::template dense_forward<kDim, kDim>(h, w.Wv, (const T*)nullptr, v + i * D);
      if (tape.rope) {  // the tape keeps the rotated queries and keys, as attention sees them
        rope_rotate(tape.rope + i * D, false, q + i * D);
        rope_rotate(tape.rope + i * D, false, kk + i * D);
      }
    }
    T* P = tape.P ? tape.P + tn * n : nullptr;
    K::attention_forward(q, kk, v, n, m.causal, q_exp, P, s.att, tape.lse + tn, tape.argmax + tn, s.a, &att, slope);
    const T* vel_prev = t > 0 ? tape.vel + (tn - n) * D : nullptr;
    T* vel = tape.vel + tn * D;
    for (int i = 0; i < n; ++i) {
      const T* a = s.a + i * D;
      T u[kDim], h[kDim], g[kHidden], mlp[kDim];
      for (int c = 0; c < D; ++c) u[c] = s.z[i * D + c] + tape.x[i * D + c] + a[c];
      layernorm_forward(u, w.ln2_gain, w.ln2_bias, h, tape.xhat2 + (tn + i) * D, tape.rstd2 + tn + i);
      K::template dense_forward<kDim, kHidden>(h, w.W1, w.b1, g);
      T* act = tape.act + (tn + i) * kHidden;
      T* dact = tape.dact + (tn + i) * kHidden;
      K::template gelu_row<kHidden>(g, act, dact);
      K::template dense_forward<kHidden, kDim>(act, w.W2, w.b2, mlp);
      for (int c = 0; c < D; ++c) {
        T vc = alpha * (a[c] + mlp[c]);
        if (vel_prev) vc += mu * vel_prev[i * D + c];
        vel[i * D + c] = vc;
        s.z[i * D + c] += vc;
        kinetic += vc * vc;
      }
    }
  }
  sums->kinetic = kinetic;
  sums->potential = att.potential;
  sums->tsallis = att.tsallis;

  for (int i = 0; i < n; ++i) {
    T y[kDim], h[kDim];
    for (int c = 0; c < D; ++c) y[c] = s.z[i * D + c] + tape.x[i * D + c];
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

template <class T>
void backward_sequence(const ModelConfig& m, const Weights<const T>& w, const TransposedWeights<T>& wt,
                       const Weights<T>& g,
                       const std::int32_t* tokens, const Targets& targets, int n, T q_exp,
                       const GradientScales<T>& scale, const Tape<T>& tape, const Scratch<T>& s) {
  using namespace kernels;
  using K = BlockKernels<T>;
  const int L = m.loops, D = kDim, V = m.vocab_out;
  const auto k = LoopCoefficients::of(m);
  const T mu = T(k.mu), alpha = T(k.alpha);
  const T slope = alibi_slope(m, w.rho);
  T dslope = 0;

  for (int i = 0; i < n; ++i) {
    T h[kDim], dh[kDim] = {};
    T* dz = s.dz + i * D;
    for (int c = 0; c < D; ++c) dz[c] = 0;
    if (targets.counted(i)) {
      loss::cross_entropy(tape.logits + std::size_t(i) * V, V, targets.labels[i], scale.ce, s.dlogits);
    } else {
      for (int o = 0; o < V; ++o) s.dlogits[o] = T(0);
    }
    layernorm_apply(tape.xhatf + i * D, w.lnf_gain, w.lnf_bias, h);
    dense_backward_n<kDim>(h, w.Wout, s.dlogits, g.Wout, g.bout, dh, V);
    layernorm_backward(dh, tape.xhatf + i * D, tape.rstdf[i], w.lnf_gain, g.lnf_gain, g.lnf_bias, dz);
    for (int c = 0; c < D; ++c) {
      s.dx[i * D + c] = dz[c];
      s.dvel[i * D + c] = 0;
    }
  }

  for (int t = L - 1; t >= 0; --t) {
    const std::size_t tn = std::size_t(t) * n;
    const T* vel = tape.vel + tn * D;
    for (int i = 0; i < n; ++i) {
      T ddelta[kDim], dhid[kHidden] = {}, h2[kDim], dh2[kDim] = {}, du[kDim] = {};
      for (int c = 0; c < D; ++c) {
        const T dvel = s.dz[i * D + c] + mu * s.dvel[i * D + c] + scale.kinetic * vel[i * D + c];
        s.dvel[i * D + c] = dvel;
        ddelta[c] = alpha * dvel;
      }
      const T* act = tape.act + (tn + i) * kHidden;
      const T* dact = tape.dact + (tn + i) * kHidden;
      K::template dense_backward<kHidden, kDim>(act, wt.W2, ddelta, g.W2, g.b2, dhid);
      for (int c = 0; c < kHidden; ++c) dhid[c] *= dact[c];
      const T* xhat2 = tape.xhat2 + (tn + i) * D;
      layernorm_apply(xhat2, w.ln2_gain, w.ln2_bias, h2);
      K::template dense_backward<kDim, kHidden>(h2, wt.W1, dhid, g.W1, g.b1, dh2);
      layernorm_backward(dh2, xhat2, tape.rstd2[tn + i], w.ln2_gain, g.ln2_gain, g.ln2_bias, du);
      for (int c = 0; c < D; ++c) {
        s.a[i * D + c] = ddelta[c] + du[c];  // dA
        s.dy[i * D + c] = du[c];            // dY so far (through U = Y + A)
      }
    }
    const T* P = tape.P ? tape.P + tn * n : nullptr;
    K::attention_backward(tape.q + tn * D, tape.k + tn * D, tape.v + tn * D, n, m.causal, P, tape.lse + tn,
                       tape.argmax + tn, s.a, scale.potential, scale.tsallis, q_exp, s.att, s.dq, s.dk, s.dv, slope,
                       g.rho ? &dslope : nullptr);
    for (int i = 0; i < n; ++i) {
      T h1[kDim], dh1[kDim] = {};
      if (tape.rope) {  // back through the rotation: its transpose
        rope_rotate(tape.rope + i * D, true, s.dq + i * D);
        rope_rotate(tape.rope + i * D, true, s.dk + i * D);
      }
      const T* xhat1 = tape.xhat1 + (tn + i) * D;
      layernorm_apply(xhat1, w.ln1_gain, w.ln1_bias, h1);
      K::template dense_backward<kDim, kDim>(h1, wt.Wq, s.dq + i * D, g.Wq, (T*)nullptr, dh1);
      K::template dense_backward<kDim, kDim>(h1, wt.Wk, s.dk + i * D, g.Wk, (T*)nullptr, dh1);
      K::template dense_backward<kDim, kDim>(h1, wt.Wv, s.dv + i * D, g.Wv, (T*)nullptr, dh1);
      T* dy = s.dy + i * D;
      layernorm_backward(dh1, xhat1, tape.rstd1[tn + i], w.ln1_gain, g.ln1_gain, g.ln1_bias, dy);
      for (int c = 0; c < D; ++c) {
        s.dz[i * D + c] += dy[c];
        s.dx[i * D + c] += dy[c];
      }
    }
  }

  for (int i = 0; i < n; ++i) {
    T* de = g.E + tokens[i] * D;
    for (int c = 0; c < D; ++c) de[c] += s.dx[i * D + c];
  }
  if (g.rho) g.rho[0] += dslope * sigmoid(w.rho[0]);  // m = softplus(rho)
}

}  // namespace tinyloop::model
