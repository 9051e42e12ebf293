#pragma once
// What the forward pass of one training sequence saves for its backward pass, and the
// per-worker scratch. Both are carved out of the trainer's arena for the planned capacity;
// indexing uses the actual length n, so a shorter batch packs into the front.
#include <cstddef>
#include <cstdint>

#include "kernels/attention.hpp"
#include "kernels/lanes.hpp"
#include "model/positions.hpp"
#include "tinyloop/arena.hpp"
#include "tinyloop/config.hpp"

namespace tinyloop::model {

// Per-token arrays are feature-major with the token stride S = token_stride(n) (row c holds
// feature c of every token; columns n..S-1 are padding), the layout of the token-block
// kernels (kernels/token_block.hpp).
template <class T>
struct Tape {
  T* x;                  // d x S      injected input X
  T* vel;                // L x d x S  Z_t - Z_{t-1}
  T* xhat1;              // L x d x S  LN1 normalised input
  T* rstd1;              // L x S
  T* q; T* k; T* v;      // L x d x S
  T* P;                  // L x n x n  attention probabilities, or null (recompute path)
  T* lse;                // L x S      row log-sum-exp of the scores
  std::int32_t* argmax;  // L x S      arg-max key of each row (potential term)
  T* power_sum;          // L x S      sum_j P_ij^q of each row (Tsallis term)
  T* att;                // L x d x S  attention output A (its backward's row dots)
  T* xhat2;              // L x d x S  LN2 normalised input
  T* rstd2;              // L x S
  T* act;                // L x 4d x S gelu(G)
  T* dact;               // L x 4d x S gelu'(G)
  T* xhatf;              // n x d      final LN (token-major: the read-out runs per token)
  T* rstdf;              // n
  T* logits;             // n x V_out
  // Shared by every tape (PositionTables), null when the scheme has none:
  const T* sinusoids;       // max_len x d  the sinusoidal positions
  const T* rope;            // d x rope_stride  RoPE cosines (rows 0..d/2) and sines of every position
  std::size_t rope_stride;

  static Tape take(Arena& a, int loops, int n, int vocab_out, bool keep_p) {
    const std::size_t L = std::size_t(loops), N = std::size_t(n), D = kDim;
    const std::size_t S = std::size_t(kernels::token_stride(n));
    Tape t{};
    t.x = a.take<T>(D * S);
    t.vel = a.take<T>(L * D * S);
    t.xhat1 = a.take<T>(L * D * S);
    t.rstd1 = a.take<T>(L * S);
    t.q = a.take<T>(L * D * S);
    t.k = a.take<T>(L * D * S);
    t.v = a.take<T>(L * D * S);
    t.P = keep_p ? a.take<T>(L * N * N) : nullptr;
    t.lse = a.take<T>(L * S);
    t.argmax = a.take<std::int32_t>(L * S);
    t.power_sum = a.take<T>(L * S);
    t.att = a.take<T>(L * D * S);
    t.xhat2 = a.take<T>(L * D * S);
    t.rstd2 = a.take<T>(L * S);
    t.act = a.take<T>(L * kHidden * S);
    t.dact = a.take<T>(L * kHidden * S);
    t.xhatf = a.take<T>(N * D);
    t.rstdf = a.take<T>(N);
    t.logits = a.take<T>(N * std::size_t(vocab_out));
    return t;
  }
};

// Tables of the position terms for every planned position, computed once at init and shared by
// every tape (the sinusoids and RoPE angles cost a sin, a cos and a pow per token otherwise).
template <class T>
struct PositionTables {
  T* sinusoids = nullptr;  // max_len x d (token-major: the embedding reads a token's row), when added
  T* rope = nullptr;       // d x stride (feature-major, as the token blocks read it), with RoPE
  std::size_t stride = 0;  // token_stride(max_len); columns max_len.. are zero

  static PositionTables take(Arena& a, const ModelSpec& m, int max_len) {
    PositionTables p;
    p.stride = std::size_t(kernels::token_stride(max_len));
    if (uses_sinusoids(m.positions)) p.sinusoids = a.take<T>(std::size_t(max_len) * kDim);
    if (uses_rope(m.positions)) p.rope = a.take<T>(kDim * p.stride);
    return p;
  }
  void fill(const ModelSpec& m, int max_len) const {
    for (int i = 0; i < max_len; ++i) {
      if (sinusoids) sinusoidal_position(i, sinusoids + std::size_t(i) * kDim);
      if (rope) {
        T angles[kDim];
        rope_angles(i, m.rope_base, angles);
        kernels::scatter_token(angles, stride, i, rope);
      }
    }
    if (rope)
      for (int c = 0; c < kDim; ++c)
        for (std::size_t i = std::size_t(max_len); i < stride; ++i) rope[c * stride + i] = T(0);
  }
};

// Lane accumulators of the block's weight, bias and LayerNorm gradients while one sequence's
// backward runs (kernels/token_block.hpp): the offset of each tensor's first accumulator;
// each accumulator is one register of lanes (kTokenAlign floats reserved).
struct GradientLanes {
  static constexpr int W1 = 0, W2 = W1 + kDim * kHidden, Wq = W2 + kHidden * kDim, Wk = Wq + kDim * kDim,
                       Wv = Wk + kDim * kDim, b1 = Wv + kDim * kDim, b2 = b1 + kHidden, ln1_gain = b2 + kDim,
                       ln1_bias = ln1_gain + kDim, ln2_gain = ln1_bias + kDim, ln2_bias = ln2_gain + kDim,
                       count = ln2_bias + kDim;
};

// Per-worker scratch, feature-major (d x S) like the tape.
template <class T>
struct Scratch {
  T* z;       // running latent (forward)
  T* da;      // the attention output's gradient (backward)
  kernels::AttentionScratch<T> att;
  T* dz;
  T* dx;
  T* dy;
  T* dvel;    // gradient of the next loop's velocity
  T* dq; T* dk; T* dv;
  T* h;       // a LayerNorm's output, the input of the dense layer whose weight gradient follows
  T* dh;      // the gradient at that output (LayerNorm gain and bias gradients)
  T* ddelta;  // gradient of the loop's update A + M
  T* dhid;    // 4d x S  gradient of the MLP's pre-activation
  T* lanes;   // GradientLanes::count lane accumulators (the forward's kinetic sums use the first d)
  T* dlogits; // V_out

  static Scratch take(Arena& a, int n, int vocab_out) {
    const std::size_t D = kDim, S = std::size_t(kernels::token_stride(n));
    Scratch s{};
    s.z = a.take<T>(D * S);
    s.da = a.take<T>(D * S);
    s.att.row = a.take<T>(kernels::kAttentionRowBuffer * S);
    s.att.dp = a.take<T>(kernels::kAttentionGradRows * S);
    s.dz = a.take<T>(D * S);
    s.dx = a.take<T>(D * S);
    s.dy = a.take<T>(D * S);
    s.dvel = a.take<T>(D * S);
    s.dq = a.take<T>(D * S);
    s.dk = a.take<T>(D * S);
    s.dv = a.take<T>(D * S);
    s.h = a.take<T>(D * S);
    s.dh = a.take<T>(D * S);
    s.ddelta = a.take<T>(D * S);
    s.dhid = a.take<T>(kHidden * S);
    s.lanes = a.take<T>(std::size_t(GradientLanes::count) * kernels::kTokenAlign);
    s.dlogits = a.take<T>(std::size_t(vocab_out));
    return s;
  }
};

}  // namespace tinyloop::model
