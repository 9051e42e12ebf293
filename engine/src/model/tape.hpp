#pragma once
// What the forward pass of one training sequence saves for its backward pass, and the
// per-worker scratch. Both are carved out of the trainer's arena for the planned capacity;
// indexing uses the actual length n, so a shorter batch packs into the front.
#include <cstddef>
#include <cstdint>

#include "kernels/attention.hpp"
#include "tinyloop/arena.hpp"
#include "tinyloop/config.hpp"

namespace tinyloop::model {

template <class T>
struct Tape {
  T* x;                  // n x d      injected input X
  T* vel;                // L x n x d  Z_t - Z_{t-1}
  T* xhat1;              // L x n x d  LN1 normalised input
  T* rstd1;              // L x n
  T* q; T* k; T* v;      // L x n x d
  T* P;                  // L x n x n  attention probabilities, or null (recompute path)
  T* lse;                // L x n      row log-sum-exp of the scores
  std::int32_t* argmax;  // L x n      arg-max key of each row (potential term)
  T* xhat2;              // L x n x d  LN2 normalised input
  T* rstd2;              // L x n
  T* act;                // L x n x 4d gelu(G)
  T* dact;               // L x n x 4d gelu'(G)
  T* xhatf;              // n x d      final LN
  T* rstdf;              // n
  T* logits;             // n x V_out
  T* rope;               // n x d      RoPE cosines and sines per position, or null

  static Tape take(Arena& a, int loops, int n, int vocab_out, bool keep_p, bool rope) {
    const std::size_t L = std::size_t(loops), N = std::size_t(n), D = kDim;
    Tape t{};
    t.x = a.take<T>(N * D);
    t.vel = a.take<T>(L * N * D);
    t.xhat1 = a.take<T>(L * N * D);
    t.rstd1 = a.take<T>(L * N);
    t.q = a.take<T>(L * N * D);
    t.k = a.take<T>(L * N * D);
    t.v = a.take<T>(L * N * D);
    t.P = keep_p ? a.take<T>(L * N * N) : nullptr;
    t.lse = a.take<T>(L * N);
    t.argmax = a.take<std::int32_t>(L * N);
    t.xhat2 = a.take<T>(L * N * D);
    t.rstd2 = a.take<T>(L * N);
    t.act = a.take<T>(L * N * kHidden);
    t.dact = a.take<T>(L * N * kHidden);
    t.xhatf = a.take<T>(N * D);
    t.rstdf = a.take<T>(N);
    t.logits = a.take<T>(N * std::size_t(vocab_out));
    t.rope = rope ? a.take<T>(N * D) : nullptr;
    return t;
  }
};

template <class T>
struct Scratch {
  T* z;       // n x d running latent (forward)
  T* a;       // n x d attention output (forward) / its gradient (backward)
  kernels::AttentionScratch<T> att;
  T* dz;      // n x d
  T* dx;      // n x d
  T* dy;      // n x d
  T* dvel;    // n x d  gradient of the next loop's velocity
  T* dq; T* dk; T* dv;  // n x d
  T* dlogits;           // V_out

  static Scratch take(Arena& a, int n, int vocab_out) {
    const std::size_t N = std::size_t(n), D = kDim;
    Scratch s{};
    s.z = a.take<T>(N * D);
    s.a = a.take<T>(N * D);
    const std::size_t stride = (N + 7) / 8 * 8;  // rows padded to whole registers
    s.att.row = a.take<T>(stride);
    s.att.dp = a.take<T>(stride);
    s.att.kt = a.take<T>(D * stride);
    s.att.vt = a.take<T>(D * stride);
    s.att.dkt = a.take<T>(D * stride);
    s.att.dvt = a.take<T>(D * stride);
    s.dz = a.take<T>(N * D);
    s.dx = a.take<T>(N * D);
    s.dy = a.take<T>(N * D);
    s.dvel = a.take<T>(N * D);
    s.dq = a.take<T>(N * D);
    s.dk = a.take<T>(N * D);
    s.dv = a.take<T>(N * D);
    s.dlogits = a.take<T>(std::size_t(vocab_out));
    return s;
  }
};

// Transposed copies of the weight matrices, refreshed once per backward pass, so that the
// input gradients of the dense layers stream along rows.
template <class T>
struct TransposedWeights {
  T* Wq; T* Wk; T* Wv;  // d x d
  T* W1;                // 4d x d
  T* W2;                // d x 4d

  static TransposedWeights take(Arena& a) {
    TransposedWeights t{};
    t.Wq = a.take<T>(kDim * kDim);
    t.Wk = a.take<T>(kDim * kDim);
    t.Wv = a.take<T>(kDim * kDim);
    t.W1 = a.take<T>(kDim * kHidden);
    t.W2 = a.take<T>(kDim * kHidden);
    return t;
  }
};

}  // namespace tinyloop::model
