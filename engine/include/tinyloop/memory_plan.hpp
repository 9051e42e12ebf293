#pragma once
#include <cstddef>

namespace tinyloop {

// What one buffer must hold, in bytes. `total` includes alignment padding and the slack
// for a caller buffer that does not start on a 64-byte boundary.
struct MemoryPlan {
  std::size_t params = 0;
  std::size_t grads = 0;
  std::size_t optimizer = 0;
  std::size_t activations = 0;  // saved for the backward pass
  std::size_t scratch = 0;      // per-worker temporaries
  std::size_t data = 0;         // batch tokens and targets
  std::size_t total = 0;
  bool recompute_attention = false;  // attention probabilities recomputed in backward
  bool activations_per_sequence = false;  // one set per sequence (Capacity::keep_attention), else per worker
};

}  // namespace tinyloop
