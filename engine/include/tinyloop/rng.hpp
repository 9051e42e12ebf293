#pragma once
// The engine's own seeded generator (PCG32, O'Neill 2014). Integer-only state transitions,
// so the same seed yields the same stream on every platform and compiler.
#include <cstdint>

namespace tinyloop {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0x853c49e6748fea9bULL, std::uint64_t stream = 0xda3e39cb94b95bdbULL) {
    reseed(seed, stream);
  }
  void reseed(std::uint64_t seed, std::uint64_t stream = 0xda3e39cb94b95bdbULL) {
    state_ = 0;
    inc_ = (stream << 1u) | 1u;
    next_u32();
    state_ += seed;
    next_u32();
  }
  std::uint32_t next_u32() {
    std::uint64_t old = state_;
    state_ = old * 6364136223846793005ULL + inc_;
    auto xorshifted = static_cast<std::uint32_t>(((old >> 18u) ^ old) >> 27u);
    auto rot = static_cast<std::uint32_t>(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
  }
  // Uniform integer in [0, bound) without modulo bias (Lemire's method with rejection).
  std::uint32_t uniform_int(std::uint32_t bound) {
    std::uint64_t m = std::uint64_t(next_u32()) * bound;
    auto low = static_cast<std::uint32_t>(m);
    if (low < bound) {
      std::uint32_t threshold = (0u - bound) % bound;
      while (low < threshold) {
        m = std::uint64_t(next_u32()) * bound;
        low = static_cast<std::uint32_t>(m);
      }
    }
    return static_cast<std::uint32_t>(m >> 32);
  }
  // Uniform in [0, 1) with 24 random bits (exact in float).
  float uniform01() { return float(next_u32() >> 8) * (1.0f / 16777216.0f); }
  double uniform01_double() {
    std::uint64_t hi = next_u32() >> 5, lo = next_u32() >> 6;
    return (double(hi) * 67108864.0 + double(lo)) * (1.0 / 9007199254740992.0);
  }
  std::uint64_t state() const { return state_; }
  std::uint64_t increment() const { return inc_; }
  void restore(std::uint64_t state, std::uint64_t inc) { state_ = state; inc_ = inc; }

 private:
  std::uint64_t state_ = 0;
  std::uint64_t inc_ = 1;
};

// Standard normal by Box-Muller (used only at initialisation).
double normal(Rng& rng);

}  // namespace tinyloop
