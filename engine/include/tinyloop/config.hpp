#pragma once
// The training recipe (SPEC.md §1-§4): the model (tinyloop/model_spec.hpp), its objective, the
// optimiser, the task and the curriculum. Everything the memory planner needs comes from here.
#include <cstdint>

#include "tinyloop/model_spec.hpp"
#include "tinyloop/status.hpp"

namespace tinyloop {

enum class Schedule : std::uint8_t { constant = 0, cosine = 1 };

struct LossConfig {
  float lambda_p = 0.1f;    // potential: -log max_j P_ij
  float lambda_k = 0.001f;  // kinetic: (1/2L) sum_t ||Z_t - Z_{t-1}||^2
  float lambda_s = 0.02f;   // |Tsallis entropy - eta|
  float q = 1.5f;
  float eta = 0.0f;
  // Entropy schedule (not in the paper, which keeps eta fixed): with cosine, the target moves
  // from eta at the first step to eta_final at the last (high early, low late).
  Schedule eta_schedule = Schedule::constant;
  float eta_final = 0.0f;
};

struct OptimConfig {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.1f;
  float clip_norm = 1.0f;  // global gradient-norm clip; 0 disables
  int warmup_steps = 0;    // linear warm-up from 0 to lr
  Schedule schedule = Schedule::constant;
  float min_lr_ratio = 0.0f;  // cosine floor as a fraction of lr
};

struct TaskConfig {
  int alphabet = 4;  // A
  int hops = 1;      // k of the k-hop induction task
};

// SPEC §3: at step s of S the longest length is min + floor(min(1, s / (ramp * S)) * (max - min));
// the paper's curriculum is ramp = 0.5, min 16, max 64.
struct CurriculumConfig {
  int min_len = 16;
  int max_len = 64;
  float ramp = 0.5f;
};

// The training recipe: the model (the paper's looped block, which checkpoint versions 1-3 and
// Inference hold), its objective, optimiser, task and curriculum.
struct TrainConfig {
  ModelSpec model = paper_block();
  LossConfig loss;
  OptimConfig optim;
  TaskConfig task;
  CurriculumConfig curriculum;
  int batch = 32;
  std::int64_t steps = 20000;
  std::uint64_t seed = 1;
};

// The paper's recipe exactly as SPEC.md §1-§3 states it.
TrainConfig preset_lam2026();

// Keeps the model's vocabularies in step with the task's alphabet A: A symbols in, A + 1
// classes out, class A (NONE) left out of the accuracy.
void sync_vocab_with_task(TrainConfig& cfg);

Status validate(const LossConfig& l);
Status validate(const OptimConfig& o);
// The whole recipe, whose model must be the looped block.
Status validate(const TrainConfig& cfg);
// What every model's training shares, and version 4 checkpoints keep: optimiser, batch, steps.
Status validate_shared(const TrainConfig& cfg);

}  // namespace tinyloop
