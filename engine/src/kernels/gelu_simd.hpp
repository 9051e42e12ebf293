#pragma once
// GELU on one xsimd register of any width (float), for the per-token rows of inference
// (dense_simd.hpp) and the token blocks of training (lanes.hpp); the scalar reference is gelu.hpp.
#if TINYLOOP_SIMD
#include <xsimd/xsimd.hpp>

#include "kernels/exp_simd.hpp"

namespace tinyloop::kernels::simd {

// Phi(x) = (1 + erf(x / sqrt 2)) / 2 with erf from Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7):
// erf(z) = 1 - t (a1 + t (a2 + ... + t a5)) e^{-z^2}, t = 1 / (1 + p z), z >= 0. e^{-z^2} =
// e^{-x^2/2} is the Gaussian density the slope needs too, so one exponential serves both (xsimd's
// erf costs about two); it is exp2_bounded's (floored at 2^-64, so far out the tail is ~1e-20
// instead of 0). The tail is formed directly, (t poly) e^{-z^2} / 2, not as 1 - Phi.
// value = x Phi(x); slope (when not null) = Phi(x) + x phi(x).
template <class B>
inline void gelu(B v, B* value, B* slope) {
  const B half(0.5f), one(1.0f);
  const B t = one / xsimd::fma(B(0.3275911f), xsimd::abs(v) * B(0.70710678118654752440f), one);
  B poly = xsimd::fma(B(1.061405429f), t, B(-1.453152027f));
  poly = xsimd::fma(poly, t, B(1.421413741f));
  poly = xsimd::fma(poly, t, B(-0.284496736f));
  poly = xsimd::fma(poly, t, B(0.254829592f));
  const B e = exp2_bounded(v * v * B(-0.5f * 1.44269504088896340736f));  // e^(-x^2/2)
  const B tail = half * (poly * t) * e;  // Phi(-|x|)
  const B cdf = xsimd::select(v < B(0.0f), tail, one - tail);
  *value = v * cdf;
  if (slope) *slope = xsimd::fma(v * B(0.39894228040143267794f), e, cdf);
}

}  // namespace tinyloop::kernels::simd
#endif
