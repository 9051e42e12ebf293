#pragma once
// Bounded exponentials for the attention kernels and GELU: 2^x for the streaming inference
// rows, e^x for the training softmax, e^(-x^2/2) for GELU (gelu_simd.hpp).
#if TINYLOOP_SIMD
#include <cstdint>
#include <type_traits>

#include "kernels/simd.hpp"

namespace tinyloop::kernels::simd {

constexpr float kExp2Floor = -64.0f;  // exp2_bounded's smallest exponent

// 2^r for r in [-1/2, 1/2]: a degree-5 minimax polynomial (relative error 1.1e-7).
template <class B>
inline B exp2_poly(B r) {
  B p = B(1.326472731e-03f);
  p = xsimd::fma(p, r, B(9.671512991e-03f));
  p = xsimd::fma(p, r, B(5.550733581e-02f));
  p = xsimd::fma(p, r, B(2.402224243e-01f));
  p = xsimd::fma(p, r, B(6.931470037e-01f));
  return xsimd::fma(p, r, B(1.0f));
}

// 2^x for x <= 13 or so; x below kExp2Floor gives 2^kExp2Floor (about 5e-20), never 0. The
// floor is far above the denormal range on purpose: a weight near 2^-125 times a value below 1
// is a denormal product, which costs x86 cores about a hundred cycles per instruction, and under
// a recency bias (ALiBi) most far keys sit there. A weight of 2^-64 against the row's largest
// (>= 1) changes an output by less than 1e-19 per key. Rounding by the 1.5 * 2^23 trick (round
// to nearest, the default mode) leaves k in the low bits of t, so k << 23 is t's bit pattern
// shifted; exp2_poly does the rest: 5 fused multiply-adds, 3 adds and 2 integer operations per
// register.
template <class B>  // any float batch: wbatch, or the d-row fbatch of inference
inline B exp2_bounded(B x) {
  x = xsimd::max(x, B(kExp2Floor));
#if XSIMD_WITH_AVX512F
  if constexpr (std::is_same<typename B::arch_type, xsimd::avx512f>::value) {
    // The same k, r and result in two instructions fewer: round to nearest (even) in one, and
    // p * 2^k by vscalefps, exact while the result is normal.
    const __m512 k = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm512_scalef_ps(exp2_poly(x - B(k)), k);
  }
#endif
  using ibatch = xsimd::batch<std::int32_t, typename B::arch_type>;
  const B magic(12582912.0f);  // 1.5 * 2^23
  const B t = x + magic;
  const B r = x - (t - magic);  // in [-1/2, 1/2]
  const B p = exp2_poly(r);
  // p * 2^k: add k to the exponent field (k in [kExp2Floor, 13], so the result stays normal).
  const ibatch bits = xsimd::bitwise_cast<ibatch>(p) + (xsimd::bitwise_cast<ibatch>(t) << 23);
  return xsimd::bitwise_cast<B>(bits);
}

// e^x for the training softmax (x <= 0 after the row maximum is subtracted): exp2_bounded of
// x log2(e), and exactly 0 below e^x = 2^-64, so masked and far keys weigh nothing and no
// product with a weight is denormal. Relative error <= 2e-7 for x in [-1, 0], growing to 3e-6
// at x = -44 (the argument's rounding, times |x|); tests/kernels/test_kernels.cpp measures it
// against std::exp.
inline wbatch exp_softmax(wbatch x) {
  const wbatch x2 = x * wbatch(1.44269504088896340736f);
  return xsimd::select(x2 < wbatch(kExp2Floor), wbatch(0.0f), exp2_bounded(x2));
}

}  // namespace tinyloop::kernels::simd
#endif
