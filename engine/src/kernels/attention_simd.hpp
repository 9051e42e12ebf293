#pragma once
// xsimd version of the training attention (float), on the widest registers (simd::wbatch).
// Queries, keys and values arrive feature-major (d x stride).
// - The forward puts kKeyLanes consecutive queries along the lanes (forward_lanes): each key is
//   a broadcast, every row operation is vertical, and A, lse, argmax and the power sums leave as
//   whole registers; P's rows are written by transposing the group's key-major weights.
// - The backward puts keys along the lanes, for groups of kAttentionQueries consecutive queries,
//   so that every key and value load (dP, dS, dK, dV) serves the whole group and the key and
//   value gradients accumulate with no horizontal sums in the inner loops. dQ = dS K goes back to
//   the queries along the lanes (lane_weighted_keys), from transposed tiles of the groups' dS.
// The softmax uses exp_softmax (exp_simd.hpp). Lanes beyond a row's keys are forced to
// probability 0; the last group may be shorter.
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

// row[0 .. end) = row i of P (row stride n) up to count, 0 beyond.
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
// where j >= count[q] (the backward's recomputed scores).
template <int NQ>
inline void group_scores(const QueryGroup<NQ>& g, const float* Q, const float* K, std::size_t stride, float slope,
                         float* rows) {
  float qs[NQ][kDim];
  for (int q = 0; q < NQ; ++q)
    for (int c = 0; c < kDim; ++c) qs[q][c] = Q[c * stride + g.i0 + q] * inv_sqrt_dim<float>();
  for (int j = 0; j < g.end; j += kKeyLanes) {
    kbatch s[NQ];
    group_dots<NQ>(qs, K, stride, j, s);
    for (int q = 0; q < NQ; ++q) {
      if (slope != 0.0f) s[q] = xsimd::fnma(kbatch(slope), distances(g.i0 + q, j), s[q]);
      if (j + kKeyLanes > g.count[q])  // lanes at or beyond count are masked
        s[q] = xsimd::select(kbatch::load_aligned(kLaneIndex) < kbatch(float(g.count[q] - j)), s[q],
                             kbatch(kMaskedScore));
      s[q].store_unaligned(rows + q * stride + j);
    }
  }
}

// out (feature-major, token i0 + q) = sum over keys j < keys of w[q][j] X[c][j] (X feature-major),
// keys along the lanes: one accumulator per (query, feature), a register's worth of them at a
// time (two queries' 8 features on 16 lanes), summed together at the end (lane_sums). w[q][j] is
// 0 beyond the query's count; the lanes at and past `keys` hold no token, so both factors are
// masked there (0 x garbage could be NaN).
template <int NQ>
inline void group_weighted_keys(const float* w, const float* X, std::size_t stride, int keys, float* out, int i0) {
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
      for (int q = 0; q < kQueries && q0 + q < NQ; ++q)
        for (int c = 0; c < kFeatures; ++c) out[(c0 + c) * stride + i0 + q0 + q] = sum[q * kFeatures + c];
    }
}

// Rows i0 .. i0 + live - 1 of P (row stride n), entries 0 .. keys - 1, from the key-major
// weights of forward_lanes (buf[j * kKeyLanes + l] for row i0 + l) times scale[l]: whole square
// tiles are transposed in registers (simd::transpose_tile), the rest goes entry by entry.
inline void store_lane_rows(const float* buf, int keys, const float* scale, int i0, int live, int n, float* P) {
  constexpr int L = kKeyLanes;
  int j0 = 0;
  for (; j0 + L <= keys; j0 += L) {
    kbatch tile[L];
    for (int k = 0; k < L; ++k) tile[k] = kbatch::load_unaligned(buf + (j0 + k) * L);
    simd::transpose_tile(tile);
    for (int l = 0; l < live; ++l) (tile[l] * kbatch(scale[l])).store_unaligned(P + std::size_t(i0 + l) * n + j0);
  }
  for (int l = 0; l < live; ++l) {
    float* row = P + std::size_t(i0 + l) * n;
    for (int j = j0; j < keys; ++j) row[j] = buf[j * L + l] * scale[l];
  }
}

