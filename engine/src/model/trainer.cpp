#include "tinyloop/trainer.hpp"

#include "optim/schedule.hpp"

namespace tinyloop {

template <class T>
MemoryPlan Trainer<T>::plan(const TrainConfig& cfg, const Capacity& cap) {
  if (!validate(cfg).is_ok()) return MemoryPlan{};
  return Model<T>::plan(cfg.model, cap);
}

template <class T>
Status Trainer<T>::init(const TrainConfig& cfg, const Capacity& cap, void* buffer, std::size_t bytes) {
  TINYLOOP_TRY(validate(cfg));
  TINYLOOP_TRY(model_.init(cfg.model, cfg.optim, cfg.loss, cfg.steps, cap, buffer, bytes));
  cfg_ = cfg;
  layout_ = ParamLayout::make(cfg.model);
  return Status::ok();
}

template <class T>
void Trainer<T>::set_parallel(ParallelFor* pool) {
  model_.set_parallel(pool);
}

template <class T>
void Trainer<T>::init_weights(Rng& rng) {
  model_.init_weights(rng);
}

// The recipe's targets are classes in [0, vocab_out) at every position: none is left out.
template <class T>
Status Trainer<T>::to_batch(const Batch& b, ModelBatch<T>* out) const {
  if (b.tokens == nullptr || b.targets == nullptr)
    return Status::fail(Error::bad_config, "batch has no token or target array");
  const Capacity& cap = model_.capacity();
  const bool planned = model_.initialized() && b.batch >= 1 && b.batch <= cap.max_batch && b.len >= 1 &&
                       b.len <= cap.max_len;  // else the model's own check names the problem
  const std::size_t count = planned ? std::size_t(b.batch) * std::size_t(b.len) : 0;
  for (std::size_t i = 0; i < count; ++i)
    if (b.targets[i] < 0)
      return Status::fail(Error::target_out_of_range, "target %d at sequence %zu position %zu is outside [0, %d)",
                          int(b.targets[i]), i / std::size_t(b.len), i % std::size_t(b.len), cfg_.model.out_dim);
  *out = ModelBatch<T>{};
  out->tokens = b.tokens;
  out->labels = b.targets;
  out->batch = b.batch;
  out->len = b.len;
  return Status::ok();
}

template <class T>
Status Trainer<T>::pass(const Batch& batch, bool backward, LossTerms* loss, double* token_accuracy) {
  ModelBatch<T> b;
  TINYLOOP_TRY(to_batch(batch, &b));
  ModelStats s;
  TINYLOOP_TRY(backward ? model_.compute_gradients(b, &s) : model_.evaluate(b, &s));
  if (loss) *loss = s.terms;
  if (token_accuracy) *token_accuracy = s.accuracy;
  return Status::ok();
}

template <class T>
Status Trainer<T>::compute_gradients(const Batch& batch, LossTerms* loss, double* token_accuracy) {
  return pass(batch, true, loss, token_accuracy);
}

template <class T>
Status Trainer<T>::evaluate_loss(const Batch& batch, LossTerms* loss, double* token_accuracy) {
  return pass(batch, false, loss, token_accuracy);
}

template <class T>
double Trainer<T>::learning_rate(std::int64_t step) const {
  return optim::scheduled_lr(cfg_.optim, step, cfg_.steps);
}

template <class T>
Status Trainer<T>::train_step(const Batch& batch, StepStats* stats) {
  ModelBatch<T> b;
  TINYLOOP_TRY(to_batch(batch, &b));
  ModelStats s;
  TINYLOOP_TRY(model_.train_step(b, cfg_.steps, &s));
  if (stats) {
    StepStats out;
    out.loss = s.terms;
    out.grad_norm = s.grad_norm;
    out.lr = s.lr;
    out.token_accuracy = s.accuracy;
    out.skipped = s.skipped;
    out.fault = s.fault;
    *stats = out;
  }
  return Status::ok();
}

template <class T>
const T* Trainer<T>::logits(int b) const {
  return model_.outputs(b);
}

template <class T>
const T* Trainer<T>::attention(int b, int loop) const {
  return model_.attention(b, loop - 1, 0);
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace tinyloop
