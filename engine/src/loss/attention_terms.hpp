#pragma once
// The loss: softmax cross-entropy (cross_entropy.hpp) and, here, the per-row attention terms
// of the energy-entropy objective.
//
// Per-row pieces of the two attention regularisers of the energy-entropy objective (SPEC §2):
// the potential -log max_j P_ij and the Tsallis entropy S_q(P_i) = (1 - sum_j p_j^q) / (q - 1).
#include <cmath>

namespace tinyloop::loss {

// p^q with the common exponents on fast paths (p in [0, 1]).
template <class T>
inline T tsallis_power(T p, T q) {
  if (q == T(2)) return p * p;
  if (q == T(1.5)) return p * std::sqrt(p);
  return p > T(0) ? std::exp(q * std::log(p)) : T(0);
}

// d p^q / dp divided by q, i.e. p^(q-1); only called for p > 0.
template <class T>
inline T tsallis_power_slope(T p, T q) {
  if (q == T(2)) return p;
  if (q == T(1.5)) return std::sqrt(p);
  return std::exp((q - T(1)) * std::log(p));
}

// sum_j p_j^q of a row, from which S_q(P_i) = (1 - sum) / (q - 1).
template <class T>
inline T tsallis_power_sum(const T* p, int count, T q) {
  T s = 0;
  for (int j = 0; j < count; ++j) s += tsallis_power(p[j], q);
  return s;
}

// Ent = |mean - eta|: its derivative with respect to the mean (0 exactly at the kink).
template <class T>
inline T abs_slope(T mean, T eta) {
  return mean > eta ? T(1) : (mean < eta ? T(-1) : T(0));
}

}  // namespace tinyloop::loss
