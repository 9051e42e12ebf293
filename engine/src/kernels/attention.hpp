#pragma once
// The kernels: attention (scalar reference, xsimd, streaming online softmax, the ALiBi bias),
// dense layers, GELU, LayerNorm, token blocks (token_block.hpp), at d = 8 and at runtime widths.
//
// Single-head causal attention of width d = 8, scalar reference path.
// Training keeps P (or only the row log-sum-exp, then P is recomputed in the backward);
// inference uses the streaming online-softmax row (O(d) state per query).
#include <cmath>
#include <cstdint>

#include "loss/attention_terms.hpp"
#include "tinyloop/config.hpp"

namespace tinyloop::kernels {

template <class T>
constexpr T inv_sqrt_dim() { return T(0.35355339059327376220); }  // 1 / sqrt(8)

template <class T>
inline T dot8(const T* a, const T* b) {
  T s = 0;
  for (int c = 0; c < kDim; ++c) s += a[c] * b[c];
  return s;
}

// The SIMD training kernels' backward works on this many queries at once (attention_simd.hpp).
constexpr int kAttentionQueries = 8;
// Rows of stride floats in AttentionScratch::row: the backward's kAttentionQueries, or the
// forward's scores of up to 16 queries (one per lane of the widest registers), key-major.
constexpr int kAttentionRowBuffer = 16;

// Rows of stride floats in AttentionScratch::dp: the backward's dS of up to 16 queries, whose dQ
// runs with the queries along the lanes.
constexpr int kAttentionGradRows = 16;

// Per-worker buffers of the training attention kernels: row holds kAttentionRowBuffer rows of
// stride floats, dp kAttentionGradRows (the scalar kernels use the first row of each).
template <class T>
struct AttentionScratch {
  T* row;
  T* dp;
};

// Statistics of the attention rows that the objective needs.
template <class T>
struct AttentionRowSums {
  T potential = 0;  // sum over rows of -log max_j P_ij
  T tsallis = 0;    // sum over rows of S_q(P_i)
};

// ALiBi distance of key j from query i: i - j under the causal mask; |i - j| without it
// (SPEC §1.1 defines j <= i; the symmetric form keeps "far is penalised" for the unmasked option).
inline int alibi_distance(int i, int j) { return i >= j ? i - j : j - i; }

// The training kernels take queries, keys, values and their gradients feature-major: row c of
// a d x stride array holds feature c of every token (the token-block layout, lanes.hpp).
template <class T>
inline void gather_token(const T* rows, std::size_t stride, int i, T* out) {
  for (int c = 0; c < kDim; ++c) out[c] = rows[c * stride + i];
}
template <class T>
inline void scatter_token(const T* in, std::size_t stride, int i, T* rows) {
  for (int c = 0; c < kDim; ++c) rows[c * stride + i] = in[c];
}

// Scores of query q against keys 0..count-1 (count = i+1 when causal), written to `s`:
// q.k / sqrt(d) - slope * distance(i, j) (slope 0: no recency bias).
template <class T>
inline void attention_scores(const T* q, const T* K, std::size_t stride, int count, T* s, int i = 0,
                             T slope = T(0)) {
  const T scale = inv_sqrt_dim<T>();
  for (int j = 0; j < count; ++j) {
    T dot = 0;
    for (int c = 0; c < kDim; ++c) dot += q[c] * K[c * stride + j];
    s[j] = dot * scale - slope * T(alibi_distance(i, j));
  }
}

// Forward over a sequence of n tokens (Q, K, V, A: d x stride, stride >= n; A's columns
// n..stride-1 are zeroed). P (n x n, row stride n) may be null: the row is then built in
// scratch.row and only lse survives. Masked entries (j > i when causal) of P hold no
// meaningful value (the SIMD kernel may write zeros there). `slope` is the ALiBi recency slope.
// Per row i it keeps lse[i], argmax[i] and power_sum[i] = sum_j P_ij^q (the backward's row dot).
template <class T>
inline void attention_forward(const T* Q, const T* K, const T* V, int n, std::size_t stride, bool causal, T q_exp,
                              T* P, const AttentionScratch<T>& scratch, T* lse, std::int32_t* argmax, T* power_sum,
                              T* A, AttentionRowSums<T>* sums, T slope = T(0)) {
  T* row = scratch.row;
  for (int c = 0; c < kDim; ++c)
    for (std::size_t i = std::size_t(n); i < stride; ++i) A[c * stride + i] = T(0);
  for (int i = 0; i < n; ++i) {
    const int count = causal ? i + 1 : n;
    T* p = P ? P + std::size_t(i) * n : row;
    T q[kDim];
    gather_token(Q, stride, i, q);
    attention_scores(q, K, stride, count, p, i, slope);
    int best = 0;
    T m = p[0];
    for (int j = 1; j < count; ++j)
      if (p[j] > m) { m = p[j]; best = j; }
    T sum = 0;
    for (int j = 0; j < count; ++j) { p[j] = std::exp(p[j] - m); sum += p[j]; }
    const T inv = T(1) / sum;
    T a[kDim] = {};
    for (int j = 0; j < count; ++j) {
      p[j] *= inv;
      for (int c = 0; c < kDim; ++c) a[c] += p[j] * V[c * stride + j];
    }
    scatter_token(a, stride, i, A);
    lse[i] = m + std::log(sum);
    argmax[i] = best;
    sums->potential += std::log(sum);  // max_j P_ij = 1 / sum
    power_sum[i] = loss::tsallis_power_sum(p, count, q_exp);
    sums->tsallis += (T(1) - power_sum[i]) / (q_exp - T(1));
  }
}

// Backward. dA: d x stride. c_pot scales the potential gradient, c_ts the Tsallis one (both
// already divided by the number of rows). dQ, dK, dV (d x stride) are overwritten, their
// columns n..stride-1 with zeros. With an ALiBi slope, *dslope (when given) gains the gradient
// of the slope: sum over rows and keys of dL/dS_ij * -distance(i, j).
// A and power_sum are the forward's: the SIMD kernel takes each row's dot sum_j P_ij dP_ij
// from them (dA_i . A_i + the Tsallis factor times power_sum[i]; for a q other than 1.5 and 2
// it sums the Tsallis part itself) and so needs one pass over the row, not two. This reference
// sums the dot over the row, so that the tests check that identity; it does not read A or
// power_sum.
template <class T>
inline void attention_backward(const T* Q, const T* K, const T* V, int n, std::size_t stride, bool causal,
                               const T* P, const T* lse, const std::int32_t* argmax, const T* /*power_sum*/,
                               const T* /*A*/, const T* dA, T c_pot, T c_ts, T q_exp,
                               const AttentionScratch<T>& scratch, T* dQ, T* dK, T* dV, T slope = T(0),
                               T* dslope = nullptr) {
  T* row = scratch.row;
  T* dP = scratch.dp;
  const T scale = inv_sqrt_dim<T>();
  const T ts_factor = -c_ts * q_exp / (q_exp - T(1));
  for (std::size_t k = 0; k < kDim * stride; ++k) { dQ[k] = 0; dK[k] = 0; dV[k] = 0; }
  for (int i = 0; i < n; ++i) {
    const int count = causal ? i + 1 : n;
    const T* p = P ? P + std::size_t(i) * n : row;
    T qi[kDim], da[kDim], dq[kDim] = {};
    gather_token(Q, stride, i, qi);
    gather_token(dA, stride, i, da);
    if (!P) {
      attention_scores(qi, K, stride, count, row, i, slope);
      for (int j = 0; j < count; ++j) row[j] = std::exp(row[j] - lse[i]);
    }
    T dot = 0;
    for (int j = 0; j < count; ++j) {
      T g = 0;
      for (int c = 0; c < kDim; ++c) { g += da[c] * V[c * stride + j]; dV[c * stride + j] += p[j] * da[c]; }
      if (ts_factor != T(0) && p[j] > T(0)) g += ts_factor * loss::tsallis_power_slope(p[j], q_exp);
      dP[j] = g;
      dot += p[j] * g;
    }
    T dm = 0;
    for (int j = 0; j < count; ++j) {
      T ds = p[j] * (dP[j] - dot) + c_pot * (p[j] - (j == argmax[i] ? T(1) : T(0)));
      dm -= ds * T(alibi_distance(i, j));
      ds *= scale;
      for (int c = 0; c < kDim; ++c) { dq[c] += ds * K[c * stride + j]; dK[c * stride + j] += ds * qi[c]; }
    }
    scatter_token(dq, stride, i, dQ);
    if (dslope) *dslope += dm;
  }
}

// Streaming row for inference: A_i = softmax(q K^T / sqrt d - slope * distance(i, j)) V over
// `count` keys with a running max and sum, never materialising the row.
template <class T>
inline void attention_row_online(const T* q, const T* K, const T* V, int count, T* out, int i = 0,
                                 T slope = T(0)) {
  const T scale = inv_sqrt_dim<T>();
  T m = -INFINITY, l = 0;
  T acc[kDim] = {};
  for (int j = 0; j < count; ++j) {
    const T s = dot8(q, K + j * kDim) * scale - slope * T(alibi_distance(i, j));
    const T* v = V + j * kDim;
    if (s > m) {
      const T r = std::exp(m - s);
      l = l * r + T(1);
      for (int c = 0; c < kDim; ++c) acc[c] = acc[c] * r + v[c];
      m = s;
    } else {
      const T e = std::exp(s - m);
      l += e;
      for (int c = 0; c < kDim; ++c) acc[c] += e * v[c];
    }
  }
  const T inv = T(1) / l;
  for (int c = 0; c < kDim; ++c) out[c] = acc[c] * inv;
}

}  // namespace tinyloop::kernels
