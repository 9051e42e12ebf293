#pragma once
// xsimd version of the training attention (float), on the widest registers (simd::wbatch).
// Keys and values arrive feature-major (d x stride), so a query meets kKeyLanes keys per fused
// multiply-add, the softmax exponentials are vectorised, and the key/value gradients
// accumulate in that layout, so no horizontal sums sit in the inner loops. The d-wide sums
// over keys (P V and dS K) run on token-major copies, one d-row register per key. Only the
// last partial register of a causal row touches masked positions; their lanes are forced to
// probability 0.
#if TINYLOOP_SIMD
#include <cmath>
#include <cstdint>

#include "kernels/attention.hpp"
#include "kernels/simd.hpp"

namespace tinyloop::kernels {

namespace detail {

using kbatch = simd::wbatch;  // keys along the lanes
using simd::kLaneIndex;
constexpr int kKeyLanes = simd::kWideLanes;
constexpr float kMaskedScore = -1e30f;  // exp(kMaskedScore - max) == 0

inline int padded(int count) { return (count + kKeyLanes - 1) / kKeyLanes * kKeyLanes; }

// dst (n x d) = src (d x stride) transposed.
inline void token_major(const float* src, int n, std::size_t stride, float* dst) {
  for (int j = 0; j < n; ++j)
    for (int c = 0; c < kDim; ++c) dst[j * kDim + c] = src[c * stride + j];
}

// ALiBi distances |i - j| of keys j .. j + kKeyLanes - 1 from query i (exact below 2^24).
inline kbatch distances(int i, int j) {
  return xsimd::abs(kbatch(float(i)) - (kbatch::load_aligned(kLaneIndex) + kbatch(float(j))));
}

// row[0 .. padded(count)) = q . K^T / sqrt(d) - slope * |i - j| for keys < count, kMaskedScore
// beyond. Returns the lane-wise maximum over the row's registers (padding included).
inline kbatch scores(const float* q, const float* kt, std::size_t stride, int count, float* row, int i,
                     float slope) {
  const int end = padded(count);
  kbatch qs[kDim];
  for (int c = 0; c < kDim; ++c) qs[c] = kbatch(q[c] * inv_sqrt_dim<float>());
  kbatch top(kMaskedScore);
  const kbatch slope_b(slope);
  for (int j = 0; j < end; j += kKeyLanes) {
    kbatch s(0.0f);
    for (int c = 0; c < kDim; ++c) s = xsimd::fma(qs[c], kbatch::load_unaligned(kt + c * stride + j), s);
    if (slope != 0.0f) s = xsimd::fnma(slope_b, distances(i, j), s);
    if (j + kKeyLanes > count)  // the row's last register: lanes at or beyond count are masked
      s = xsimd::select(kbatch::load_aligned(kLaneIndex) < kbatch(float(count - j)), s, kbatch(kMaskedScore));
    s.store_unaligned(row + j);
    top = xsimd::max(top, s);
  }
  return top;
}

inline float hmax(kbatch v) {
  alignas(64) float lanes[kKeyLanes];
  v.store_aligned(lanes);
  float m = lanes[0];
  for (int l = 1; l < kKeyLanes; ++l) m = lanes[l] > m ? lanes[l] : m;
  return m;
}

// dst[0 .. count) = src[0 .. count), whole registers first.
inline void copy_row(const float* src, int count, float* dst) {
  int j = 0;
  for (; j + kKeyLanes <= count; j += kKeyLanes) kbatch::load_unaligned(src + j).store_unaligned(dst + j);
  for (; j < count; ++j) dst[j] = src[j];
}

// The sum over keys j < count of w[j] * rows[j] (token-major, d wide), stored feature-major
// as token i of out.
inline void weighted_keys(const float* w, const float* rows, int count, float* out, std::size_t stride, int i) {
  alignas(64) float sum[kDim];
  simd::weighted_rows<kDim>(w, rows, count).store(sum);
  scatter_token(sum, stride, i, out);
}

inline kbatch tsallis_power(kbatch p, float q) {
  if (q == 2.0f) return p * p;
  if (q == 1.5f) return p * xsimd::sqrt(p);
  return xsimd::select(p > kbatch(0.0f), xsimd::exp(kbatch(q) * xsimd::log(p)), kbatch(0.0f));
}

inline kbatch tsallis_slope(kbatch p, float q) {  // p^(q-1) where p > 0, else 0
  kbatch s;
  if (q == 2.0f) s = p;
  else if (q == 1.5f) s = xsimd::sqrt(p);
  else s = xsimd::exp(kbatch(q - 1.0f) * xsimd::log(p));
  return xsimd::select(p > kbatch(0.0f), s, kbatch(0.0f));
}

}  // namespace detail

namespace simd {

// Same contract as the scalar attention_forward (kernels/attention.hpp); stride is a
// multiple of kTokenAlign.
inline void attention_forward(const float* Q, const float* K, const float* V, int n, std::size_t stride, bool causal,
                              float q_exp, float* P, const AttentionScratch<float>& scratch, float* lse,
                              std::int32_t* argmax, float* A, AttentionRowSums<float>* sums, float slope = 0.0f) {
  using namespace detail;
  float* row = scratch.row;
  token_major(V, n, stride, scratch.va);
  for (int c = 0; c < kDim; ++c)
    for (std::size_t i = std::size_t(n); i < stride; ++i) A[c * stride + i] = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int count = causal ? i + 1 : n;
    const int end = padded(count);
    // The row maximum and its first position (ties -> lowest j), as the scalar scan finds them;
    // the padding lanes hold kMaskedScore, below every real score.
    float q[kDim];
    gather_token(Q, stride, i, q);
    float m = hmax(scores(q, K, stride, count, row, i, slope));
    int best = 0;
    for (int j = 0; j < count; ++j)
      if (row[j] == m) { best = j; break; }
    m = row[best];  // a NaN row: best 0, as the scalar scan
    kbatch sum(0.0f);
    const kbatch mb(m);
    for (int j = 0; j < end; j += kKeyLanes) {
      const kbatch e = xsimd::exp(kbatch::load_unaligned(row + j) - mb);
      e.store_unaligned(row + j);
      sum += e;
    }
    const float total = xsimd::hadd(sum);
    const kbatch inv(1.0f / total);
    kbatch ts(0.0f);
    for (int j = 0; j < end; j += kKeyLanes) {
      const kbatch p = kbatch::load_unaligned(row + j) * inv;
      p.store_unaligned(row + j);
      ts += tsallis_power(p, q_exp);
    }
    weighted_keys(row, scratch.va, count, A, stride, i);
    if (P) copy_row(row, count, P + std::size_t(i) * n);
    lse[i] = m + std::log(total);
    argmax[i] = best;
    sums->potential += std::log(total);
    sums->tsallis += (1.0f - xsimd::hadd(ts)) / (q_exp - 1.0f);
  }
}

// Same contract as the scalar attention_backward.
inline void attention_backward(const float* Q, const float* K, const float* V, int n, std::size_t stride,
                               bool causal, const float* P, const float* lse, const std::int32_t* argmax,
                               const float* dA, float c_pot, float c_ts, float q_exp,
                               const AttentionScratch<float>& scratch, float* dQ, float* dK, float* dV,
                               float slope = 0.0f, float* dslope = nullptr) {
  using namespace detail;
  const float scale = inv_sqrt_dim<float>();
  const kbatch ts_factor(-c_ts * q_exp / (q_exp - 1.0f));
  const bool with_ts = c_ts != 0.0f;
  float *row = scratch.row, *ds = scratch.dp;
  token_major(K, n, stride, scratch.ka);
  for (std::size_t e = 0; e < kDim * stride; ++e) dQ[e] = dK[e] = dV[e] = 0.0f;

  for (int i = 0; i < n; ++i) {
    const int count = causal ? i + 1 : n;
    const int end = padded(count);
    float qi[kDim], da[kDim];
    gather_token(Q, stride, i, qi);
    gather_token(dA, stride, i, da);
    if (P) {
      copy_row(P + std::size_t(i) * n, count, row);
      for (int j = count; j < end; ++j) row[j] = 0.0f;
    } else {
      scores(qi, K, stride, count, row, i, slope);
      const kbatch l(lse[i]);
      for (int j = 0; j < end; j += kKeyLanes) xsimd::exp(kbatch::load_unaligned(row + j) - l).store_unaligned(row + j);
    }
    kbatch dab[kDim];
    for (int c = 0; c < kDim; ++c) dab[c] = kbatch(da[c]);
    kbatch dot(0.0f);
    for (int j = 0; j < end; j += kKeyLanes) {
      const kbatch p = kbatch::load_unaligned(row + j);
      kbatch g(0.0f);
      for (int c = 0; c < kDim; ++c) g = xsimd::fma(dab[c], kbatch::load_unaligned(V + c * stride + j), g);
      if (with_ts) g = xsimd::fma(ts_factor, tsallis_slope(p, q_exp), g);
      g.store_unaligned(ds + j);
      dot = xsimd::fma(p, g, dot);
    }
    const kbatch dotb(xsimd::hadd(dot)), cpot(c_pot), sc(scale);
    kbatch dm(0.0f);  // d/dslope of S_ij = ... - slope |i - j|, before the 1/sqrt(d) scaling
    for (int j = 0; j < end; j += kKeyLanes) {
      const kbatch p = kbatch::load_unaligned(row + j);
      const kbatch u = p * (kbatch::load_unaligned(ds + j) - dotb) + cpot * p;
      if (dslope) dm = xsimd::fnma(u, distances(i, j), dm);
      (u * sc).store_unaligned(ds + j);
    }
    if (dslope) *dslope += xsimd::hadd(dm) + c_pot * float(alibi_distance(i, argmax[i]));
    ds[argmax[i]] -= c_pot * scale;
    weighted_keys(ds, scratch.ka, count, dQ, stride, i);
    for (int c = 0; c < kDim; ++c) {
      const kbatch qc(qi[c]);
      float* dk_row = dK + c * stride;
      float* dv_row = dV + c * stride;
      for (int j = 0; j < end; j += kKeyLanes) {
        xsimd::fma(qc, kbatch::load_unaligned(ds + j), kbatch::load_unaligned(dk_row + j)).store_unaligned(dk_row + j);
        xsimd::fma(dab[c], kbatch::load_unaligned(row + j), kbatch::load_unaligned(dv_row + j)).store_unaligned(dv_row + j);
      }
    }
  }
}

}  // namespace simd

}  // namespace tinyloop::kernels
#endif
