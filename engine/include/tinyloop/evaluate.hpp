#pragma once
// Length-generalisation evaluation on the induction task (SPEC §5).
#include <cstdint>

#include "tinyloop/inference.hpp"

namespace tinyloop {

struct EvalResult {
  int len = 0;
  int samples = 0;
  double token_accuracy = 0;     // over positions whose target is not NONE
  double sequence_accuracy = 0;  // share of sequences with every such position right
  std::int64_t positions = 0;    // positions with a target
};

// Scratch for one sequence of `len` tokens with `loops` per-loop readouts.
struct EvalScratch {
  std::int32_t* tokens;       // len
  std::int32_t* targets;      // len
  std::int32_t* prev;         // len
  std::int32_t* last_seen;    // alphabet
  std::int32_t* predictions;  // len
  std::int32_t* per_loop;     // loops * len, or nullptr to skip the per-loop readout
};
std::int64_t eval_scratch_ints(int len, int alphabet, int loops);
EvalScratch bind_eval_scratch(std::int32_t* ints, int len, int alphabet, int loops);

// Samples come from Rng(seed, stream = len), so every length has its own fixed set.
// per_loop_accuracy (loops entries, optional) receives the token accuracy of the readout
// applied after each loop.
Status evaluate_induction(Inference& model, const TaskConfig& task, int len, int samples,
                          std::uint64_t seed, EvalScratch scratch, EvalResult* out,
                          double* per_loop_accuracy = nullptr);

}  // namespace tinyloop
