#pragma once
// The SIMD target of the float kernels. d = 8 floats is one AVX register or two SSE/NEON
// registers; wider units (AVX-512) are capped at 8 lanes since no row is longer than d.
#if TINYLOOP_SIMD
#include <cstddef>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "tinyloop/config.hpp"

namespace tinyloop::kernels::simd {

#if XSIMD_WITH_FMA3_AVX2
using arch = xsimd::fma3<xsimd::avx2>;
#elif XSIMD_WITH_AVX
using arch = xsimd::avx;
#elif XSIMD_WITH_NEON64
using arch = xsimd::neon64;
#elif XSIMD_WITH_NEON
using arch = xsimd::neon;
#elif XSIMD_WITH_SSE4_2
using arch = xsimd::sse4_2;
#elif XSIMD_WITH_SSE2
using arch = xsimd::sse2;
#else
#error "TINYLOOP_SIMD is on but xsimd found no supported instruction set; configure with -DTINYLOOP_SIMD=OFF"
#endif

using fbatch = xsimd::batch<float, arch>;
constexpr int kLanes = int(fbatch::size);
static_assert(kDim % kLanes == 0 && kHidden % kLanes == 0, "rows must fill whole registers");

inline const char* arch_name() { return arch::name(); }

// Where tokens or keys lie along the lanes and no register holds a d-wide row (the token-block
// kernels, the attention kernels), the widest registers the build targets: AVX-512 (16 lanes)
// where available, else the target above.
#if XSIMD_WITH_AVX512F
using wide_arch = xsimd::avx512f;
#else
using wide_arch = arch;
#endif
using wbatch = xsimd::batch<float, wide_arch>;
constexpr int kWideLanes = int(wbatch::size);
static_assert(kWideLanes <= 16, "token strides are padded to 16");

// The largest (kLargest) or the smallest lane of a wide register, reduced within registers where
// the target has the instructions: storing a register and reading its lanes back stalls on store
// forwarding (the training softmax spent a sixth of its forward pass there, on Zen 5).
template <bool kLargest>
inline float reduce_extreme(wbatch v) {
#if XSIMD_WITH_AVX512F
  return kLargest ? _mm512_reduce_max_ps(v) : _mm512_reduce_min_ps(v);
#elif XSIMD_WITH_AVX
  auto pick = [](__m256 a, __m256 b) { return kLargest ? _mm256_max_ps(a, b) : _mm256_min_ps(a, b); };
  __m256 m = pick(v, _mm256_permute2f128_ps(v, v, 1));
  m = pick(m, _mm256_shuffle_ps(m, m, _MM_SHUFFLE(1, 0, 3, 2)));
  m = pick(m, _mm256_shuffle_ps(m, m, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm256_cvtss_f32(m);
#elif XSIMD_WITH_NEON64
  return kLargest ? vmaxvq_f32(v) : vminvq_f32(v);
#else
  alignas(64) float t[kWideLanes];
  v.store_aligned(t);
  float m = t[0];
  for (int l = 1; l < kWideLanes; ++l) m = (kLargest ? t[l] > m : t[l] < m) ? t[l] : m;
  return m;
#endif
}
inline float reduce_max(wbatch v) { return reduce_extreme<true>(v); }
inline float reduce_min(wbatch v) { return reduce_extreme<false>(v); }

// One register whose lane k is the sum of the lanes of acc[k], k < kWideLanes. xsimd 8.1's haddp
// puts the AVX-512 sums in the wrong lanes (2-5 and 10-13 swap in pairs), so there each register
// is folded to 8 lanes first and AVX's haddp, which is right, sums each half.
inline wbatch lane_sums(const wbatch* acc) {
#if XSIMD_WITH_AVX512F
  using H = xsimd::batch<float, xsimd::avx>;
  auto upper = [](__m512 v) { return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)); };
  H half[2][8];
  for (int k = 0; k < 16; ++k) half[k / 8][k % 8] = H(_mm512_castps512_ps256(acc[k])) + H(upper(acc[k]));
  const __m256 lo = xsimd::haddp(half[0]), hi = xsimd::haddp(half[1]);
  return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
#else
  return xsimd::haddp(acc);
#endif
}

#if XSIMD_WITH_AVX512F
// r[k] lane l becomes r[l] lane k: a 16 x 16 tile transposed in registers (unpack within 128-bit
// lanes twice, then move 128-bit lanes across registers twice; 64 shuffles).
inline void transpose_tile(wbatch (&r)[16]) {
  auto as_pd = [](__m512 v) { return _mm512_castps_pd(v); };
  auto as_ps = [](__m512d v) { return _mm512_castpd_ps(v); };
  __m512 t[16];
  for (int k = 0; k < 16; k += 2) {
    t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
  }
  __m512 u[16];  // u[4g + c] lane-quarter q holds column 4q + c of rows 4g .. 4g + 3
  for (int g = 0; g < 4; ++g) {
    u[4 * g] = as_ps(_mm512_unpacklo_pd(as_pd(t[4 * g]), as_pd(t[4 * g + 2])));
    u[4 * g + 1] = as_ps(_mm512_unpackhi_pd(as_pd(t[4 * g]), as_pd(t[4 * g + 2])));
    u[4 * g + 2] = as_ps(_mm512_unpacklo_pd(as_pd(t[4 * g + 1]), as_pd(t[4 * g + 3])));
    u[4 * g + 3] = as_ps(_mm512_unpackhi_pd(as_pd(t[4 * g + 1]), as_pd(t[4 * g + 3])));
  }
  for (int c = 0; c < 4; ++c) {
    t[c] = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);        // columns c, 8 + c of rows 0-7
    t[4 + c] = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xdd);    // columns 4 + c, 12 + c of rows 0-7
    t[8 + c] = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    t[12 + c] = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xdd);
  }
  for (int c = 0; c < 8; ++c) {
    r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xdd);
  }
}
#elif XSIMD_WITH_AVX
// r[k] lane l becomes r[l] lane k for 8 registers of 8 lanes, through memory (xsimd 8.1's zips
// interleave within 128-bit lanes on AVX).
inline void transpose_tile(wbatch (&r)[8]) {
  alignas(32) float t[8][8], column[8];
  for (int k = 0; k < 8; ++k) r[k].store_aligned(t[k]);
  for (int l = 0; l < 8; ++l) {
    for (int k = 0; k < 8; ++k) column[k] = t[k][l];
    r[l] = wbatch::load_aligned(column);
  }
}
#else
// r[k] lane l becomes r[l] lane k for 4 registers of 4 lanes: two rounds of zips (on 128-bit
// registers xsimd's zip_lo and zip_hi interleave whole registers).
inline void transpose_tile(wbatch (&r)[4]) {
  static_assert(kWideLanes == 4, "128-bit registers");
  for (int round = 0; round < 2; ++round) {
    const wbatch t[4] = {xsimd::zip_lo(r[0], r[2]), xsimd::zip_hi(r[0], r[2]), xsimd::zip_lo(r[1], r[3]),
                         xsimd::zip_hi(r[1], r[3])};
    for (int k = 0; k < 4; ++k) r[k] = t[k];
  }
}
#endif

