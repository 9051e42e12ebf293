#pragma once
// Streaming (online-softmax) attention row for inference, xsimd float version of the scalar
// attention_row_online (kernels/attention.hpp). Flash-attention style: keys and values are
// held transposed (d x stride, stride = capacity rounded up to whole registers, padding
// columns zero), a query meets kLanes keys per fused multiply-add, and keys are consumed in
// blocks of kBlockRegs registers with one running max and one running sum per query.
//
// Scores are kept in log2 units (the query is pre-scaled by log2(e) / sqrt(d)), so each
// weight is 2^(s - m), computed by a short polynomial with no overflow checks. The running max
// m is allowed to go stale: a block rescales the accumulators only when one of its scores
// exceeds m by more than kStaleMax (a vertical compare and one branch per block, rarely taken
// after the first blocks). Every weight is then <= 2^kStaleMax, so nothing overflows, and m
// always is a score that was actually seen, so the running sum stays >= 1. Lanes keep partial
// sums per channel (acc[c] lane l = sum over keys j = l mod kLanes of w_j v_j[c]); one
// horizontal reduction per query closes the row. State per query: d + 3 registers, O(d),
// whatever the length.
#if TINYLOOP_SIMD
#include <cstdint>
#include <type_traits>

#include "kernels/attention.hpp"
#include "kernels/exp_simd.hpp"
#include "kernels/simd.hpp"

namespace tinyloop::kernels {

namespace online {

// Keys lie along the lanes here, so this kernel takes the widest registers (simd::wide_arch).
// Key/value strides must be multiples of kLanes (padded()).
using arch = simd::wide_arch;
using fbatch = xsimd::batch<float, arch>;
constexpr int kLanes = int(fbatch::size);

// Unrolled, a block's scores and weights (NQ x kBlockRegs registers) stay in registers through
// the block where the file holds 32 (AVX-512, AArch64): 14% more attention throughput on Zen 5.
// With 16 registers they spill either way, and the loops stay rolled.
#if XSIMD_WITH_AVX512F || XSIMD_WITH_NEON64
#define TINYLOOP_ONLINE_UNROLL(n) _Pragma(TINYLOOP_STRINGIFY(GCC unroll n))
#else
#define TINYLOOP_ONLINE_UNROLL(n)
#endif
#define TINYLOOP_STRINGIFY(x) #x

constexpr int kBlockRegs = 4;  // registers of keys per block (64 keys on AVX-512, 32 on AVX; 4 beat 2, 3, 6 and 8 there)
constexpr float kStaleMax = 12.0f;   // max lag (log2 units) of the running max before a rescale
constexpr float kNoScore = -3.0e38f; // score of a masked lane; below every real score
constexpr float kExpFloor = simd::kExp2Floor;  // exp2_bounded's smallest exponent

inline int padded(int count) { return (count + kLanes - 1) / kLanes * kLanes; }

using simd::exp2_bounded;  // kernels/exp_simd.hpp: 2^x floored at 2^kExpFloor, never 0

struct RowState {
  fbatch acc[kDim];  // per-channel partial sums, one lane per key residue
  fbatch sum;        // partial running sums
  fbatch max;        // running max, broadcast
  fbatch limit;      // max + kStaleMax, broadcast
  float max_scalar;

