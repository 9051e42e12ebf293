#pragma once
// Position schemes (SPEC §1, §1.1): the sinusoids added to the input, the ALiBi slope and the
// RoPE rotation applied to queries and keys inside attention.
#include <cmath>

#include "tinyloop/config.hpp"

namespace tinyloop::model {

// Sinusoidal positions: P[i, 2k] = sin(i / 10000^(2k/d)), P[i, 2k+1] = cos(...).
template <class T>
inline void sinusoidal_position(int i, T* out) {
  for (int k = 0; k < kDim / 2; ++k) {
    const double angle = double(i) / std::pow(10000.0, double(2 * k) / double(kDim));
    out[2 * k] = T(std::sin(angle));
    out[2 * k + 1] = T(std::cos(angle));
  }
}

// X_i = E[x_i] + scale * P_i, or E[x_i] alone when the scheme adds no sinusoids; `sinusoid`
// is P_i (sinusoidal_position, or a row of a table of them), read only when the scheme adds it.
template <class T>
inline void embed_token(const ModelSpec& m, const T* E, int token, const T* sinusoid, T* x) {
  const T* e = E + token * kDim;
  if (!uses_sinusoids(m.positions)) {
    for (int c = 0; c < kDim; ++c) x[c] = e[c];
    return;
  }
  for (int c = 0; c < kDim; ++c) x[c] = e[c] + T(m.pe_scale) * sinusoid[c];
}

// ALiBi: the slope m = softplus(rho), and dm/drho = sigmoid(rho). Written so that neither
// overflows for any finite rho.
template <class T>
inline T softplus(T rho) {
  return rho > T(0) ? rho + std::log1p(std::exp(-rho)) : std::log1p(std::exp(rho));
}
template <class T>
inline T sigmoid(T rho) {
  return rho >= T(0) ? T(1) / (T(1) + std::exp(-rho)) : std::exp(rho) / (T(1) + std::exp(rho));
}

// The recency slope of a model's attention: softplus(rho) with ALiBi, 0 otherwise.
template <class T>
inline T alibi_slope(const ModelSpec& m, const T* rho) {
  return uses_alibi(m.positions) && rho ? softplus(rho[0]) : T(0);
}

// RoPE: cos and sin of the angles i * theta_k, theta_k = base^(-2k/width), for the width/2
// pairs of position i (width: the head's, d = 8 in the looped block); table[0 .. width/2)
// holds the cosines, table[width/2 .. width) the sines. Angles are formed in double so that
// positions in the millions keep their phase.
template <class T>
inline void rope_angles(int i, float base, T* table, int width = kDim) {
  for (int k = 0; k < width / 2; ++k) {
    const double angle = double(i) * std::pow(double(base), -double(2 * k) / double(width));
    table[k] = T(std::cos(angle));
    table[width / 2 + k] = T(std::sin(angle));
  }
}

// Rotates each pair (2k, 2k+1) of v (width values) by the table's angle; `inverse` rotates
// back (the transpose, which is how gradients flow through the rotation).
template <class T>
inline void rope_rotate(const T* table, bool inverse, T* v, int width = kDim) {
  for (int k = 0; k < width / 2; ++k) {
    const T c = table[k], s = inverse ? -table[width / 2 + k] : table[width / 2 + k];
    const T a = v[2 * k], b = v[2 * k + 1];
    v[2 * k] = a * c - b * s;
    v[2 * k + 1] = a * s + b * c;
  }
}

}  // namespace tinyloop::model
