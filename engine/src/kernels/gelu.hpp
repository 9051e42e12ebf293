#pragma once
// GELU with erf (PyTorch's exact gelu): gelu(x) = x * Phi(x), gelu'(x) = Phi(x) + x * phi(x).
#include <cmath>

namespace tinyloop::kernels {

template <class T>
inline void gelu_forward(T x, T* value, T* slope) {
  const T cdf = T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752440)));
  const T pdf = T(0.39894228040143267794) * std::exp(T(-0.5) * x * x);
  *value = x * cdf;
  *slope = cdf + x * pdf;
}

template <class T>
inline T gelu(T x) {
  return x * T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752440)));
}

// A row of N pre-activations: values, and slopes when `slope` is not null.
template <int N, class T>
inline void gelu_row(const T* x, T* value, T* slope) {
  for (int c = 0; c < N; ++c) {
    if (slope) gelu_forward(x[c], value + c, slope + c);
    else value[c] = gelu(x[c]);
  }
}

}  // namespace tinyloop::kernels
