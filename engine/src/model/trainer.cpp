#include "tinyloop/trainer.hpp"

#include <cmath>
#include <new>

#include "model/looped_block.hpp"
#include "optim/adamw.hpp"
#include "optim/gradient_slots.hpp"
#include "tinyloop/arena.hpp"

namespace tinyloop {

template <class T>
struct Trainer<T>::State {
  model::Tape<T>* tapes;       // one per sequence of the batch
  model::Scratch<T>* scratch;  // one per worker
  T* seq_grads;                // max_batch x param_count: summed in a fixed order
  model::SequenceSums<T>* sums;
  model::TransposedWeights<T> transposed;
  bool keep_p;
  int last_len;  // length of the last batch, to index the saved tapes
};

namespace {

constexpr std::size_t kMaxTokens = std::size_t(1) << 24;

// Lays out everything in `arena` (a dry run when its base is null). Returns the state.
template <class T>
typename Trainer<T>::State* bind(Arena& a, const TrainConfig& cfg, const Capacity& cap, const ParamLayout& layout,
                                 bool keep_p, T** params, T** grads, T** m, T** v, MemoryPlan* plan) {
  using State = typename Trainer<T>::State;
  const int L = cfg.model.loops, V = cfg.model.vocab_out;
  const std::size_t P = layout.total, B = std::size_t(cap.max_batch);
  const optim::ParameterBlocks<T> blocks = optim::take_parameter_blocks<T>(a, P, B, plan);
  *params = blocks.params;
  *grads = blocks.grads;
  *m = blocks.m;
  *v = blocks.v;
  T* seq_grads = blocks.seq_grads;
  std::size_t mark = a.used();
  State* st = a.take<State>(1);
  auto* tapes = a.take<model::Tape<T>>(B);
  auto* sums = a.take<model::SequenceSums<T>>(B);
  auto* scratch = a.take<model::Scratch<T>>(std::size_t(cap.workers));
  const auto transposed = model::TransposedWeights<T>::take(a);
  std::size_t bookkeeping = a.used() - mark;
  mark = a.used();
  for (std::size_t b = 0; b < B; ++b) {
    auto tape = model::Tape<T>::take(a, L, cap.max_len, V, keep_p, uses_rope(cfg.model.positions));
    if (tapes) tapes[b] = tape;
  }
  plan->activations = a.used() - mark;
  mark = a.used();
  for (int w = 0; w < cap.workers; ++w) {
    auto s = model::Scratch<T>::take(a, cap.max_len, V);
    if (scratch) scratch[w] = s;
  }
  plan->scratch = a.used() - mark + bookkeeping;
  plan->total = a.used() + Arena::slack();
  plan->recompute_attention = !keep_p;
  if (st) *st = State{tapes, scratch, seq_grads, sums, transposed, keep_p, 0};
  return st;
}

template <class T>
MemoryPlan measure(const TrainConfig& cfg, const Capacity& cap, bool keep_p) {
  Arena dry;
  MemoryPlan plan;
  T *p, *g, *m, *v;
  bind<T>(dry, cfg, cap, ParamLayout::make(cfg.model), keep_p, &p, &g, &m, &v, &plan);
  return plan;
}

Status check_capacity(const Capacity& cap) {
  if (cap.max_len < 1 || cap.max_batch < 1 || cap.workers < 1)
    return Status::fail(Error::bad_config, "capacity needs max_len, max_batch and workers >= 1 (got %d, %d, %d)",
                        cap.max_len, cap.max_batch, cap.workers);
  if (std::size_t(cap.max_len) * std::size_t(cap.max_batch) > kMaxTokens)
    return Status::fail(Error::bad_config, "capacity of %d x %d tokens is beyond the supported %zu", cap.max_batch,
                        cap.max_len, kMaxTokens);
  return Status::ok();
}

}  // namespace

template <class T>
MemoryPlan Trainer<T>::plan(const TrainConfig& cfg, const Capacity& cap) {
  if (!validate(cfg.model).is_ok() || !check_capacity(cap).is_ok()) return MemoryPlan{};
  MemoryPlan keep = measure<T>(cfg, cap, true);
  if (keep.activations <= cap.activation_budget) return keep;
  return measure<T>(cfg, cap, false);
}

template <class T>
Status Trainer<T>::init(const TrainConfig& cfg, const Capacity& cap, void* buffer, std::size_t bytes) {
  state_ = nullptr;
  TINYLOOP_TRY(validate(cfg));
  TINYLOOP_TRY(check_capacity(cap));
  const MemoryPlan need = plan(cfg, cap);
  Arena arena;
  TINYLOOP_TRY(open_planned_arena(buffer, bytes, need.total, "training", &arena));
  cfg_ = cfg;
  cap_ = cap;
  layout_ = ParamLayout::make(cfg.model);
  MemoryPlan got;
  State* st = bind<T>(arena, cfg, cap, layout_, !need.recompute_attention, &params_, &grads_, &adam_m_, &adam_v_, &got);
  if (st == nullptr || arena.overflowed())
    return Status::fail(Error::buffer_too_small, "training buffer overflowed while binding (%zu > %zu bytes)",
                        arena.used(), need.total);
  new (st) State(*st);  // begin the lifetime of the state object inside the arena
  for (std::size_t i = 0; i < layout_.total; ++i) params_[i] = grads_[i] = adam_m_[i] = adam_v_[i] = T(0);
  step_ = 0;
  pool_ = &serial_;
  state_ = st;
  return Status::ok();
}

template <class T>
void Trainer<T>::set_parallel(ParallelFor* pool) {
  pool_ = (pool != nullptr && pool->workers() <= cap_.workers) ? pool : &serial_;
}

template <class T>
void Trainer<T>::init_weights(Rng& rng) {
  const Weights<T> w = Weights<T>::bind(params_, layout_);
  for (std::size_t i = 0; i < layout_.total; ++i) params_[i] = adam_m_[i] = adam_v_[i] = T(0);
  const double scale = cfg_.init_scale;
  auto fill_normal = [&](Param p) {
    const ParamInfo& info = layout_[p];
    for (std::size_t i = 0; i < info.size(); ++i) params_[info.offset + i] = T(scale * normal(rng));
  };
  auto fill_uniform = [&](Param p, int fan_in) {
    const double bound = scale / std::sqrt(double(fan_in));
    const ParamInfo& info = layout_[p];
    for (std::size_t i = 0; i < info.size(); ++i)
      params_[info.offset + i] = T((2.0 * rng.uniform01_double() - 1.0) * bound);
  };
  fill_normal(Param::E);
  fill_uniform(Param::Wq, kDim);
  fill_uniform(Param::Wk, kDim);
  fill_uniform(Param::Wv, kDim);
  fill_uniform(Param::W1, kDim);
  fill_uniform(Param::b1, kDim);
  fill_uniform(Param::W2, kHidden);
  fill_uniform(Param::b2, kHidden);
  fill_uniform(Param::Wout, kDim);
  fill_uniform(Param::bout, kDim);
  for (int c = 0; c < kDim; ++c) w.ln1_gain[c] = w.ln2_gain[c] = w.lnf_gain[c] = T(1);
  if (w.rho) w.rho[0] = T(cfg_.model.alibi_rho);  // a setting, not a draw: the weights above stay as they were
  step_ = 0;
}

template <class T>
Status Trainer<T>::check_batch(const Batch& b) const {
  if (state_ == nullptr) return Status::fail(Error::not_initialized, "trainer used before a successful init()");
  if (b.tokens == nullptr || b.targets == nullptr)
    return Status::fail(Error::bad_config, "batch has no token or target array");
  if (b.batch < 1 || b.batch > cap_.max_batch)
    return Status::fail(Error::batch_too_large, "batch of %d sequences is outside the planned 1..%d", b.batch,
                        cap_.max_batch);
  if (b.len < 1 || b.len > cap_.max_len)
    return Status::fail(Error::sequence_too_long, "sequence length %d is outside the planned 1..%d", b.len,
                        cap_.max_len);
  const std::size_t count = std::size_t(b.batch) * std::size_t(b.len);
  for (std::size_t i = 0; i < count; ++i) {
    if (b.tokens[i] < 0 || b.tokens[i] >= cfg_.model.vocab_in)
      return Status::fail(Error::token_out_of_range, "token %d at sequence %zu position %zu is outside [0, %d)",
                          int(b.tokens[i]), i / std::size_t(b.len), i % std::size_t(b.len), cfg_.model.vocab_in);
    if (b.targets[i] < 0 || b.targets[i] >= cfg_.model.vocab_out)
      return Status::fail(Error::target_out_of_range, "target %d at sequence %zu position %zu is outside [0, %d)",
                          int(b.targets[i]), i / std::size_t(b.len), i % std::size_t(b.len), cfg_.model.vocab_out);
  }
  return Status::ok();
}

template <class T>
Status Trainer<T>::forward_backward(const Batch& batch, bool backward, LossTerms* loss, double* acc) {
  TINYLOOP_TRY(check_batch(batch));
  state_->last_len = batch.len;
  State& st = *state_;
  const auto w = Weights<const T>::bind(params_, layout_);
  const T q_exp = T(cfg_.loss.q);
  auto forward = [&](int b, int worker) {
    const std::size_t off = std::size_t(b) * std::size_t(batch.len);
    model::forward_sequence<T>(cfg_.model, w, batch.tokens + off, batch.targets + off, batch.len, q_exp, st.tapes[b],
                               st.scratch[worker], &st.sums[b]);
  };
  parallel_for(*pool_, batch.batch, forward);

  // Sums in sequence order, so the result does not depend on the thread count.
  const double B = batch.batch, n = batch.len, L = cfg_.model.loops;
  double ce = 0, kin = 0, pot = 0, ts = 0;
  long correct = 0, counted = 0;
  for (int b = 0; b < batch.batch; ++b) {
    const auto& s = state_->sums[b];
    ce += double(s.ce);
    kin += double(s.kinetic);
    pot += double(s.potential);
    ts += double(s.tsallis);
    correct += s.correct;
    counted += s.counted;
  }
  const LossConfig& lc = cfg_.loss;
  LossTerms terms;
  terms.ce = ce / (B * n);
  terms.kinetic = kin / (2.0 * L * B);
  terms.potential = pot / (L * B * n);
  terms.tsallis = ts / (L * B * n);
  const double eta = optim::scheduled_eta(lc, step_, cfg_.steps);
  terms.eta = eta;
  terms.entropy = std::fabs(terms.tsallis - eta);
  terms.total = terms.ce + double(lc.lambda_p) * terms.potential + double(lc.lambda_k) * terms.kinetic +
                double(lc.lambda_s) * terms.entropy;
  if (loss) *loss = terms;
  if (acc) *acc = counted > 0 ? double(correct) / double(counted) : 1.0;
  if (!backward) return Status::ok();

  const double rows = L * B * n;
  model::GradientScales<T> scales;
  scales.ce = T(1.0 / (B * n));
  scales.kinetic = T(double(lc.lambda_k) / (L * B));
  scales.potential = T(double(lc.lambda_p) / rows);
  scales.tsallis = T(double(lc.lambda_s) * loss::abs_slope(terms.tsallis, eta) / rows);
  const auto& wt = state_->transposed;
  kernels::transpose(w.Wq, kDim, kDim, wt.Wq);
  kernels::transpose(w.Wk, kDim, kDim, wt.Wk);
  kernels::transpose(w.Wv, kDim, kDim, wt.Wv);
  kernels::transpose(w.W1, kDim, kHidden, wt.W1);
  kernels::transpose(w.W2, kHidden, kDim, wt.W2);
  auto backward_one = [&](int b, int worker) {
    T* grad = st.seq_grads + std::size_t(b) * layout_.total;
    for (std::size_t i = 0; i < layout_.total; ++i) grad[i] = T(0);
    const auto g = Weights<T>::bind(grad, layout_);
    const std::size_t off = std::size_t(b) * std::size_t(batch.len);
    model::backward_sequence<T>(cfg_.model, w, wt, g, batch.tokens + off, batch.targets + off, batch.len, q_exp,
                                scales, st.tapes[b], st.scratch[worker]);
  };
  parallel_for(*pool_, batch.batch, backward_one);

  optim::sum_sequence_gradients(state_->seq_grads, batch.batch, layout_.total, grads_);
  return Status::ok();
}

template <class T>
Status Trainer<T>::compute_gradients(const Batch& batch, LossTerms* loss, double* token_accuracy) {
  return forward_backward(batch, true, loss, token_accuracy);
}

template <class T>
Status Trainer<T>::evaluate_loss(const Batch& batch, LossTerms* loss, double* token_accuracy) {
  return forward_backward(batch, false, loss, token_accuracy);
}

template <class T>
double Trainer<T>::learning_rate(std::int64_t step) const {
  return optim::scheduled_lr(cfg_.optim, step, cfg_.steps);
}

namespace {
const char* first_non_finite(const LossTerms& l) {
  if (!std::isfinite(l.ce)) return "cross-entropy";
  if (!std::isfinite(l.potential)) return "potential";
  if (!std::isfinite(l.kinetic)) return "kinetic";
  if (!std::isfinite(l.entropy)) return "tsallis entropy";
  if (!std::isfinite(l.total)) return "total loss";
  return nullptr;
}
}  // namespace

template <class T>
Status Trainer<T>::train_step(const Batch& batch, StepStats* stats) {
  StepStats out;
  TINYLOOP_TRY(compute_gradients(batch, &out.loss, &out.token_accuracy));
  const optim::UpdateResult r = optim::apply_update(cfg_.optim, step_, cfg_.steps, first_non_finite(out.loss), grads_,
                                                    params_, adam_m_, adam_v_, layout_.total);
  out.grad_norm = r.grad_norm;
  out.lr = r.lr;
  out.skipped = r.fault != nullptr;
  out.fault = r.fault ? r.fault : "";
  ++step_;
  if (stats) *stats = out;
  return Status::ok();
}

template <class T>
const T* Trainer<T>::logits(int b) const {
  if (state_ == nullptr || b < 0 || b >= cap_.max_batch) return nullptr;
  return state_->tapes[b].logits;
}

template <class T>
const T* Trainer<T>::attention(int b, int loop) const {
  if (state_ == nullptr || !state_->keep_p || b < 0 || b >= cap_.max_batch || loop < 1 || loop > cfg_.model.loops)
    return nullptr;
  const std::size_t n = std::size_t(state_->last_len);
  return state_->tapes[b].P + std::size_t(loop - 1) * n * n;
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace tinyloop