// Calls f(integral_constant<m>) for 1 <= m <= M: a count known at run time (the remainder of a
// loop blocked by M) as a compile-time one.
template <int M, class F>
void with_count(int m, F&& f) {
  if constexpr (M > 1) {
    if (m < M) return with_count<M - 1>(m, f);
  }
  f(std::integral_constant<int, M>{});
}

// 0, 1, 2, ... : the lane numbers of a register of up to 16 floats (masks, key distances).
alignas(64) inline constexpr float kLaneIndex[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

// N consecutive floats held in N / kLanes registers.
template <int N>
struct Vec {
  static constexpr int kRegs = N / kLanes;
  fbatch r[kRegs];

  static Vec load(const float* p) {
    Vec v;
    for (int k = 0; k < kRegs; ++k) v.r[k] = fbatch::load_unaligned(p + k * kLanes);
    return v;
  }
  static Vec zero() {
    Vec v;
    for (int k = 0; k < kRegs; ++k) v.r[k] = fbatch(0.0f);
    return v;
  }
  void store(float* p) const {
    for (int k = 0; k < kRegs; ++k) r[k].store_unaligned(p + k * kLanes);
  }
  // this += s * other
  void fma(float s, const Vec& other) {
    const fbatch b(s);
    for (int k = 0; k < kRegs; ++k) r[k] = xsimd::fma(b, other.r[k], r[k]);
  }
  void fma_from(float s, const float* p) {
    const fbatch b(s);
    for (int k = 0; k < kRegs; ++k) r[k] = xsimd::fma(b, fbatch::load_unaligned(p + k * kLanes), r[k]);
  }
};

// sum over j < count of s[j] * rows[j * N .. j * N + N). A single accumulator would make every
// multiply-add wait for the previous one (a latency-bound chain); rows narrower than four
// registers are spread over independent accumulators, summed at the end.
template <int N>
inline Vec<N> weighted_rows(const float* s, const float* rows, int count) {
  constexpr int kChains = Vec<N>::kRegs >= 4 ? 1 : 4 / Vec<N>::kRegs;
  Vec<N> acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = Vec<N>::zero();
  int j = 0;
  for (; j + kChains <= count; j += kChains)
    for (int c = 0; c < kChains; ++c) acc[c].fma_from(s[j + c], rows + std::ptrdiff_t(j + c) * N);
  for (; j < count; ++j) acc[0].fma_from(s[j], rows + std::ptrdiff_t(j) * N);
  for (int c = 1; c < kChains; ++c)
    for (int k = 0; k < Vec<N>::kRegs; ++k) acc[0].r[k] += acc[c].r[k];
  return acc[0];
}

// p += s * q over N floats in memory.
template <int N>
inline void axpy(float s, const float* q, float* p) {
  Vec<N> v = Vec<N>::load(p);
  v.fma_from(s, q);
  v.store(p);
}

}  // namespace tinyloop::kernels::simd
#endif
