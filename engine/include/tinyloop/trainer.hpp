#pragma once
// Training of the paper's looped transformer from a TrainConfig (SPEC §1-§3): the recipe's
// view of the one model (tinyloop/model.hpp), whose looped block (TrainConfig::model) it
// runs on the d = 8 kernels, with the energy-entropy objective. Everything lives inside one
// caller-provided buffer; after init() no member function allocates, throws or calls the OS.
#include <cstddef>
#include <cstdint>

#include "tinyloop/config.hpp"
#include "tinyloop/model.hpp"
#include "tinyloop/loss_terms.hpp"
#include "tinyloop/memory_plan.hpp"
#include "tinyloop/parallel.hpp"
#include "tinyloop/params.hpp"
#include "tinyloop/rng.hpp"
#include "tinyloop/status.hpp"

namespace tinyloop {

struct Batch {
  const std::int32_t* tokens = nullptr;   // batch x len, row-major
  const std::int32_t* targets = nullptr;  // batch x len, in [0, vocab_out)
  int batch = 0;
  int len = 0;
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

  T* params() { return model_.params(); }
  const T* params() const { return model_.params(); }
  const T* grads() const { return model_.grads(); }
  T* adam_m() { return model_.adam_m(); }
  T* adam_v() { return model_.adam_v(); }
  std::size_t param_count() const { return layout_.total; }
  const ParamLayout& layout() const { return layout_; }
  const TrainConfig& config() const { return cfg_; }
  std::int64_t step() const { return model_.step(); }
  void set_step(std::int64_t s) { model_.set_step(s); }
  double learning_rate(std::int64_t step) const;
  const Model<T>& model() const { return model_; }

  // After a forward pass: logits of sequence b (len x vocab_out) and, when the plan keeps
  // them (Capacity::keep_attention), the attention probabilities of sequence b at loop t
  // (1-based; len x len, row i valid for keys j <= i when causal; masked entries hold no
  // meaningful value). nullptr when not kept.
  const T* logits(int b) const;
  const T* attention(int b, int loop) const;
  bool initialized() const { return model_.initialized(); }

 private:
  Status to_batch(const Batch& batch, ModelBatch<T>* out) const;
  Status pass(const Batch& batch, bool backward, LossTerms* loss, double* token_accuracy);

  TrainConfig cfg_{};
  ParamLayout layout_{};
  Model<T> model_;
};

extern template class Trainer<float>;
extern template class Trainer<double>;

}  // namespace tinyloop
