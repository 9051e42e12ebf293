#pragma once
// xsimd versions (float) of the per-token dense layer and the GELU row of inference, in
// kernels::simd; the callers pick them by name (kernels/block_kernels.hpp), and the tests
// compare them with the scalar references of dense.hpp and gelu.hpp.
#if TINYLOOP_SIMD
#include "kernels/dense.hpp"
#include "kernels/gelu.hpp"
#include "kernels/gelu_simd.hpp"
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

// A row of N pre-activations: values, and slopes when `slope` is not null (gelu_simd.hpp).
template <int N>
inline void gelu_row(const float* x, float* value, float* slope) {
  for (int c = 0; c < N; c += simd::kLanes) {
    fbatch v, s;
    simd::gelu(fbatch::load_unaligned(x + c), &v, slope ? &s : nullptr);
    v.store_unaligned(value + c);
    if (slope) s.store_unaligned(slope + c);
  }
}

}  // namespace tinyloop::kernels::simd
#endif
