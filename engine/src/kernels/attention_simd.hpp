#pragma once
// xsimd version of the training attention (float). Keys and values are transposed into
// d x stride tiles so a query meets kLanes keys per fused multiply-add, the softmax
// exponentials are vectorised, and the key/value gradients accumulate in transposed form,
// so no horizontal sums sit in the inner loops. Only the last partial register of a causal
// row touches masked positions; their lanes are forced to probability 0.
#if TINYLOOP_SIMD
#include <cmath>
#include <cstdint>

#include "kernels/attention.hpp"
#include "kernels/simd.hpp"

namespace tinyloop::kernels {

namespace detail {

using simd::fbatch;
using simd::kLaneIndex;
using simd::kLanes;
constexpr float kMaskedScore = -1e30f;  // exp(kMaskedScore - max) == 0

inline int padded(int count) { return (count + kLanes - 1) / kLanes * kLanes; }

// dst (d x stride) = src (n x d) transposed; columns n..stride-1 are zero.
inline void transpose_in(const float* src, int n, int stride, float* dst) {
  for (int c = 0; c < kDim; ++c) {
    float* row = dst + c * stride;
    for (int j = 0; j < n; ++j) row[j] = src[j * kDim + c];
    for (int j = n; j < stride; ++j) row[j] = 0.0f;
  }
}

// dst (n x d) += src (d x stride) transposed back.
inline void transpose_out(const float* src, int n, int stride, float* dst) {
  for (int j = 0; j < n; ++j)
    for (int c = 0; c < kDim; ++c) dst[j * kDim + c] = src[c * stride + j];
}

// ALiBi distances |i - j| of keys j .. j + kLanes - 1 from query i (exact below 2^24).
inline fbatch distances(int i, int j) {
  return xsimd::abs(fbatch(float(i)) - (fbatch::load_aligned(kLaneIndex) + fbatch(float(j))));
}

// row[0 .. padded(count)) = q . K^T / sqrt(d) - slope * |i - j| for keys < count, kMaskedScore
// beyond. Returns the lane-wise maximum over the row's registers (padding included).
inline fbatch scores(const float* q, const float* kt, int stride, int count, float* row, int i, float slope) {
  const int end = padded(count);
  float qs[kDim];
  for (int c = 0; c < kDim; ++c) qs[c] = q[c] * inv_sqrt_dim<float>();
  fbatch top(kMaskedScore);
  const fbatch slope_b(slope);
  for (int j = 0; j < end; j += kLanes) {
    fbatch s(0.0f);
    for (int c = 0; c < kDim; ++c) s = xsimd::fma(fbatch(qs[c]), fbatch::load_unaligned(kt + c * stride + j), s);
    if (slope != 0.0f) s = xsimd::fnma(slope_b, distances(i, j), s);
    if (j + kLanes > count)  // the row's last register: lanes at or beyond count are masked
      s = xsimd::select(fbatch::load_aligned(kLaneIndex) < fbatch(float(count - j)), s, fbatch(kMaskedScore));
    s.store_unaligned(row + j);
    top = xsimd::max(top, s);
  }
  return top;
}

// dst[0 .. count) = src[0 .. count), whole registers first.
inline void copy_row(const float* src, int count, float* dst) {
  int j = 0;
  for (; j + kLanes <= count; j += kLanes) fbatch::load_unaligned(src + j).store_unaligned(dst + j);
  for (; j < count; ++j) dst[j] = src[j];
}

inline fbatch tsallis_power(fbatch p, float q) {
  if (q == 2.0f) return p * p;
  if (q == 1.5f) return p * xsimd::sqrt(p);
  return xsimd::select(p > fbatch(0.0f), xsimd::exp(fbatch(q) * xsimd::log(p)), fbatch(0.0f));
}

inline fbatch tsallis_slope(fbatch p, float q) {  // p^(q-1) where p > 0, else 0
  fbatch s;
  if (q == 2.0f) s = p;
  else if (q == 1.5f) s = xsimd::sqrt(p);
  else s = xsimd::exp(fbatch(q - 1.0f) * xsimd::log(p));
  return xsimd::select(p > fbatch(0.0f), s, fbatch(0.0f));
}

}  // namespace detail

namespace simd {

// Same contract as the scalar attention_forward (kernels/attention.hpp).
inline void attention_forward(const float* Q, const float* K, const float* V, int n, bool causal, float q_exp,
                              float* P, const AttentionScratch<float>& scratch, float* lse, std::int32_t* argmax,
                              float* A, AttentionRowSums<float>* sums, float slope = 0.0f) {
  using namespace detail;
  const int stride = padded(n);
  float* kt = scratch.kt;
  float* row = scratch.row;
  transpose_in(K, n, stride, kt);
  for (int i = 0; i < n; ++i) {
    const int count = causal ? i + 1 : n;
    const int end = padded(count);
    // The row maximum and its first position (ties -> lowest j), as the scalar scan finds them;
    // the padding lanes hold kMaskedScore, below every real score.
    const fbatch top = scores(Q + i * kDim, kt, stride, count, row, i, slope);
    alignas(64) float lanes[kLanes];
    top.store_aligned(lanes);
    float m = lanes[0];
    for (int l = 1; l < kLanes; ++l) m = lanes[l] > m ? lanes[l] : m;
    int best = 0;
    for (int j = 0; j < count; ++j)
      if (row[j] == m) { best = j; break; }
    m = row[best];  // a NaN row: best 0, as the scalar scan
    fbatch sum(0.0f);
    const fbatch mb(m);
    for (int j = 0; j < end; j += kLanes) {
      const fbatch e = xsimd::exp(fbatch::load_unaligned(row + j) - mb);
      e.store_unaligned(row + j);
      sum += e;
    }
    const float total = xsimd::hadd(sum);
    const fbatch inv(1.0f / total);
    fbatch ts(0.0f);
    for (int j = 0; j < end; j += kLanes) {
      const fbatch p = fbatch::load_unaligned(row + j) * inv;
      p.store_unaligned(row + j);
      ts += tsallis_power(p, q_exp);
    }
    simd::weighted_rows<kDim>(row, V, count).store(A + i * kDim);
    if (P) copy_row(row, count, P + std::size_t(i) * n);
    lse[i] = m + std::log(total);
    argmax[i] = best;
    sums->potential += std::log(total);
    sums->tsallis += (1.0f - xsimd::hadd(ts)) / (q_exp - 1.0f);
  }
}

// Same contract as the scalar attention_backward.
inline void attention_backward(const float* Q, const float* K, const float* V, int n, bool causal, const float* P,
                               const float* lse, const std::int32_t* argmax, const float* dA, float c_pot,
                               float c_ts, float q_exp, const AttentionScratch<float>& scratch, float* dQ, float* dK,
                               float* dV, float slope = 0.0f, float* dslope = nullptr) {
  using namespace detail;
  const int stride = padded(n);
  const float scale = inv_sqrt_dim<float>();
  const fbatch ts_factor(-c_ts * q_exp / (q_exp - 1.0f));
  const bool with_ts = c_ts != 0.0f;
  float *row = scratch.row, *ds = scratch.dp, *kt = scratch.kt, *vt = scratch.vt;
  float *dkt = scratch.dkt, *dvt = scratch.dvt;
  if (!P) transpose_in(K, n, stride, kt);
  transpose_in(V, n, stride, vt);
  for (int e = 0; e < kDim * stride; ++e) dkt[e] = dvt[e] = 0.0f;

  for (int i = 0; i < n; ++i) {
    const int count = causal ? i + 1 : n;
    const int end = padded(count);
    if (P) {
      copy_row(P + std::size_t(i) * n, count, row);
      for (int j = count; j < end; ++j) row[j] = 0.0f;
    } else {
      scores(Q + i * kDim, kt, stride, count, row, i, slope);
      const fbatch l(lse[i]);
      for (int j = 0; j < end; j += kLanes) xsimd::exp(fbatch::load_unaligned(row + j) - l).store_unaligned(row + j);
    }
    const float* da = dA + i * kDim;
    const float* qi = Q + i * kDim;
    fbatch dot(0.0f);
    for (int j = 0; j < end; j += kLanes) {
      const fbatch p = fbatch::load_unaligned(row + j);
      fbatch g(0.0f);
      for (int c = 0; c < kDim; ++c) g = xsimd::fma(fbatch(da[c]), fbatch::load_unaligned(vt + c * stride + j), g);
      if (with_ts) g = xsimd::fma(ts_factor, tsallis_slope(p, q_exp), g);
      g.store_unaligned(ds + j);
      dot = xsimd::fma(p, g, dot);
    }
    const fbatch dotb(xsimd::hadd(dot)), cpot(c_pot), sc(scale);
    fbatch dm(0.0f);  // d/dslope of S_ij = ... - slope |i - j|, before the 1/sqrt(d) scaling
    for (int j = 0; j < end; j += kLanes) {
      const fbatch p = fbatch::load_unaligned(row + j);
      const fbatch u = p * (fbatch::load_unaligned(ds + j) - dotb) + cpot * p;
      if (dslope) dm = xsimd::fnma(u, distances(i, j), dm);
      (u * sc).store_unaligned(ds + j);
    }
    if (dslope) *dslope += xsimd::hadd(dm) + c_pot * float(alibi_distance(i, argmax[i]));
    ds[argmax[i]] -= c_pot * scale;
    simd::weighted_rows<kDim>(ds, K, count).store(dQ + i * kDim);
    for (int c = 0; c < kDim; ++c) {
      const fbatch qc(qi[c]), dac(da[c]);
      float* dk_row = dkt + c * stride;
      float* dv_row = dvt + c * stride;
      for (int j = 0; j < end; j += kLanes) {
        xsimd::fma(qc, fbatch::load_unaligned(ds + j), fbatch::load_unaligned(dk_row + j)).store_unaligned(dk_row + j);
        xsimd::fma(dac, fbatch::load_unaligned(row + j), fbatch::load_unaligned(dv_row + j)).store_unaligned(dv_row + j);
      }
    }
  }
  transpose_out(dkt, n, stride, dK);
  transpose_out(dvt, n, stride, dV);
}

}  // namespace simd

}  // namespace tinyloop::kernels
#endif