// The forward of the kKeyLanes queries i0, i0 + 1, ... with the queries along the lanes: each
// key's features are broadcasts, so every row operation (the maximum and its first key, the
// exponential, the sums, A's d sums, the logarithm) is vertical, and the outputs are whole
// registers of consecutive queries. Lanes past n compute on the finite padding and are not
// stored (A's get zeros). buf holds the group's scores, then weights, key-major (kKeyLanes floats
// per key).
template <TsallisSlope W>
inline void forward_lanes(int i0, const float* Q, const float* K, const float* V, int n, std::size_t stride,
                          bool causal, float q_exp, float* P, float* buf, float* lse, std::int32_t* argmax,
                          float* power_sum, float* A, AttentionRowSums<float>* sums, float slope) {
  constexpr int L = kKeyLanes;
  const kbatch lane = kbatch::load_aligned(kLaneIndex), row = lane + kbatch(float(i0));  // the lanes' i
  const int live = n - i0 < L ? n - i0 : L;
  const int keys = causal ? (i0 + L < n ? i0 + L : n) : n;
  kbatch q[kDim];
  for (int c = 0; c < kDim; ++c) q[c] = kbatch::load_unaligned(Q + c * stride + i0) * kbatch(inv_sqrt_dim<float>());
  // Scores, their maximum and its first key (a later key must beat it: the scalar scan's ties).
  kbatch top(0.0f), at(0.0f);
  for (int j = 0; j < keys; ++j) {
    kbatch s = q[0] * kbatch(K[j]);
    for (int c = 1; c < kDim; ++c) s = xsimd::fma(q[c], kbatch(K[c * stride + j]), s);
    if (slope != 0.0f) s = xsimd::fnma(kbatch(slope), xsimd::abs(row - kbatch(float(j))), s);
    if (causal && j > i0) s = xsimd::select(row >= kbatch(float(j)), s, kbatch(kMaskedScore));
    s.store_unaligned(buf + j * L);
    if (j == 0) {
      top = s;
    } else {
      const auto up = s > top;
      at = xsimd::select(up, kbatch(float(j)), at);
      top = xsimd::select(up, s, top);
    }
  }
  // Weights e^(s - max), their sums, and A unnormalised; 1/sum scales A, P and the power sums.
  kbatch total(0.0f), ts(0.0f), a[kDim];
  for (auto& x : a) x = kbatch(0.0f);
  for (int j = 0; j < keys; ++j) {
    const kbatch e = simd::exp_softmax(kbatch::load_unaligned(buf + j * L) - top);
    e.store_unaligned(buf + j * L);
    total += e;
    if constexpr (W != TsallisSlope::kPower) ts += tsallis_power<W>(e, q_exp);
    for (int c = 0; c < kDim; ++c) a[c] = xsimd::fma(e, kbatch(V[c * stride + j]), a[c]);
  }
  const kbatch inv = kbatch(1.0f) / total;
  if constexpr (W == TsallisSlope::kPower)  // near q = 1 its entropy is a cancellation: exact p
    for (int j = 0; j < keys; ++j) ts += tsallis_power<W>(kbatch::load_unaligned(buf + j * L) * inv, q_exp);
  const auto stored = lane < kbatch(float(live));
  for (int c = 0; c < kDim; ++c) xsimd::select(stored, a[c] * inv, kbatch(0.0f)).store_unaligned(A + c * stride + i0);
  alignas(64) float log_sum[L], max_l[L], at_l[L], power_l[L], inv_l[L];
  xsimd::log(total).store_aligned(log_sum);
  top.store_aligned(max_l);
  at.store_aligned(at_l);
  inv.store_aligned(inv_l);
  const kbatch power_scale = W == TsallisSlope::kPower    ? kbatch(1.0f)
                             : W == TsallisSlope::kLinear ? inv * inv
                                                          : inv * xsimd::sqrt(inv);
  (ts * power_scale).store_aligned(power_l);
  float potential = 0.0f, tsallis = 0.0f;  // the group's, added to *sums once
  for (int l = 0; l < live; ++l) {
    const int i = i0 + l;
    lse[i] = max_l[l] + log_sum[l];
    argmax[i] = std::int32_t(at_l[l]);
    power_sum[i] = power_l[l];
    potential += log_sum[l];
    tsallis += (1.0f - power_l[l]) / (q_exp - 1.0f);
  }
  sums->potential += potential;
  sums->tsallis += tsallis;
  if (P) store_lane_rows(buf, keys, inv_l, i0, live, n, P);
}

// The backward of a group in one pass over its keys: dP, dS, and the dK and dV accumulation
// share each key register's loads. The row dot sum_j P_ij dP_ij that dS needs up front is
// dA_i . A_i (the forward's A) plus the Tsallis factor times sum_j P_ij t_ij (the forward's
// power sums, or for the general power a pass here; tsallis_gradient_term). The 1/sqrt(d) of
// the scores is folded into dA, the dot and the Tsallis factor, and the potential's one-hot
// term (-c_pot at each row's argmax) is added after the pass, at one key per row.
template <int NQ, TsallisSlope W, bool kSlope, bool kOwnDq = true>
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
    group_scores<NQ>(g, Q, K, stride, slope, rows);
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
  if constexpr (kOwnDq) group_weighted_keys<NQ>(ds, K, stride, g.end < n ? g.end : n, dQ, g.i0);
}

