#pragma once
// Per-token pieces of the inference forward pass (float, xsimd): LayerNorm of one d = 8 row
// in registers, and a dense layer whose long input is split over several accumulators so
// the fused multiply-adds do not wait on each other. Inference only: training keeps its own
// kernels (layernorm.hpp, dense_simd.hpp), so its numbers do not move.
#if TINYLOOP_SIMD
#include <cmath>

#include "kernels/layernorm.hpp"
#include "kernels/simd.hpp"

namespace tinyloop::kernels::token {

using simd::fbatch;
using Row = simd::Vec<kDim>;

inline float row_sum(const Row& v) {
  fbatch s = v.r[0];
  for (int k = 1; k < Row::kRegs; ++k) s += v.r[k];
  return xsimd::hadd(s);
}

// out = (y - mean) / sqrt(var + eps) * gain + bias (biased variance), as layernorm_forward.
inline Row layernorm(const Row& y, const float* gain, const float* bias) {
  const fbatch mean(row_sum(y) * (1.0f / kDim));
  Row d, sq;
  for (int k = 0; k < Row::kRegs; ++k) {
    d.r[k] = y.r[k] - mean;
    sq.r[k] = d.r[k] * d.r[k];
  }
  const fbatch rstd(1.0f / std::sqrt(row_sum(sq) * (1.0f / kDim) + float(kLayerNormEps)));
  Row out;
  for (int k = 0; k < Row::kRegs; ++k)
    out.r[k] = xsimd::fma(d.r[k] * rstd, fbatch::load_unaligned(gain + k * simd::kLanes),
                          fbatch::load_unaligned(bias + k * simd::kLanes));
  return out;
}

// y = x W + b (b may be null) for one token, W stored IN x OUT, with up to 4 independent
// partial sums over the input.
template <int IN, int OUT>
inline simd::Vec<OUT> dense(const float* x, const float* W, const float* b) {
  constexpr int kParts = IN >= 16 ? 4 : (IN >= 4 ? 2 : 1);
  static_assert(IN % kParts == 0, "input must split evenly");
  simd::Vec<OUT> part[kParts];
  for (int p = 0; p < kParts; ++p) part[p] = simd::Vec<OUT>::zero();
  if (b) part[0] = simd::Vec<OUT>::load(b);
  for (int i = 0; i < IN; i += kParts)
    for (int p = 0; p < kParts; ++p) part[p].fma_from(x[i + p], W + (i + p) * OUT);
  for (int p = 1; p < kParts; ++p)
    for (int k = 0; k < simd::Vec<OUT>::kRegs; ++k) part[0].r[k] += part[p].r[k];
  return part[0];
}

}  // namespace tinyloop::kernels::token
#endif
