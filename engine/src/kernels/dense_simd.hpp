#pragma once
// xsimd versions (float) of the per-token dense layer and the GELU row, in kernels::simd; the
// callers pick them by name (kernels/block_kernels.hpp), and the tests compare them with the
// scalar references of dense.hpp and gelu.hpp.
#if TINYLOOP_SIMD
#include "kernels/dense.hpp"
#include "kernels/gelu.hpp"
#include "kernels/simd.hpp"

namespace tinyloop::kernels::simd {

template <int IN, int OUT>
inline void dense_forward(const float* x, const float* W, const float* b, float* y) {
  auto acc = simd::weighted_rows<OUT>(x, W, IN);
  if (b) {
    const auto bias = simd::Vec<OUT>::load(b);
    for (int k = 0; k < simd::Vec<OUT>::kRegs; ++k) acc.r[k] += bias.r[k];
  }
  acc.store(y);
}

template <int IN, int OUT>
inline void dense_backward(const float* x, const float* WT, const float* dy, float* dW, float* db, float* dx) {
  const auto g = simd::Vec<OUT>::load(dy);
  if (db) {
    auto bias = simd::Vec<OUT>::load(db);
    for (int k = 0; k < simd::Vec<OUT>::kRegs; ++k) bias.r[k] += g.r[k];
    bias.store(db);
  }
  for (int i = 0; i < IN; ++i) {
    auto w = simd::Vec<OUT>::load(dW + i * OUT);
    w.fma(x[i], g);
    w.store(dW + i * OUT);
  }
  if (dx) {
    auto acc = simd::weighted_rows<IN>(dy, WT, OUT);
    const auto prior = simd::Vec<IN>::load(dx);
    for (int k = 0; k < simd::Vec<IN>::kRegs; ++k) acc.r[k] += prior.r[k];
    acc.store(dx);
  }
}

// Phi(x) = (1 + erf(x / sqrt 2)) / 2 with erf from Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7):
// erf(z) = 1 - t (a1 + t (a2 + ... + t a5)) e^{-z^2}, t = 1 / (1 + p z), z >= 0. e^{-z^2} =
// e^{-x^2/2} is the Gaussian density the slope needs too, so one exponential serves both (xsimd's
// erf costs about two). The tail is formed directly, (t poly) e^{-z^2} / 2, not as 1 - Phi.
template <int N>
inline void gelu_row(const float* x, float* value, float* slope) {
  using simd::fbatch;
  const fbatch half(0.5f), one(1.0f), rsqrt2(0.70710678118654752440f), rsqrt2pi(0.39894228040143267794f);
  const fbatch p(0.3275911f), a1(0.254829592f), a2(-0.284496736f), a3(1.421413741f), a4(-1.453152027f),
      a5(1.061405429f);
  for (int c = 0; c < N; c += simd::kLanes) {
    const fbatch v = fbatch::load_unaligned(x + c);
    const fbatch t = one / xsimd::fma(p, xsimd::abs(v) * rsqrt2, one);
    fbatch poly = xsimd::fma(a5, t, a4);
    poly = xsimd::fma(poly, t, a3);
    poly = xsimd::fma(poly, t, a2);
    poly = xsimd::fma(poly, t, a1);
    const fbatch e = xsimd::exp(-half * v * v);
    const fbatch tail = half * (poly * t) * e;  // Phi(-|x|)
    const fbatch cdf = xsimd::select(v < fbatch(0.0f), tail, one - tail);
    (v * cdf).store_unaligned(value + c);
    if (slope) xsimd::fma(v * rsqrt2pi, e, cdf).store_unaligned(slope + c);
  }
}

}  // namespace tinyloop::kernels::simd
#endif