  void reset() {
    for (int c = 0; c < kDim; ++c) acc[c] = fbatch(0.0f);
    sum = fbatch(0.0f);
    max_scalar = kNoScore;  // the first block always rescales (0 * tiny = 0)
    max = fbatch(kNoScore);
    limit = fbatch(kNoScore);
  }
  void finish(float* out) const {
    const float inv = 1.0f / xsimd::hadd(sum);
    if constexpr (kLanes <= kDim) {
      for (int c0 = 0; c0 < kDim; c0 += kLanes) (xsimd::haddp(acc + c0) * fbatch(inv)).store_unaligned(out + c0);
    } else {
      for (int c = 0; c < kDim; ++c) out[c] = xsimd::hadd(acc[c]) * inv;
    }
  }
};

// GCC folds a load into every instruction that uses it, and keeps loop-invariant broadcasts
// in registers even when that spills them, reloading at every use. With several queries in
// flight that would turn one load per key register into one per query; these pin a value
// in a register at the point of use (x86 GCC/Clang; elsewhere they are plain loads).
template <int NQ>
inline fbatch pinned(fbatch x) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  if (NQ > 1) asm volatile("" : "+v"(x.data));
#endif
  return x;
}
template <int NQ>
inline fbatch load_shared(const float* p) {
  return pinned<NQ>(fbatch::load_unaligned(p));
}

// The ALiBi recency bias of a row: scores lose slope * |i - j| (in log2 units here).
struct RowBias {
  float slope;  // 0: no bias
  const int* row;  // query positions i, one per row
};

// How a block adds the bias. Where no row sees a key after itself (causal rows), -slope (i - j)
// is slope (j - row[0]) plus a constant of the row, which the softmax ignores: one register of
// bias per key register then serves every query of the block, added by the scores' first
// multiply-add. Otherwise each query takes its own distances |i - j|.
enum class BiasForm { kNone, kLinear, kDistance };

// NQ queries (scaled scores weights qv) against R registers of keys starting at key j. When
// `masked`, lanes at or beyond key count[q] are excluded for query q (score kNoScore, weight
// exactly 0). Channel-outer order: each query weight is loaded once per block and each key
// register once for all queries.
template <int NQ, int R, bool masked, BiasForm F>
inline void block(const float (*qv)[kDim], const float* kt, const float* vt, int stride, int j, const int* count,
                  const RowBias& bias, RowState* st) {
  fbatch s[NQ][R], linear[R];
  if constexpr (F == BiasForm::kLinear) {
    const fbatch lane = fbatch::load_aligned(simd::kLaneIndex), slope(bias.slope);
    for (int r = 0; r < R; ++r) linear[r] = slope * (lane + fbatch(float(j + r * kLanes - bias.row[0])));  // exact
  }
  TINYLOOP_ONLINE_UNROLL(8)
  for (int c = 0; c < kDim; ++c) {
    fbatch qc[NQ];
    for (int q = 0; q < NQ; ++q) qc[q] = fbatch(qv[q][c]);  // not pinned: broadcast from memory
    for (int r = 0; r < R; ++r) {
      const fbatch x = load_shared<NQ>(kt + c * stride + j + r * kLanes);
      for (int q = 0; q < NQ; ++q) {
        if (c > 0) s[q][r] = xsimd::fma(qc[q], x, s[q][r]);
        else if constexpr (F == BiasForm::kLinear) s[q][r] = xsimd::fma(qc[q], x, linear[r]);
        else s[q][r] = qc[q] * x;
      }
    }
  }
  if constexpr (F == BiasForm::kDistance) {
    const fbatch lane = fbatch::load_aligned(simd::kLaneIndex), slope(bias.slope);
    for (int q = 0; q < NQ; ++q)
      for (int r = 0; r < R; ++r) {
        const fbatch dist = xsimd::abs(fbatch(float(bias.row[q] - (j + r * kLanes))) - lane);  // exact integers
        s[q][r] = xsimd::fnma(slope, dist, s[q][r]);
      }
  }
  typename fbatch::batch_bool_type live[NQ][R];
  if (masked) {
    const fbatch lane = fbatch::load_aligned(simd::kLaneIndex);
    for (int q = 0; q < NQ; ++q)
      for (int r = 0; r < R; ++r) {
        live[q][r] = lane < fbatch(float(count[q] - (j + r * kLanes)));  // <= 0: every lane masked
        s[q][r] = xsimd::select(live[q][r], s[q][r], fbatch(kNoScore));
      }
  }
  fbatch e[NQ][R];
  TINYLOOP_ONLINE_UNROLL(4)
  for (int q = 0; q < NQ; ++q) {
    RowState& t = st[q];
    fbatch top = s[q][0];
    for (int r = 1; r < R; ++r) top = xsimd::max(top, s[q][r]);
    if (xsimd::any(top > t.limit)) {
      const float fresh = simd::reduce_max(top);  // > old max: some lane beat max + kStaleMax
      const fbatch scale = exp2_bounded(fbatch(t.max_scalar - fresh));
      t.sum *= scale;
      for (int c = 0; c < kDim; ++c) t.acc[c] *= scale;
      t.max_scalar = fresh;
      t.max = fbatch(fresh);
      t.limit = fbatch(fresh + kStaleMax);
    }
    for (int r = 0; r < R; ++r) {
      e[q][r] = exp2_bounded(s[q][r] - t.max);
      if (masked) e[q][r] = xsimd::select(live[q][r], e[q][r], fbatch(0.0f));
      t.sum += e[q][r];
    }
  }
  // Channel-outer again: with several queries the accumulators do not all fit in registers,
  // so each is loaded and stored once per block rather than once per key register.
  for (int c = 0; c < kDim; ++c) {
    fbatch a[NQ];
    for (int q = 0; q < NQ; ++q) a[q] = st[q].acc[c];
    for (int r = 0; r < R; ++r) {
      const fbatch x = load_shared<NQ>(vt + c * stride + j + r * kLanes);
      for (int q = 0; q < NQ; ++q) a[q] = xsimd::fma(e[q][r], x, a[q]);
    }
    for (int q = 0; q < NQ; ++q) st[q].acc[c] = a[q];
  }
}

// NQ rows sharing the keys: count[0] <= count[1] <= ... (each >= 1); row[q] is query q's
// position, which the ALiBi bias (slope != 0) measures distances from.
template <int NQ>
inline void rows(const float* const* q, const float* kt, const float* vt, int stride, const int* count,
                 float* const* out, const int* row, float slope) {
  // Scores in log2 units: q . k / sqrt(d) * log2(e), so every weight is a power of two.
  constexpr float kLog2e = 1.44269504088896341f;
  const float scale = inv_sqrt_dim<float>() * kLog2e;
  const RowBias bias{slope * kLog2e, row};
  float qv[NQ][kDim];
  RowState st[NQ];
  for (int i = 0; i < NQ; ++i) {
    for (int c = 0; c < kDim; ++c) qv[i][c] = q[i][c] * scale;
    st[i].reset();
  }
  constexpr int kBlock = kBlockRegs * kLanes;
  const int whole = count[0] / kLanes;                     // registers with no masked lane for any row
  const int regs = (count[NQ - 1] + kLanes - 1) / kLanes;  // registers any row needs
  const int blocks = whole / kBlockRegs;
  // Registers [first, regs) in masked blocks of up to kBlockRegs: the whole registers past the
  // last full block go with the partly masked ones, so the tail costs one block (one maximum
  // check per query) rather than one per register. Several blocks only where the rows' counts
  // spread over more than a block.
  const int first = blocks * kBlockRegs;
  auto tail = [&](auto form, bool descending) {
    constexpr BiasForm F = decltype(form)::value;
    const int chunks = (regs - first + kBlockRegs - 1) / kBlockRegs;
    for (int k = 0; k < chunks; ++k) {
      const int r = first + (descending ? chunks - 1 - k : k) * kBlockRegs;
      simd::with_count<kBlockRegs>(regs - r < kBlockRegs ? regs - r : kBlockRegs, [&](auto size) {
        block<NQ, size(), true, F>(qv, kt, vt, stride, r * kLanes, count, bias, st);
      });
    }
  };
  // Nearest keys first under a recency bias: they hold the row's highest scores, so the
  // running max is set by the first block and the far keys (ever lower) never rescale it.
  auto nearest_first = [&](auto form) {
    constexpr BiasForm F = decltype(form)::value;
    tail(form, true);
    for (int b = blocks - 1; b >= 0; --b)
      block<NQ, kBlockRegs, false, F>(qv, kt, vt, stride, b * kBlock, count, bias, st);
  };
  // The linear form where no row sees a key after itself and the rows lie within a register of
  // each other: a row's scores carry slope (row[0] - i), so rows far apart would lose the bias's
  // low bits to that offset.
  auto linear_rows = [&] {
    if (row[NQ - 1] - row[0] >= kLanes) return false;
    for (int i = 0; i < NQ; ++i)
      if (count[i] > row[i] + 1) return false;
    return true;
  };
  if (slope == 0.0f) {
    constexpr BiasForm F = BiasForm::kNone;
    for (int b = 0; b < blocks; ++b) block<NQ, kBlockRegs, false, F>(qv, kt, vt, stride, b * kBlock, count, bias, st);
    tail(std::integral_constant<BiasForm, F>{}, false);
  } else if (linear_rows()) {
    nearest_first(std::integral_constant<BiasForm, BiasForm::kLinear>{});
  } else {
    nearest_first(std::integral_constant<BiasForm, BiasForm::kDistance>{});
  }
  for (int i = 0; i < NQ; ++i) st[i].finish(out[i]);
}

}  // namespace online

// out = softmax(q K^T / sqrt d - slope |i - j|) V over keys 0..count-1 (count >= 1), i the
// query's position (used only when slope != 0). kt and vt are d x stride with stride >=
// padded(count); columns of kt/vt at or beyond the sequence length must hold finite values
// (the inference zeroes them). No alignment is required.
inline void attention_row_online_simd(const float* q, const float* kt, const float* vt, int stride, int count,
                                      float* out, int i = 0, float slope = 0.0f) {
  online::rows<1>(&q, kt, vt, stride, &count, &out, &i, slope);
}

// NQ rows at once (count[0] <= count[1] <= ...; positions row[q]), sharing every key and value
// load; the same results as NQ single rows. Inference runs kInferenceQueries of them.
template <int NQ>
inline void attention_rows_online_simd(const float* const* q, const float* kt, const float* vt, int stride,
                                       const int* count, float* const* out, const int* row, float slope = 0.0f) {
  online::rows<NQ>(q, kt, vt, stride, count, out, row, slope);
}
constexpr int kInferenceQueries = 4;

}  // namespace tinyloop::kernels
#undef TINYLOOP_ONLINE_UNROLL
#undef TINYLOOP_STRINGIFY
#endif