// dQ of the kKeyLanes queries i0 .. i0 + kKeyLanes - 1 from their rows of dS (ds, stride floats
// apart, 0 past each row's count up to `keys`): out (feature-major) = sum over keys j < keys of
// ds[q][j] X[c][j], with the queries along the lanes. 16 x 16 (or 8 x 8, 4 x 4) tiles of dS are
// transposed in registers (simd::transpose_tile) and each key's features are broadcasts, so no
// sum runs across lanes and the outputs leave as whole registers (group_weighted_keys, with the
// keys along the lanes, reduces every (query, feature) sum across them and scatters it).
inline void lane_weighted_keys(const float* ds, const float* X, std::size_t stride, int keys, float* out, int i0) {
  constexpr int L = kKeyLanes;
  kbatch acc[kDim];
  for (auto& a : acc) a = kbatch(0.0f);
  for (int j0 = 0; j0 < keys; j0 += L) {
    kbatch tile[L];
    for (int q = 0; q < L; ++q) tile[q] = kbatch::load_unaligned(ds + q * stride + j0);
    simd::transpose_tile(tile);  // tile[k]: key j0 + k, the queries along the lanes
    const int count = keys - j0 < L ? keys - j0 : L;
    for (int k = 0; k < count; ++k)
      for (int c = 0; c < kDim; ++c) acc[c] = xsimd::fma(tile[k], kbatch(X[c * stride + j0 + k]), acc[c]);
  }
  for (int c = 0; c < kDim; ++c) acc[c].store_unaligned(out + c * stride + i0);
}

template <TsallisSlope W, bool kSlope>
inline void backward_rows(const float* Q, const float* K, const float* V, int n, std::size_t stride, bool causal,
                          const float* P, const float* lse, const std::int32_t* argmax, const float* power_sum,
                          const float* A, const float* dA, float c_pot, float c_ts, float q_exp,
                          const AttentionScratch<float>& scratch, float* dQ, float* dK, float* dV, float slope,
                          float* dslope) {
  // Blocks of kDqBlock queries: each group of the block leaves its rows of dS in scratch.dp, then
  // dQ runs over the block with the queries along the lanes. Every group of a block covers the
  // same keys: a block starts at a multiple of kKeyLanes, so its groups' key counts pad to the
  // same register (causal), or all are n.
  constexpr int G = kAttentionQueries, kDqBlock = G > kKeyLanes ? G : kKeyLanes;
  static_assert(kDqBlock % G == 0 && kDqBlock % kKeyLanes == 0 && kDqBlock <= kAttentionGradRows, "whole groups and tiles");
  int i = 0;
  for (; i + kDqBlock <= n; i += kDqBlock) {
    for (int g = 0; g < kDqBlock; g += G)
      backward_group<G, W, kSlope, false>(QueryGroup<G>(i + g, n, causal), Q, K, V, n, stride, P, lse, argmax,
                                          power_sum, A, dA, c_pot, c_ts, q_exp, scratch.row, scratch.dp + g * stride,
                                          dQ, dK, dV, slope, dslope);
    const int end = padded(causal ? i + kDqBlock : n), keys = end < n ? end : n;
    for (int t = 0; t < kDqBlock; t += kKeyLanes) lane_weighted_keys(scratch.dp + t * stride, K, stride, keys, dQ, i + t);
  }
  for (; i + G <= n; i += G)
    backward_group<G, W, kSlope>(QueryGroup<G>(i, n, causal), Q, K, V, n, stride, P, lse, argmax, power_sum, A, dA,
                                 c_pot, c_ts, q_exp, scratch.row, scratch.dp, dQ, dK, dV, slope, dslope);
  for (; i < n; ++i)
    backward_group<1, W, kSlope>(QueryGroup<1>(i, n, causal), Q, K, V, n, stride, P, lse, argmax, power_sum, A,
                                 dA, c_pot, c_ts, q_exp, scratch.row, scratch.dp, dQ, dK, dV, slope, dslope);
}

}  // namespace detail

namespace simd {

// Same contract as the scalar attention_forward (kernels/attention.hpp); stride is a multiple
// of kTokenAlign, and scratch.row holds kAttentionRowBuffer rows of stride floats.
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
      for (int i = 0; i < n; i += kKeyLanes)
        forward_lanes<W>(i, Q, K, V, n, stride, causal, q_exp, P, scratch.row, lse, argmax, power_sum, A, sums,
                         slope);
    }
  });
}

// Same contract as the scalar attention_backward; scratch.row holds kAttentionQueries rows of
// stride floats and scratch.dp kAttentionGradRows.
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
