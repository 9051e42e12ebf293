#pragma once
// Configuration of the looped transformer, its objective, the optimizer and the task
// (SPEC.md §1-§4). Everything the memory planner needs comes from here.
#include <cstdint>

#include "tinyloop/status.hpp"

namespace tinyloop {

// The model width is a compile-time constant: 8 floats are one AVX register or two NEON
// registers, which the kernels exploit. The MLP is 4 * d wide.
constexpr int kDim = 8;
constexpr int kHidden = 4 * kDim;

// Where order enters the model (SPEC §1, §1.1). The first two act on the input X; ALiBi and
// RoPE act inside attention, so they hold at absolute positions never seen in training.
enum class PositionKind : std::uint8_t {
  sinusoidal = 0,        // X = E[x] + pe_scale * P (the paper's)
  none = 1,              // NoPE: only the causal mask carries order
  alibi = 2,             // scores - softplus(rho) (i - j), no sinusoids in X
  alibi_sinusoidal = 3,  // both
  rope = 4,              // query/key pairs rotated by position, no sinusoids in X
};
constexpr bool uses_sinusoids(PositionKind k) {
  return k == PositionKind::sinusoidal || k == PositionKind::alibi_sinusoidal;
}
constexpr bool uses_alibi(PositionKind k) { return k == PositionKind::alibi || k == PositionKind::alibi_sinusoidal; }
constexpr bool uses_rope(PositionKind k) { return k == PositionKind::rope; }
enum class LoopKind : std::uint8_t { standard = 0, hamiltonian = 1 };

struct ModelConfig {
  int loops = 25;
  int vocab_in = 4;   // A symbols
  int vocab_out = 5;  // A + 1 (class A is NONE)
  PositionKind positions = PositionKind::sinusoidal;
  float pe_scale = 0.15f;
  float alibi_rho = 0.5f;       // initial rho of the learned ALiBi slope softplus(rho)
  float rope_base = 10000.0f;   // RoPE: theta_k = base^(-2k/d)
  bool causal = true;
  LoopKind loop = LoopKind::standard;
  // Hamiltonian loop (SPEC §1 option): V_t = mu V_{t-1} + alpha (F(Z) - Z) - beta grad E.
  float mu = 0.9f;
  float alpha = 1.0f;
  float beta = 0.0f;
  float tau = 1.0f;
};

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

struct TrainConfig {
  ModelConfig model;
  LossConfig loss;
  OptimConfig optim;
  TaskConfig task;
  CurriculumConfig curriculum;
  int batch = 32;
  std::int64_t steps = 20000;
  std::uint64_t seed = 1;
  // Multiplies every randomly initialised tensor of init_weights() (SPEC §1's PyTorch defaults
  // at 1); LayerNorm gains and biases keep 1 and 0. Not in the paper: a knob of the recipe searches.
  float init_scale = 1.0f;
};

// The paper's recipe exactly as SPEC.md §1-§3 states it.
TrainConfig preset_lam2026();

// Keeps vocab_in / vocab_out in step with the task's alphabet.
void sync_vocab_with_task(TrainConfig& cfg);

Status validate(const ModelConfig& m);
Status validate(const LossConfig& l);
Status validate(const OptimConfig& o);
Status validate(const TrainConfig& cfg);

}  // namespace tinyloop
