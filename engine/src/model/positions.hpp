#pragma once
// Sinusoidal positions (SPEC §1): P[i, 2k] = sin(i / 10000^(2k/d)), P[i, 2k+1] = cos(...).
#include <cmath>

#include "tinyloop/config.hpp"

namespace tinyloop::model {

template <class T>
inline void sinusoidal_position(int i, T* out) {
  for (int k = 0; k < kDim / 2; ++k) {
    const double angle = double(i) / std::pow(10000.0, double(2 * k) / double(kDim));
    out[2 * k] = T(std::sin(angle));
    out[2 * k + 1] = T(std::cos(angle));
  }
}

// X_i = E[x_i] + scale * P_i (or E[x_i] alone without positions).
template <class T>
inline void embed_token(const ModelConfig& m, const T* E, int token, int position, T* x) {
  const T* e = E + token * kDim;
  if (m.positions == PositionKind::none) {
    for (int c = 0; c < kDim; ++c) x[c] = e[c];
    return;
  }
  T p[kDim];
  sinusoidal_position(position, p);
  for (int c = 0; c < kDim; ++c) x[c] = e[c] + T(m.pe_scale) * p[c];
}

}  // namespace tinyloop::model
