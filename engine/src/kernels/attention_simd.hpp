#pragma once
// xsimd version of the training attention (float), on the widest registers (simd::wbatch).
// Keys and values arrive feature-major (d x stride), so a query meets kKeyLanes keys per fused
// multiply-add, and the key/value gradients accumulate in that layout with no horizontal sums
// in the inner loops. Queries run in groups of kAttentionQueries consecutive rows, so that
// every key and value load (scores, P V, dS K, dK, dV) serves the whole group, and the group's
// independent chains keep the FMA units busy. The softmax uses exp_softmax (exp_simd.hpp).
// Lanes beyond a row's keys are forced to probability 0; the last group may be shorter.
#if TINYLOOP_SIMD
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/attention.hpp"
#include "kernels/exp_simd.hpp"
#include "kernels/simd.hpp"

namespace tinyloop::kernels {

namespace detail {

using kbatch = simd::wbatch;  // keys along the lanes
using simd::kLaneIndex;
constexpr int kKeyLanes = simd::kWideLanes;
constexpr float kMaskedScore = -1e30f;  // exp_softmax(kMaskedScore - max) == 0

inline int padded(int count) { return (count + kKeyLanes - 1) / kKeyLanes * kKeyLanes; }

// The lane numbers of keys j .. j + kKeyLanes - 1.
inline kbatch key_index(int j) { return kbatch::load_aligned(kLaneIndex) + kbatch(float(j)); }

// ALiBi distances |i - j| of keys j .. j + kKeyLanes - 1 from query i (exact below 2^24).
inline kbatch distances(int i, int j) { return xsimd::abs(kbatch(float(i)) - key_index(j)); }

// Row i of P (n x n, row stride n) from a row of weights (zero from count on) times `scale`, in
// whole registers, so the backward's register loads find them in whole stores; a register that
// would run past the matrix (the last row) goes lane by lane. Entries from count to the
// register's end get the row's zeros, or the next row's first entries, which that row overwrites.
inline void store_probabilities(const float* row, float scale, int count, int n, int i, float* P) {
  const std::size_t base = std::size_t(i) * n, size = std::size_t(n) * n;
  for (int j = 0; j < count; j += kKeyLanes) {
    if (base + j + kKeyLanes <= size) {
      (kbatch::load_unaligned(row + j) * kbatch(scale)).store_unaligned(P + base + j);
    } else {
      for (int l = j; l < count; ++l) P[base + l] = row[l] * scale;
    }
  }
}

// row[0 .. end) = row i of P up to count, 0 beyond (the inverse of store_probabilities).
inline void load_probabilities(const float* P, int n, int i, int count, int end, float* row) {
  const std::size_t base = std::size_t(i) * n, size = std::size_t(n) * n;
  for (int j = 0; j < end; j += kKeyLanes) {
    kbatch p(0.0f);
    if (j < count) {
      if (base + j + kKeyLanes <= size) {
        p = kbatch::load_unaligned(P + base + j);
      } else {
        alignas(64) float tail[kKeyLanes] = {};
        for (int l = j; l < count; ++l) tail[l - j] = P[base + l];
        p = kbatch::load_aligned(tail);
      }
      if (j + kKeyLanes > count)
        p = xsimd::select(kbatch::load_aligned(kLaneIndex) < kbatch(float(count - j)), p, kbatch(0.0f));
    }
    p.store_unaligned(row + j);
  }
}


// Which Tsallis gradient the backward computes, chosen once per call rather than per register.
enum class TsallisSlope { kNone, kLinear, kSqrt, kPower };  // c_ts = 0; q = 2; q = 1.5; any other q

inline TsallisSlope tsallis_slope_kind(float c_ts, float q) {
  if (c_ts == 0.0f) return TsallisSlope::kNone;
  return q == 2.0f ? TsallisSlope::kLinear : q == 1.5f ? TsallisSlope::kSqrt : TsallisSlope::kPower;
}

// f(std::integral_constant<TsallisSlope, kind>{}): the kernels' loops are compiled per kind.
template <class F>
inline void with_tsallis_slope(TsallisSlope kind, F&& f) {
  using TS = TsallisSlope;
  switch (kind) {
    case TS::kNone: f(std::integral_constant<TS, TS::kNone>{}); break;
    case TS::kLinear: f(std::integral_constant<TS, TS::kLinear>{}); break;
    case TS::kSqrt: f(std::integral_constant<TS, TS::kSqrt>{}); break;
    case TS::kPower: f(std::integral_constant<TS, TS::kPower>{}); break;
  }
}

template <TsallisSlope W>
inline kbatch tsallis_slope(kbatch p, float q) {  // p^(q-1) where p > 0, else 0 (p >= 0)
  if constexpr (W == TsallisSlope::kLinear) return p;
  if constexpr (W == TsallisSlope::kSqrt) return xsimd::sqrt(p);
  return xsimd::select(p > kbatch(0.0f), xsimd::exp(kbatch(q - 1.0f) * xsimd::log(p)), kbatch(0.0f));
}

// What the backward's dP takes of the Tsallis term, up to its factor: p^(q-1), or for the
// general power p^(q-1) - 1 = expm1((q - 1) ln p). The constant 1 drops out of dS
// (sum_j P_ij = 1), and near q = 1 it is what p^(q-1) is made of: dS keeps only
// p^(q-1) - sum_k P_ik P_ik^(q-1), a difference of order q - 1, which the shifted form
// computes without cancelling (the factor q / (q - 1) amplifies every rounding of it).
template <TsallisSlope W>
inline kbatch tsallis_gradient_term(kbatch p, float q) {
  if constexpr (W == TsallisSlope::kPower)
    return xsimd::select(p > kbatch(0.0f), xsimd::expm1(kbatch(q - 1.0f) * xsimd::log(p)), kbatch(0.0f));
  return tsallis_slope<W>(p, q);
}

// p^q as p times p^(q-1).
template <TsallisSlope W>
inline kbatch tsallis_power(kbatch p, float q) {
  return p * tsallis_slope<W>(p, q);
}

// NQ consecutive queries i0 .. i0 + NQ - 1 of a sequence: their key counts and the registers
// that cover the longest.
template <int NQ>
struct QueryGroup {
  int i0;
  int count[NQ];
  int end;  // padded(largest count)
  QueryGroup(int first, int n, bool causal) : i0(first) {
    int most = 0;
    for (int q = 0; q < NQ; ++q) {
      count[q] = causal ? first + q + 1 : n;
      most = count[q] > most ? count[q] : most;
    }
    end = padded(most);
  }
};

// out[q] = sum_c w[q][c] X[c][j .. j + kKeyLanes) for the group's queries (X feature-major):
// each register of X is loaded once for the whole group.
template <int NQ>
inline void group_dots(const float (&w)[NQ][kDim], const float* X, std::size_t stride, int j, kbatch (&out)[NQ]) {
  for (int q = 0; q < NQ; ++q) out[q] = kbatch(0.0f);
  for (int c = 0; c < kDim; ++c) {
    const kbatch x = kbatch::load_unaligned(X + c * stride + j);
    for (int q = 0; q < NQ; ++q) out[q] = xsimd::fma(kbatch(w[q][c]), x, out[q]);
  }
}

// rows[q][0 .. end) = q . K^T / sqrt(d) - slope |i - j| for the group's queries, kMaskedScore
// where j >= count[q]. With `top`: the lane-wise running maximum of each row and the first key
// at which each lane reached it (for the row's argmax, lowest j on ties).
template <int NQ>
inline void group_scores(const QueryGroup<NQ>& g, const float* Q, const float* K, std::size_t stride, float slope,
                         float* rows, kbatch* top, kbatch* at) {
  float qs[NQ][kDim];
  for (int q = 0; q < NQ; ++q)
    for (int c = 0; c < kDim; ++c) qs[q][c] = Q[c * stride + g.i0 + q] * inv_sqrt_dim<float>();
  if (top)
    for (int q = 0; q < NQ; ++q) top[q] = kbatch(kMaskedScore), at[q] = kbatch(0.0f);
  for (int j = 0; j < g.end; j += kKeyLanes) {
    kbatch s[NQ];
    group_dots<NQ>(qs, K, stride, j, s);
    for (int q = 0; q < NQ; ++q) {
      if (slope != 0.0f) s[q] = xsimd::fnma(kbatch(slope), distances(g.i0 + q, j), s[q]);
      if (j + kKeyLanes > g.count[q])  // lanes at or beyond count are masked
        s[q] = xsimd::select(kbatch::load_aligned(kLaneIndex) < kbatch(float(g.count[q] - j)), s[q],
                             kbatch(kMaskedScore));
      s[q].store_unaligned(rows + q * stride + j);
      if (top) {
        at[q] = xsimd::select(s[q] > top[q], key_index(j), at[q]);
        top[q] = xsimd::max(top[q], s[q]);
      }
    }
  }
}

// The row's maximum and its first key, from the lanes' running maxima: the lowest key among
// the lanes that hold the maximum (a row without one, all NaN: key 0, as the scalar scan).
// Branch-free: which lane wins is data.
inline int row_argmax(kbatch top, kbatch at, const float* row) {
  const float m = simd::reduce_max(top);
  const float first = simd::reduce_min(xsimd::select(top == kbatch(m), at, kbatch(3e38f)));
  const int best = first < 3e38f ? int(first) : 0;
  return row[best] == m ? best : 0;
}

// out (feature-major, token i0 + q) = scale[q] (1 if null) times the sum over keys j < keys of
// w[q][j] X[c][j] (X feature-major),
// keys along the lanes: one accumulator per (query, feature), a register's worth of them at a
// time (two queries' 8 features on 16 lanes), summed together at the end (lane_sums). w[q][j] is
// 0 beyond the query's count; the lanes at and past `keys` hold no token, so both factors are
// masked there (0 x garbage could be NaN).
template <int NQ>
inline void group_weighted_keys(const float* w, const float* X, std::size_t stride, int keys, float* out, int i0,
                                const float* scale = nullptr) {
  constexpr int kFeatures = kKeyLanes < kDim ? kKeyLanes : kDim;  // per register of sums
  constexpr int kQueries = kKeyLanes / kFeatures;
  const kbatch lane = kbatch::load_aligned(kLaneIndex);
  for (int q0 = 0; q0 < NQ; q0 += kQueries)
    for (int c0 = 0; c0 < kDim; c0 += kFeatures) {
      kbatch acc[kKeyLanes];
      for (auto& a : acc) a = kbatch(0.0f);
      for (int j = 0; j < keys; j += kKeyLanes) {
        const bool tail = j + kKeyLanes > keys;
        const auto live = lane < kbatch(float(keys - j));
        kbatch x[kFeatures];
        for (int c = 0; c < kFeatures; ++c) {
          x[c] = kbatch::load_unaligned(X + (c0 + c) * stride + j);
          if (tail) x[c] = xsimd::select(live, x[c], kbatch(0.0f));
        }
        for (int q = 0; q < kQueries && q0 + q < NQ; ++q) {
          kbatch wq = kbatch::load_unaligned(w + (q0 + q) * stride + j);
          if (tail) wq = xsimd::select(live, wq, kbatch(0.0f));
          for (int c = 0; c < kFeatures; ++c) acc[q * kFeatures + c] = xsimd::fma(wq, x[c], acc[q * kFeatures + c]);
        }
      }
      alignas(64) float sum[kKeyLanes];
      simd::lane_sums(acc).store_aligned(sum);
      for (int q = 0; q < kQueries && q0 + q < NQ; ++q) {
        const float f = scale ? scale[q0 + q] : 1.0f;
        for (int c = 0; c < kFeatures; ++c) out[(c0 + c) * stride + i0 + q0 + q] = sum[q * kFeatures + c] * f;
      }
    }
}

template <int NQ, TsallisSlope W>
inline void forward_group(const QueryGroup<NQ>& g, const float* Q, const float* K, const float* V, int n,
                          std::size_t stride, float q_exp, float* P, float* rows, float* lse, std::int32_t* argmax,
                          float* power_sum, float* A, AttentionRowSums<float>* sums, float slope) {
  kbatch top[NQ], at[NQ], total[NQ], ts[NQ];
  group_scores(g, Q, K, stride, slope, rows, top, at);
  float m[NQ];
  int best[NQ];
  for (int q = 0; q < NQ; ++q) {
    best[q] = row_argmax(top[q], at[q], rows + q * stride);
    m[q] = rows[q * stride + best[q]];
    total[q] = ts[q] = kbatch(0.0f);
  }
  // The rows keep the weights e^(s - m); 1/sum scales A, P and the power sums afterwards
  // (sum_j p_j^q = sum_j e_j^q / sum^q). The general power keeps normalised rows instead:
  // near q = 1 its entropy (1 - sum_j p_j^q) / (q - 1) is a cancellation, best fed exact p.
  constexpr bool normalise = W == TsallisSlope::kPower;
  for (int j = 0; j < g.end; j += kKeyLanes)
    for (int q = 0; q < NQ; ++q) {
      float* r = rows + q * stride + j;
      const kbatch e = simd::exp_softmax(kbatch::load_unaligned(r) - kbatch(m[q]));
      e.store_unaligned(r);
      total[q] += e;
      if constexpr (!normalise) ts[q] += tsallis_power<W>(e, q_exp);
    }
  float sum[NQ], inv[NQ];
  for (int q = 0; q < NQ; ++q) {
    sum[q] = xsimd::hadd(total[q]);
    inv[q] = 1.0f / sum[q];
  }
  if constexpr (normalise)
    for (int j = 0; j < g.end; j += kKeyLanes)
      for (int q = 0; q < NQ; ++q) {
        float* r = rows + q * stride + j;
        const kbatch p = kbatch::load_unaligned(r) * kbatch(inv[q]);
        p.store_unaligned(r);
        ts[q] += tsallis_power<W>(p, q_exp);
      }
  group_weighted_keys<NQ>(rows, V, stride, g.end < n ? g.end : n, A, g.i0, normalise ? nullptr : inv);
  float potential = 0.0f, tsallis = 0.0f;  // the group's, added to *sums once (no chain through memory)
  for (int q = 0; q < NQ; ++q) {
    const int i = g.i0 + q;
    if (P) store_probabilities(rows + q * stride, normalise ? 1.0f : inv[q], g.count[q], n, i, P);
    const float log_sum = std::log(sum[q]);
    lse[i] = m[q] + log_sum;
    argmax[i] = best[q];
    const float power_scale = W == TsallisSlope::kLinear ? inv[q] * inv[q] : inv[q] * std::sqrt(inv[q]);
    power_sum[i] = xsimd::hadd(ts[q]) * (normalise ? 1.0f : power_scale);
    potential += log_sum;
    tsallis += (1.0f - power_sum[i]) / (q_exp - 1.0f);
  }
  sums->potential += potential;
  sums->tsallis += tsallis;
}

// The backward of a group in one pass over its keys: dP, dS, and the dK and dV accumulation
// share each key register's loads. The row dot sum_j P_ij dP_ij that dS needs up front comes
// from the forward: dA_i . A_i plus the Tsallis factor times sum_j P_ij^q. The 1/sqrt(d) of
// the scores is folded into dA, the dot and the Tsallis factor, and the potential's one-hot
// term (-c_pot at each row's argmax) is added after the pass, at one key per row.
template <int NQ, TsallisSlope W, bool kSlope>
inline void backward_group(const QueryGroup<NQ>& g, const float* Q, const float* K, const float* V, int n,
                           std::size_t stride, const float* P, const float* lse, const std::int32_t* argmax,
                           const float* power_sum, const float* A, const float* dA, float c_pot, float c_ts,
                           float q_exp, float* rows, float* ds, float* dQ, float* dK, float* dV, float slope,
                           float* dslope) {
  constexpr float sc = inv_sqrt_dim<float>();
  const float ts_scalar = -c_ts * q_exp / (q_exp - 1.0f);
  const kbatch ts_factor(ts_scalar * sc);
  if (P) {
    for (int q = 0; q < NQ; ++q) load_probabilities(P, n, g.i0 + q, g.count[q], g.end, rows + q * stride);
  } else {
    group_scores<NQ>(g, Q, K, stride, slope, rows, nullptr, nullptr);
    for (int j = 0; j < g.end; j += kKeyLanes)
      for (int q = 0; q < NQ; ++q) {
        float* r = rows + q * stride + j;
        simd::exp_softmax(kbatch::load_unaligned(r) - kbatch(lse[g.i0 + q])).store_unaligned(r);
      }
  }
  // sum_j P_ij t_ij with t the Tsallis term of dP (tsallis_gradient_term): the forward's
  // sum_j P_ij^q, or for the general power a pass over the row here (that rare path only).
  float powers[NQ];
  if constexpr (W == TsallisSlope::kPower) {
    kbatch acc[NQ];
    for (auto& x : acc) x = kbatch(0.0f);
    for (int j = 0; j < g.end; j += kKeyLanes)
      for (int q = 0; q < NQ; ++q) {
        const kbatch p = kbatch::load_unaligned(rows + q * stride + j);
        acc[q] = xsimd::fma(p, tsallis_gradient_term<W>(p, q_exp), acc[q]);
      }
    for (int q = 0; q < NQ; ++q) powers[q] = xsimd::hadd(acc[q]);
  } else {
    for (int q = 0; q < NQ; ++q) powers[q] = power_sum[g.i0 + q];
  }
  float qi[NQ][kDim], da[NQ][kDim], da_sc[NQ][kDim], dot[NQ];
  for (int q = 0; q < NQ; ++q) {
    const int i = g.i0 + q;
    gather_token(Q, stride, i, qi[q]);
    gather_token(dA, stride, i, da[q]);
    float d = W == TsallisSlope::kNone ? 0.0f : ts_scalar * powers[q];
    for (int c = 0; c < kDim; ++c) {
      d += da[q][c] * A[c * stride + i];
      da_sc[q][c] = da[q][c] * sc;
    }
    dot[q] = (d - c_pot) * sc;  // dS_ij = P_ij (dP_ij - dot_i + c_pot), one-hot aside
  }
  kbatch dm[NQ];  // sum_j dS_ij (i - j distance), for the slope's gradient
  for (auto& x : dm) x = kbatch(0.0f);
  for (int j = 0; j < g.end; j += kKeyLanes) {
    kbatch dsj[NQ], pj[NQ];
    group_dots<NQ>(da_sc, V, stride, j, dsj);  // dP / sqrt(d), the Tsallis term aside
#pragma GCC unroll 8
    for (int q = 0; q < NQ; ++q) {
      pj[q] = kbatch::load_unaligned(rows + q * stride + j);
      if constexpr (W != TsallisSlope::kNone)
        dsj[q] = xsimd::fma(ts_factor, tsallis_gradient_term<W>(pj[q], q_exp), dsj[q]);
      dsj[q] = pj[q] * (dsj[q] - kbatch(dot[q]));
      if constexpr (kSlope) dm[q] = xsimd::fma(dsj[q], distances(g.i0 + q, j), dm[q]);
      dsj[q].store_unaligned(ds + q * stride + j);
    }
    // dK += dS^T Q and dV += P^T dA, one load and store of each gradient register per group.
    for (int c = 0; c < kDim; ++c) {
      kbatch dk = kbatch::load_unaligned(dK + c * stride + j), dv = kbatch::load_unaligned(dV + c * stride + j);
      for (int q = 0; q < NQ; ++q) {
        dk = xsimd::fma(kbatch(qi[q][c]), dsj[q], dk);
        dv = xsimd::fma(kbatch(da[q][c]), pj[q], dv);
      }
      dk.store_unaligned(dK + c * stride + j);
      dv.store_unaligned(dV + c * stride + j);
    }
  }
  const float onehot = c_pot * sc;  // the one-hot term, -c_pot / sqrt(d) at key argmax[i]
  for (int q = 0; q < NQ; ++q) {
    const int i = g.i0 + q, a = argmax[i];
    ds[q * stride + a] -= onehot;
    for (int c = 0; c < kDim; ++c) dK[c * stride + a] -= onehot * qi[q][c];
    if constexpr (kSlope) *dslope -= xsimd::hadd(dm[q]) / sc - c_pot * float(alibi_distance(i, a));
  }
  group_weighted_keys<NQ>(ds, K, stride, g.end < n ? g.end : n, dQ, g.i0);
}

template <TsallisSlope W, bool kSlope>
inline void backward_rows(const float* Q, const float* K, const float* V, int n, std::size_t stride, bool causal,
                          const float* P, const float* lse, const std::int32_t* argmax, const float* power_sum,
                          const float* A, const float* dA, float c_pot, float c_ts, float q_exp,
                          const AttentionScratch<float>& scratch, float* dQ, float* dK, float* dV, float slope,
                          float* dslope) {
  int i = 0;
  for (; i + kAttentionQueries <= n; i += kAttentionQueries)
    backward_group<kAttentionQueries, W, kSlope>(QueryGroup<kAttentionQueries>(i, n, causal), Q, K, V, n, stride,
                                                 P, lse, argmax, power_sum, A, dA, c_pot, c_ts, q_exp, scratch.row,
                                                 scratch.dp, dQ, dK, dV, slope, dslope);
  for (; i < n; ++i)
    backward_group<1, W, kSlope>(QueryGroup<1>(i, n, causal), Q, K, V, n, stride, P, lse, argmax, power_sum, A,
                                 dA, c_pot, c_ts, q_exp, scratch.row, scratch.dp, dQ, dK, dV, slope, dslope);
}

}  // namespace detail

namespace simd {

// Same contract as the scalar attention_forward (kernels/attention.hpp); stride is a multiple
// of kTokenAlign, and scratch.row holds kAttentionQueries rows of stride floats.
inline void attention_forward(const float* Q, const float* K, const float* V, int n, std::size_t stride, bool causal,
                              float q_exp, float* P, const AttentionScratch<float>& scratch, float* lse,
                              std::int32_t* argmax, float* power_sum, float* A, AttentionRowSums<float>* sums,
                              float slope = 0.0f) {
  using namespace detail;
  for (int c = 0; c < kDim; ++c)
    for (std::size_t i = std::size_t(n); i < stride; ++i) A[c * stride + i] = 0.0f;
  // The row power sums always run (the loss reports the Tsallis entropy): a kind by q alone.
  with_tsallis_slope(tsallis_slope_kind(1.0f, q_exp), [&](auto kind) {
    constexpr TsallisSlope W = decltype(kind)::value;
    if constexpr (W != TsallisSlope::kNone) {  // kNone is not a kind of q
      int i = 0;
      for (; i + kAttentionQueries <= n; i += kAttentionQueries)
        forward_group<kAttentionQueries, W>(QueryGroup<kAttentionQueries>(i, n, causal), Q, K, V, n, stride, q_exp,
                                            P, scratch.row, lse, argmax, power_sum, A, sums, slope);
      for (; i < n; ++i)
        forward_group<1, W>(QueryGroup<1>(i, n, causal), Q, K, V, n, stride, q_exp, P, scratch.row, lse, argmax,
                            power_sum, A, sums, slope);
    }
  });
}

// Same contract as the scalar attention_backward; scratch.row and scratch.dp hold
// kAttentionQueries rows of stride floats.
inline void attention_backward(const float* Q, const float* K, const float* V, int n, std::size_t stride,
                               bool causal, const float* P, const float* lse, const std::int32_t* argmax,
                               const float* power_sum, const float* A, const float* dA, float c_pot, float c_ts,
                               float q_exp,
                               const AttentionScratch<float>& scratch, float* dQ, float* dK, float* dV,
                               float slope = 0.0f, float* dslope = nullptr) {
  using namespace detail;
  for (std::size_t e = 0; e < kDim * stride; ++e) dQ[e] = dK[e] = dV[e] = 0.0f;
  auto run = [&](auto kind, auto with_slope) {
    backward_rows<decltype(kind)::value, decltype(with_slope)::value>(Q, K, V, n, stride, causal, P, lse, argmax,
                                                                      power_sum, A, dA, c_pot, c_ts, q_exp, scratch,
                                                                      dQ, dK, dV, slope, dslope);
  };
  with_tsallis_slope(tsallis_slope_kind(c_ts, q_exp), [&](auto kind) {
    if (dslope) run(kind, std::true_type{});
    else run(kind, std::false_type{});
  });
}

}  // namespace simd

}  // namespace tinyloop::kernels
#endif
