#pragma once
// Training of the looped transformer: forward, hand-written backward, energy-entropy loss,
// global-norm clipping and AdamW, all inside one caller-provided buffer. After init() no
// member function allocates, throws or calls the OS.
#include <cstddef>
#include <cstdint>

#include "tinyloop/config.hpp"
#include "tinyloop/memory_plan.hpp"
#include "tinyloop/parallel.hpp"
#include "tinyloop/params.hpp"
#include "tinyloop/rng.hpp"
#include "tinyloop/status.hpp"

namespace tinyloop {

struct Capacity {
  int max_len = 64;
  int max_batch = 32;
  int workers = 1;  // threads that may run sequences at once (one scratch area each)
  // Attention probabilities are kept for the backward pass unless the plan would exceed
  // this many bytes of saved activations; then they are recomputed (flash-style).
  std::size_t activation_budget = std::size_t(1) << 30;
};

struct Batch {
  const std::int32_t* tokens = nullptr;   // batch x len, row-major
  const std::int32_t* targets = nullptr;  // batch x len, in [0, vocab_out)
  int batch = 0;
  int len = 0;
};

struct LossTerms {
  double ce = 0;         // mean cross-entropy over batch * len positions
  double kinetic = 0;    // K
  double potential = 0;  // U
  double tsallis = 0;    // mean Tsallis entropy of the attention rows (before |. - eta|)
  double eta = 0;        // the entropy target at this step (LossConfig::eta unless scheduled)
  double entropy = 0;    // Ent = |tsallis - eta|
  double total = 0;      // CE + lambda_P U + lambda_K K + lambda_S Ent
};

struct StepStats {
  LossTerms loss;
  double grad_norm = 0;  // before clipping
  double lr = 0;
  double token_accuracy = 0;  // on positions whose target is not NONE (last class)
  bool skipped = false;       // non-finite loss or gradient, or an overflowing update: weights untouched
  const char* fault = "";     // which term broke when skipped ("cross-entropy", ..., "gradient", "weight update")
};

template <class T>
class Trainer {
 public:
  // Bytes the buffer handed to init() must have.
  static MemoryPlan plan(const TrainConfig& cfg, const Capacity& cap);

  Status init(const TrainConfig& cfg, const Capacity& cap, void* buffer, std::size_t bytes);
  void set_parallel(ParallelFor* pool);  // nullptr: serial; must have <= cap.workers workers

  // PyTorch's default initialisation (SPEC §1); resets the optimizer state.
  void init_weights(Rng& rng);

  // Forward and backward; gradients of the total loss land in grads().
  Status compute_gradients(const Batch& batch, LossTerms* loss, double* token_accuracy = nullptr);
  // Forward only (loss terms and logits, no gradients).
  Status evaluate_loss(const Batch& batch, LossTerms* loss, double* token_accuracy = nullptr);
  // compute_gradients, then clip and AdamW. A non-finite loss or gradient skips the update.
  Status train_step(const Batch& batch, StepStats* stats);

  T* params() { return params_; }
  const T* params() const { return params_; }
  const T* grads() const { return grads_; }
  T* adam_m() { return adam_m_; }
  T* adam_v() { return adam_v_; }
  std::size_t param_count() const { return layout_.total; }
  const ParamLayout& layout() const { return layout_; }
  const TrainConfig& config() const { return cfg_; }
  std::int64_t step() const { return step_; }
  void set_step(std::int64_t s) { step_ = s; }
  double learning_rate(std::int64_t step) const;

  // After a forward pass: logits of sequence b (len x vocab_out) and, when the plan keeps
  // them, the attention probabilities of sequence b at loop t (1-based; len x len, row i
  // valid for keys j <= i when causal; masked entries hold no meaningful value). nullptr
  // when not kept.
  const T* logits(int b) const;
  const T* attention(int b, int loop) const;
  bool initialized() const { return state_ != nullptr; }

  struct State;  // defined in the engine sources

 private:
  Status check_batch(const Batch& batch) const;
  Status forward_backward(const Batch& batch, bool backward, LossTerms* loss, double* acc);

  TrainConfig cfg_{};
  Capacity cap_{};
  ParamLayout layout_{};
  T* params_ = nullptr;
  T* grads_ = nullptr;
  T* adam_m_ = nullptr;
  T* adam_v_ = nullptr;
  std::int64_t step_ = 0;
  State* state_ = nullptr;
  SerialFor serial_;
  ParallelFor* pool_ = &serial_;
};

extern template class Trainer<float>;
extern template class Trainer<double>;

}  // namespace tinyloop
