#pragma once
// LayerNorm over the d = 8 features of one token (biased variance, eps 1e-5).
// The forward keeps xhat and 1/sigma; that is all the backward needs.
#include <cmath>

#include "tinyloop/config.hpp"

namespace tinyloop::kernels {

constexpr double kLayerNormEps = 1e-5;

template <class T>
inline void layernorm_forward(const T* x, const T* gain, const T* bias, T* out, T* xhat, T* rstd_out) {
  T mean = 0;
  for (int c = 0; c < kDim; ++c) mean += x[c];
  mean /= T(kDim);
  T var = 0;
  for (int c = 0; c < kDim; ++c) var += (x[c] - mean) * (x[c] - mean);
  var /= T(kDim);
  T rstd = T(1) / std::sqrt(var + T(kLayerNormEps));
  for (int c = 0; c < kDim; ++c) {
    T h = (x[c] - mean) * rstd;
    if (xhat) xhat[c] = h;
    out[c] = h * gain[c] + bias[c];
  }
  if (rstd_out) *rstd_out = rstd;
}

// Rebuilds the LayerNorm output from the saved xhat.
template <class T>
inline void layernorm_apply(const T* xhat, const T* gain, const T* bias, T* out) {
  for (int c = 0; c < kDim; ++c) out[c] = xhat[c] * gain[c] + bias[c];
}

// dx = rstd * (g*dy - mean(g*dy) - xhat * mean(g*dy * xhat)); accumulates dgain, dbias, and
// *adds* the result to dx.
template <class T>
inline void layernorm_backward(const T* dy, const T* xhat, T rstd, const T* gain, T* dgain, T* dbias, T* dx) {
  T dxhat[kDim];
  T mean_d = 0, mean_dx = 0;
  for (int c = 0; c < kDim; ++c) {
    dgain[c] += dy[c] * xhat[c];
    dbias[c] += dy[c];
    dxhat[c] = dy[c] * gain[c];
    mean_d += dxhat[c];
    mean_dx += dxhat[c] * xhat[c];
  }
  mean_d /= T(kDim);
  mean_dx /= T(kDim);
  for (int c = 0; c < kDim; ++c) dx[c] += rstd * (dxhat[c] - mean_d - xhat[c] * mean_dx);
}

}  // namespace tinyloop::kernels
