#pragma once
// The position codes of version-4 checkpoints (docs/CHECKPOINT.md) and of the model-family
// reference (tools/reference): none 0, sinusoidal 1, learned 2, ALiBi 3, ALiBi + sinusoidal 4,
// RoPE 5. Written out here rather than taken from the engine, which numbers Positions otherwise.
#include "tinyloop/model_spec.hpp"

namespace tinyloop::test {

constexpr Positions kPositionsByCode[] = {Positions::none,  Positions::sinusoidal,       Positions::learned,
                                          Positions::alibi, Positions::alibi_sinusoidal, Positions::rope};

inline int position_code(Positions p) {
  for (int code = 0; code < 6; ++code)
    if (kPositionsByCode[code] == p) return code;
  return -1;
}

}  // namespace tinyloop::test
