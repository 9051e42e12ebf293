#pragma once
// Token lanes: the token-block kernels (token_block.hpp) hold one feature of `width` tokens in
// a "pack" and are written once against these operations. TokenLanes<float> in a SIMD build
// packs 16, 8 or 4 tokens into one xsimd register (simd::wbatch); every other case (double,
// scalar builds) packs one token into a plain T, which is the scalar reference the SIMD tests
// compare with.
#include <cmath>

#include "kernels/gelu.hpp"
#include "kernels/gelu_simd.hpp"
#include "kernels/simd.hpp"

namespace tinyloop::kernels {

// Token arrays are feature-major (d x stride); the stride is the length rounded up to this
// many tokens, so a pack never reads past a row whatever the lane count.
constexpr int kTokenAlign = 16;
inline int token_stride(int n) { return (n + kTokenAlign - 1) / kTokenAlign * kTokenAlign; }

template <class T>
struct ScalarLanes {
  using P = T;
  static constexpr int width = 1;
  static P load(const T* p) { return *p; }
  static void store(T* p, P v) { *p = v; }
  static P set(T v) { return v; }
  static P fma(P a, P b, P c) { return a * b + c; }
  static P rsqrt(P v) { return T(1) / std::sqrt(v); }
  static T sum(P v) { return v; }
  static P first_lanes(P x, int count) { return count > 0 ? x : T(0); }  // x in the first count lanes, 0 after
  static void gelu(P x, P* value, P* slope) { gelu_forward(x, value, slope); }
};

#if TINYLOOP_SIMD
struct WideLanes {
  using P = simd::wbatch;
  static constexpr int width = simd::kWideLanes;
  static P load(const float* p) { return P::load_unaligned(p); }
  static void store(float* p, P v) { v.store_unaligned(p); }
  static P set(float v) { return P(v); }
  static P fma(P a, P b, P c) { return xsimd::fma(a, b, c); }
  static P rsqrt(P v) { return P(1.0f) / xsimd::sqrt(v); }
  static float sum(P v) { return xsimd::hadd(v); }
  static P first_lanes(P x, int count) {  // x in the first count lanes, 0 after (NaN and all)
    return xsimd::select(P::load_aligned(simd::kLaneIndex) < P(float(count)), x, P(0.0f));
  }

  static void gelu(P x, P* value, P* slope) { simd::gelu(x, value, slope); }
};

template <class T>
struct TokenLanesOf { using type = ScalarLanes<T>; };
template <>
struct TokenLanesOf<float> { using type = WideLanes; };
template <class T>
using TokenLanes = typename TokenLanesOf<T>::type;
#else
template <class T>
using TokenLanes = ScalarLanes<T>;
#endif

}  // namespace tinyloop::kernels
