#include "tinyloop/rng.hpp"

#include <cmath>

namespace tinyloop {

double normal(Rng& rng) {
  // Box-Muller on (0, 1]; one value per call keeps the stream simple to reason about.
  double u1 = 1.0 - rng.uniform01_double();
  double u2 = rng.uniform01_double();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace tinyloop
