#pragma once
// The kernels of the d = 8 block, chosen here and nowhere else: in a TINYLOOP_SIMD build the
// float block runs the xsimd kernels (attention_simd.hpp; the per-token dense layer and GELU
// row of inference, dense_simd.hpp); double, and every scalar build, run the scalar references
// (attention.hpp, dense.hpp, gelu.hpp) that the SIMD tests compare with. Training's per-token
// work picks its lanes the same way (TokenLanes, kernels/lanes.hpp).
#include <utility>

#include "kernels/attention.hpp"
#include "kernels/attention_simd.hpp"
#include "kernels/dense.hpp"
#include "kernels/dense_simd.hpp"
#include "kernels/gelu.hpp"

namespace tinyloop::kernels {

template <class T>
struct BlockKernels {  // the scalar references
  static constexpr bool simd = false;
  template <int IN, int OUT, class... A>
  static void dense_forward(A&&... a) { kernels::dense_forward<IN, OUT, T>(std::forward<A>(a)...); }
  template <int N, class... A>
  static void gelu_row(A&&... a) { kernels::gelu_row<N, T>(std::forward<A>(a)...); }
  template <class... A>
  static void attention_forward(A&&... a) { kernels::attention_forward<T>(std::forward<A>(a)...); }
  template <class... A>
  static void attention_backward(A&&... a) { kernels::attention_backward<T>(std::forward<A>(a)...); }
};

#if TINYLOOP_SIMD
template <>
struct BlockKernels<float> {  // xsimd
  static constexpr bool simd = true;
  template <int IN, int OUT, class... A>
  static void dense_forward(A&&... a) { kernels::simd::dense_forward<IN, OUT>(std::forward<A>(a)...); }
  template <int N, class... A>
  static void gelu_row(A&&... a) { kernels::simd::gelu_row<N>(std::forward<A>(a)...); }
  template <class... A>
  static void attention_forward(A&&... a) { kernels::simd::attention_forward(std::forward<A>(a)...); }
  template <class... A>
  static void attention_backward(A&&... a) { kernels::simd::attention_backward(std::forward<A>(a)...); }
};
#endif

}  // namespace tinyloop::kernels
