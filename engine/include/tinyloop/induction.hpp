#pragma once
// The k-hop induction-heads task (SPEC §4.1) and the length curriculum (SPEC §3).
#include <cstdint>

#include "tinyloop/config.hpp"
#include "tinyloop/rng.hpp"

namespace tinyloop {

// x_1 uniform; each next symbol uniform among the A-1 symbols different from its predecessor.
void induction_sample(Rng& rng, int alphabet, std::int32_t* tokens, int len);

// Target at i: x at hop^k(i), hop(i) = j + 1 for the most recent j < i with x_j = x_i;
// NONE (= alphabet) where a hop is undefined. `last_seen` needs `alphabet` entries,
// `prev` needs `len`.
void induction_targets(const std::int32_t* tokens, int len, int alphabet, int hops,
                       std::int32_t* targets, std::int32_t* last_seen, std::int32_t* prev);

// Longest length allowed at step s of S (SPEC §3).
int curriculum_longest(const CurriculumConfig& c, std::int64_t step, std::int64_t total_steps);

// Draws one training batch: one length uniform in [min_len, longest], all sequences share
// it. Buffers hold max_batch * max_len entries; `prev` needs max_len, `last_seen` alphabet.
struct InductionBatchBuffers {
  std::int32_t* tokens;
  std::int32_t* targets;
  std::int32_t* prev;
  std::int32_t* last_seen;
};
int induction_batch(Rng& rng, const TrainConfig& cfg, std::int64_t step, InductionBatchBuffers buf);

}  // namespace tinyloop
