// The model (tinyloop/model.hpp): planner, initialisation, batch checks and the one training
// step of every shape. Per-sequence work runs as independent tasks on the d = 8 kernels
// (model/looped_block.hpp) or the generic ones (model/stack_sequence.hpp); their gradients are
// summed in sequence order, so results do not depend on the thread count.
#include <cmath>
#include <new>

#include "loss/attention_terms.hpp"
#include "model/looped_block.hpp"
#include "model/position_gates.hpp"
#include "model/stack_sequence.hpp"
#include "optim/adamw.hpp"
#include "optim/gradient_slots.hpp"
#include "tinyloop/model.hpp"

namespace tinyloop {

namespace {

// What every sequence reports, whichever kernels ran it.
struct SequenceTotals {
  double loss = 0;  // summed cross-entropy (or squared error) over the counted positions
  double kinetic = 0, potential = 0, tsallis = 0;  // sums (d = 8 kernels)
  long correct = 0, scored = 0;
};

// The d = 8 looped block's buffers (model/tape.hpp).
template <class T>
struct BlockBuffers {
  ModelSpec model;  // the block (is_looped_block)
  ParamLayout layout;
  model::Tape<T>* tapes;       // one per sequence (per_sequence), else one per worker
  model::Scratch<T>* scratch;  // one per worker
  T* logits;                   // max_batch x max_len x V_out when the tapes are per worker
  bool keep_p;
  bool per_sequence;
  std::size_t logits_per_sequence;

  // Sequence b's logits, wherever its tape is.
  T* logits_of(int b) const { return per_sequence ? tapes[b].logits : logits + std::size_t(b) * logits_per_sequence; }
  // The tape sequence b runs on: its own, or its worker's with the sequence's own logits.
  model::Tape<T> tape_for(int b, int worker) const {
    if (per_sequence) return tapes[b];
    model::Tape<T> t = tapes[worker];
    t.logits = logits_of(b);
    return t;
  }
};

// The generic kernels' buffers (model/stack_sequence.hpp).
template <class T>
struct StackBuffers {
  stack::Tape<T>* tapes;
  stack::Scratch<T>* scratch;
  stack::Gates<T> gates;  // position_gated attention: the batch's gates (model/position_gates.hpp)
  T* wt;  // the weights' matrices transposed, once per backward pass, when the kernels read them
};

}  // namespace

template <class T>
struct Model<T>::State {
  bool d8;  // the d = 8 kernels run this shape
  BlockBuffers<T> block;
  StackBuffers<T> stack;
  T* seq_grads;  // slots x param_count (optim/gradient_slots.hpp)
  int slots;
  SequenceTotals* totals;  // max_batch
  int last_len;
  int* lengths;  // max_batch: the positions each sequence of the last pass was computed at
  int tsallis_sign_guess;  // the d = 8 kernels' guess at the batch's Tsallis slope sign (run_block)
};

namespace {

// The d = 8 block keeps its attention probabilities unless they would exceed the budget. Its
// saved activations are per sequence with Capacity::keep_attention, else per worker.
template <class T>
void take_block_buffers(Arena& a, const ModelSpec& c, const Capacity& cap, bool keep_p,
                        BlockBuffers<T>* out, MemoryPlan* plan, std::size_t* bookkeeping) {
  const ModelSpec& m = c;
  const bool per_sequence = cap.keep_attention;
  const std::size_t tapes_count = std::size_t(per_sequence ? cap.max_batch : cap.workers);
  std::size_t mark = a.used();
  auto* tapes = a.take<model::Tape<T>>(tapes_count);
  auto* scratch = a.take<model::Scratch<T>>(std::size_t(cap.workers));
  *bookkeeping += a.used() - mark;
  mark = a.used();
  const auto tables = model::PositionTables<T>::take(a, m, cap.max_len);
  if (tapes) tables.fill(m, cap.max_len);
  for (std::size_t b = 0; b < tapes_count; ++b) {
    auto tape = model::Tape<T>::take(a, m.layers, cap.max_len, m.out_dim, keep_p);
    tape.sinusoids = tables.sinusoids;
    tape.rope = tables.rope;
    tape.rope_stride = tables.stride;
    if (tapes) tapes[b] = tape;
  }
  const std::size_t logits_per_sequence = std::size_t(cap.max_len) * std::size_t(m.out_dim);
  T* logits = per_sequence ? nullptr : a.take<T>(std::size_t(cap.max_batch) * logits_per_sequence);
  plan->activations = a.used() - mark;
  mark = a.used();
  for (int w = 0; w < cap.workers; ++w) {
    auto s = model::Scratch<T>::take(a, cap.max_len, m.out_dim);
    if (scratch) scratch[w] = s;
  }
  plan->scratch = a.used() - mark;
  plan->recompute_attention = !keep_p;
  plan->activations_per_sequence = per_sequence;
  if (out)
    *out = BlockBuffers<T>{m, ParamLayout::make(m), tapes, scratch, logits, keep_p, per_sequence, logits_per_sequence};
}

template <class T>
void take_stack_buffers(Arena& a, const ModelSpec& c, const Capacity& cap, std::size_t param_count,
                        StackBuffers<T>* out, MemoryPlan* plan, std::size_t* bookkeeping) {
  const stack::Dims dims = stack::Dims::of(c, cap.max_len);
  const std::size_t B = std::size_t(cap.max_batch);
  std::size_t mark = a.used();
  auto* tapes = a.take<stack::Tape<T>>(B);
  auto* scratch = a.take<stack::Scratch<T>>(std::size_t(cap.workers));
  *bookkeeping += a.used() - mark;
  mark = a.used();
  for (std::size_t b = 0; b < B; ++b) {
    auto t = stack::take_tape<T>(a, c, dims);
    if (tapes) tapes[b] = t;
  }
  const stack::Gates<T> gates = stack::take_gates<T>(a, c, dims);
  plan->activations = a.used() - mark;
  mark = a.used();
  for (int w = 0; w < cap.workers; ++w) {
    auto s = stack::take_scratch<T>(a, c, dims);
    if (scratch) scratch[w] = s;
  }
  T* wt = kernels::generic::Ops<T>::kReadsTransposed ? a.take<T>(param_count) : nullptr;
  plan->scratch = a.used() - mark;
  if (out) *out = StackBuffers<T>{tapes, scratch, gates, wt};
}

// Lays out everything in `a` (a dry run when its base is null). Returns the state.
template <class T>
typename Model<T>::State* bind(Arena& a, const ModelSpec& c, const Capacity& cap,
                                     const ModelLayout& layout, bool keep_p, T** params, T** grads, T** m, T** v,
                                     MemoryPlan* plan) {
  using State = typename Model<T>::State;
  const std::size_t B = std::size_t(cap.max_batch);
  const optim::ParameterBlocks<T> blocks = optim::take_parameter_blocks<T>(a, layout.total, B, plan);
  *params = blocks.params;
  *grads = blocks.grads;
  *m = blocks.m;
  *v = blocks.v;
  const std::size_t mark = a.used();
  State* st = a.take<State>(1);
  auto* totals = a.take<SequenceTotals>(B);
  int* lengths = a.take<int>(B);
  if (lengths)
    for (std::size_t b = 0; b < B; ++b) lengths[b] = 0;  // no pass yet
  std::size_t bookkeeping = a.used() - mark;
  State local{};
  local.d8 = runs_d8_kernels(c);
  if (local.d8) take_block_buffers<T>(a, c, cap, keep_p, st ? &local.block : nullptr, plan, &bookkeeping);
  else take_stack_buffers<T>(a, c, cap, layout.total, st ? &local.stack : nullptr, plan, &bookkeeping);
  plan->scratch += bookkeeping;
  plan->total = a.used() + Arena::slack();
  local.seq_grads = blocks.seq_grads;
  local.slots = blocks.slots;
  local.totals = totals;
  local.lengths = lengths;
  local.tsallis_sign_guess = 1;  // the entropy is above a target of 0 unless attention is one-hot
  if (st) new (st) State(local);  // begin the lifetime of the state object inside the arena
  return st;
}

template <class T>
MemoryPlan measure(const ModelSpec& c, const Capacity& cap, bool keep_p) {
  Arena dry;
  MemoryPlan plan;
  T *p, *g, *m, *v;
  bind<T>(dry, c, cap, ModelLayout::make(c), keep_p, &p, &g, &m, &v, &plan);
  return plan;
}

constexpr std::size_t kMaxTokens = std::size_t(1) << 24;

Status check_capacity(const ModelSpec& c, const Capacity& cap) {
  TINYLOOP_TRY(validate(c));
  if (cap.max_len < 1 || cap.max_batch < 1 || cap.workers < 1 || cap.workers > 1024)
    return Status::fail(Error::bad_config, "capacity needs max_len, max_batch and workers >= 1 (got %d, %d, %d)",
                        cap.max_len, cap.max_batch, cap.workers);
  if (std::size_t(cap.max_len) * std::size_t(cap.max_batch) > kMaxTokens)
    return Status::fail(Error::bad_config, "capacity of %d x %d tokens is beyond the supported %zu", cap.max_batch,
                        cap.max_len, kMaxTokens);
  if (c.positions == Positions::learned && cap.max_len > c.max_len)
    return Status::fail(Error::bad_config, "capacity length %d exceeds the %d learned positions", cap.max_len,
                        c.max_len);
  return Status::ok();
}

Status check_objective(const ModelSpec& c, const OptimConfig& optim, const LossConfig& loss) {
  TINYLOOP_TRY(validate(optim));
  TINYLOOP_TRY(validate(loss));
  const bool energy = loss.lambda_p != 0.0f || loss.lambda_k != 0.0f || loss.lambda_s != 0.0f;
  if (energy && !runs_d8_kernels(c))
    return Status::fail(Error::unsupported,
                        "the energy-entropy terms run on the d = 8 looped block only (width 8, one head, looped)");
  return Status::ok();
}

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
MemoryPlan Model<T>::plan(const ModelSpec& cfg, const Capacity& cap) {
  if (!check_capacity(cfg, cap)) return MemoryPlan{};
  const MemoryPlan keep = measure<T>(cfg, cap, true);
  if (!runs_d8_kernels(cfg) || keep.activations <= cap.activation_budget) return keep;
  return measure<T>(cfg, cap, false);
}

template <class T>
Status Model<T>::init(const ModelSpec& cfg, const OptimConfig& optim, const Capacity& cap,
                            void* buffer, std::size_t bytes) {
  return init(cfg, optim, cross_entropy_only(), 0, cap, buffer, bytes);
}

template <class T>
Status Model<T>::init(const ModelSpec& cfg, const OptimConfig& optim, const LossConfig& loss,
                            std::int64_t total_steps, const Capacity& cap, void* buffer, std::size_t bytes) {
  state_ = nullptr;
  TINYLOOP_TRY(check_capacity(cfg, cap));
  TINYLOOP_TRY(check_objective(cfg, optim, loss));
  const MemoryPlan need = plan(cfg, cap);
  Arena arena;
  TINYLOOP_TRY(open_planned_arena(buffer, bytes, need.total, "model", &arena));
  cfg_ = cfg;
  optim_ = optim;
  loss_ = loss;
  total_steps_ = total_steps;
  cap_ = cap;
  layout_ = ModelLayout::make(cfg);
  MemoryPlan got;
  State* st = bind<T>(arena, cfg, cap, layout_, !need.recompute_attention, &params_, &grads_, &adam_m_, &adam_v_,
                      &got);
  if (st == nullptr || arena.overflowed())
    return Status::fail(Error::buffer_too_small, "model buffer overflowed while binding (%zu > %zu bytes)",
                        arena.used(), need.total);
  for (std::size_t i = 0; i < layout_.total; ++i) params_[i] = grads_[i] = adam_m_[i] = adam_v_[i] = T(0);
  step_ = 0;
  state_ = st;
  pool_ = &serial_;
  return Status::ok();
}

template <class T>
void Model<T>::set_parallel(ParallelFor* pool) {
  pool_ = (pool != nullptr && pool->workers() <= cap_.workers) ? pool : &serial_;
}

template <class T>
Status Model<T>::check(const ModelBatch<T>& b) const {
  if (state_ == nullptr) return Status::fail(Error::not_initialized, "model used before a successful init()");
  if (b.batch < 1 || b.batch > cap_.max_batch)
    return Status::fail(Error::batch_too_large, "batch of %d sequences is outside the planned 1..%d", b.batch,
                        cap_.max_batch);
  if (b.len < 1 || b.len > cap_.max_len)
    return Status::fail(Error::sequence_too_long, "sequence length %d is outside the planned 1..%d", b.len,
                        cap_.max_len);
  const std::size_t count = std::size_t(b.batch) * std::size_t(b.len), n = std::size_t(b.len);
  if (cfg_.input == InputKind::tokens) {
    if (b.tokens == nullptr) return Status::fail(Error::bad_config, "batch has no token array");
    for (std::size_t i = 0; i < count; ++i)
      if (b.tokens[i] < 0 || b.tokens[i] >= cfg_.vocab_in)
        return Status::fail(Error::token_out_of_range, "token %d at sequence %zu position %zu is outside [0, %d)",
                            int(b.tokens[i]), i / n, i % n, cfg_.vocab_in);
  } else if (b.inputs == nullptr) {
    return Status::fail(Error::bad_config, "vector model given no input vectors");
  }
  if (cfg_.output == OutputKind::classes) {
    if (b.labels == nullptr) return Status::fail(Error::bad_config, "batch has no target array");
    for (std::size_t i = 0; i < count; ++i)
      if (b.labels[i] >= cfg_.out_dim)
        return Status::fail(Error::target_out_of_range, "target %d at sequence %zu position %zu is outside [0, %d)",
                            int(b.labels[i]), i / n, i % n, cfg_.out_dim);
  } else if (b.targets == nullptr) {
    return Status::fail(Error::bad_config, "regression model given no targets");
  }
  if (b.lengths) {
    if (!cfg_.causal && (state_->d8 || cfg_.position_gated()))
      return Status::fail(Error::bad_config,
                          "per-sequence lengths need causal attention here (the d = 8 block and position-gated "
                          "attention compute the padding, which non-causal attention would read)");
    for (int s = 0; s < b.batch; ++s) {
      const int m = b.lengths[s];
      if (m < 1 || m > b.len)
        return Status::fail(Error::sequence_too_long, "sequence %d has length %d, outside the batch's 1..%d", s, m,
                            b.len);
      for (std::size_t i = std::size_t(s) * n + std::size_t(m); i < std::size_t(s + 1) * n; ++i)
        if (stack::counted(b, i))
          return Status::fail(Error::bad_config, "sequence %d counts position %zu, past its length %d", s, i % n, m);
    }
  }
  return Status::ok();
}

namespace {

// Forward (and backward) of every sequence on the d = 8 kernels. The Tsallis term's gradient
// scale carries the sign of (the batch's mean entropy - eta), known only once every forward has
// run. With per-sequence activations, every forward runs before any backward. With per-worker
// activations, each sequence's forward and backward run back to back, the scale taken from the
// previous batch's sign; in the rare batch where that guess is wrong, every sequence runs again
// with the right one. Either way each gradient is computed with the batch's own sign, so the
// result does not depend on the guess, only the time does.
template <class T>
LossTerms run_block(typename Model<T>::State& st, const ModelSpec& c, const LossConfig& lc, double eta,
                    const T* params, std::size_t param_count, const ModelBatch<T>& batch, long count,
                    bool backward, ParallelFor& pool) {
  BlockBuffers<T>& bb = st.block;
  const auto w = Weights<const T>::bind(params, bb.layout);
  const T q_exp = T(lc.q);
  const double B = batch.batch, n = batch.len, L = c.layers, rows = L * B * n;
  auto targets_of = [&](int b) {
    const std::size_t off = std::size_t(b) * std::size_t(batch.len);
    return model::Targets{batch.labels + off, batch.mask ? batch.mask + off : nullptr, c.ignore_class};
  };
  auto forward = [&](int b, int worker) {
    const std::size_t off = std::size_t(b) * std::size_t(batch.len);
    model::SequenceSums<T> sums;
    model::forward_sequence<T>(bb.model, w, batch.tokens + off, targets_of(b), batch.len, q_exp,
                               bb.tape_for(b, worker), bb.scratch[worker], &sums);
    st.totals[b] = SequenceTotals{double(sums.ce), double(sums.kinetic), double(sums.potential),
                                  double(sums.tsallis), sums.correct, sums.scored};
  };
  model::GradientScales<T> scales;
  scales.ce = T(count > 0 ? 1.0 / double(count) : 0.0);
  scales.kinetic = T(double(lc.lambda_k) / (L * B));
  scales.potential = T(double(lc.lambda_p) / rows);
  auto set_tsallis_sign = [&](int sign) { scales.tsallis = T(double(lc.lambda_s) * double(sign) / rows); };
  // One task per gradient slot: its sequences' backward passes (after each one's forward when
  // fused) summed in order into the slot.
  const int slots = optim::slots_in_use(st.slots, batch.batch);
  auto backward_slot = [&](int s, int worker, bool with_forward) {
    T* grad = st.seq_grads + std::size_t(s) * param_count;
    for (std::size_t i = 0; i < param_count; ++i) grad[i] = T(0);
    const auto g = Weights<T>::bind(grad, bb.layout);
    const optim::SlotSequences r = optim::slot_sequences(s, st.slots, batch.batch);
    for (int b = r.begin; b < r.end; ++b) {
      if (with_forward) forward(b, worker);
      const std::size_t off = std::size_t(b) * std::size_t(batch.len);
      model::backward_sequence<T>(bb.model, w, g, batch.tokens + off, targets_of(b), batch.len, q_exp, scales,
                                  bb.tape_for(b, worker), bb.scratch[worker]);
    }
  };
  auto backward_only = [&](int s, int worker) { backward_slot(s, worker, false); };
  auto forward_backward = [&](int s, int worker) { backward_slot(s, worker, true); };
  const bool fused = backward && !bb.per_sequence;
  if (fused) {
    set_tsallis_sign(st.tsallis_sign_guess);
    parallel_for(pool, slots, forward_backward);
  } else {
    parallel_for(pool, batch.batch, forward);
  }

  double ce = 0, kin = 0, pot = 0, ts = 0;
  for (int b = 0; b < batch.batch; ++b) {  // in sequence order, whatever the thread count
    ce += st.totals[b].loss;
    kin += st.totals[b].kinetic;
    pot += st.totals[b].potential;
    ts += st.totals[b].tsallis;
  }
  LossTerms terms;
  terms.ce = count > 0 ? ce / double(count) : 0.0;
  terms.kinetic = kin / (2.0 * L * B);
  terms.potential = pot / rows;
  terms.tsallis = ts / rows;
  terms.eta = eta;
  terms.entropy = std::fabs(terms.tsallis - eta);
  terms.total = terms.ce + double(lc.lambda_p) * terms.potential + double(lc.lambda_k) * terms.kinetic +
                double(lc.lambda_s) * terms.entropy;
  if (!backward) return terms;

  const int sign = int(loss::abs_slope(terms.tsallis, eta));
  if (!fused) {
    set_tsallis_sign(sign);
    parallel_for(pool, slots, backward_only);
  } else if (sign != st.tsallis_sign_guess && lc.lambda_s != 0.0f) {
    st.tsallis_sign_guess = sign;
    set_tsallis_sign(sign);
    parallel_for(pool, slots, forward_backward);
  }
  return terms;
}

// The generic kernels' attention score scale: attn_scale, or 1 / sqrt(head width).
template <class T>
T score_scale(const ModelSpec& c) {
  return T(c.attn_scale > 0 ? double(c.attn_scale) : 1.0 / std::sqrt(double(c.head_width())));
}

// Forward (and backward) of every sequence on the generic kernels: the batch's position gates
// first (position_gated attention), then one task per gradient slot, its sequences in order.
template <class T>
LossTerms run_stack(typename Model<T>::State& st, const ModelSpec& c, const ModelLayout& layout,
                    const T* params, const ModelBatch<T>& batch, long count, bool backward, ParallelFor& pool) {
  const T inv_count = T(count > 0 ? 1.0 / double(count) : 0.0);
  const T scale = score_scale<T>(c);
  stack::gates_forward(st.stack.gates, c, layout, params, batch.len, scale);
  const T* wt = backward ? st.stack.wt : nullptr;
  if (wt) stack::transpose_weights(layout, params, st.stack.wt);
  auto one_slot = [&](int s, int worker) {
    T* G = backward ? st.seq_grads + std::size_t(s) * layout.total : nullptr;
    if (G) stack::zero(G, layout.total);
    const optim::SlotSequences r = optim::slot_sequences(s, st.slots, batch.batch);
    for (int b = r.begin; b < r.end; ++b) {
      const stack::Sequence<T> q{c, layout, batch, st.stack.tapes[b], st.stack.scratch[worker], params, wt, G,
                                 st.lengths[b], std::size_t(b) * std::size_t(batch.len), scale, st.stack.gates.S};
      SequenceTotals& t = st.totals[b];
      t = SequenceTotals{};
      stack::run_sequence(q, inv_count, &t.loss, &t.correct, &t.scored);
    }
  };
  parallel_for(pool, optim::slots_in_use(st.slots, batch.batch), one_slot);
  double loss = 0;
  for (int b = 0; b < batch.batch; ++b) loss += st.totals[b].loss;
  LossTerms terms;
  terms.ce = terms.total = count > 0 ? loss / double(count) : 0.0;
  return terms;
}

}  // namespace

template <class T>
Status Model<T>::pass(const ModelBatch<T>& b, bool backward, ModelStats* stats) {
  TINYLOOP_TRY(check(b));
  state_->last_len = b.len;
  const bool skips_padding = !state_->d8 && !cfg_.position_gated();
  for (int s = 0; s < b.batch; ++s) state_->lengths[s] = b.lengths && skips_padding ? b.lengths[s] : b.len;
  long count = 0;
  const std::size_t total = std::size_t(b.batch) * std::size_t(b.len);
  for (std::size_t i = 0; i < total; ++i) count += stack::counted(b, i) ? 1 : 0;
  const double eta = optim::scheduled_eta(loss_, step_, total_steps_);
  ModelStats out;
  out.terms = state_->d8 ? run_block<T>(*state_, cfg_, loss_, eta, params_, layout_.total, b, count, backward, *pool_)
                         : run_stack<T>(*state_, cfg_, layout_, params_, b, count, backward, *pool_);
  long correct = 0, scored = 0;
  for (int s = 0; s < b.batch; ++s) {
    correct += state_->totals[s].correct;
    scored += state_->totals[s].scored;
  }
  out.counted = count;
  out.loss = out.terms.total;
  out.accuracy = scored > 0 ? double(correct) / double(scored) : 1.0;
  if (backward) {
    optim::sum_gradient_slots(state_->seq_grads, optim::slots_in_use(state_->slots, b.batch), layout_.total, grads_);
    if (!state_->d8)  // the gates are the batch's, not a sequence's: their gradient joins the sum
      stack::gates_backward(state_->stack.gates, cfg_, layout_, params_, state_->stack.wt, state_->stack.tapes,
                            b.batch, b.len, score_scale<T>(cfg_), grads_, *pool_);
  }
  if (stats) *stats = out;
  return Status::ok();
}

template <class T>
Status Model<T>::compute_gradients(const ModelBatch<T>& b, ModelStats* stats) {
  return pass(b, true, stats);
}

template <class T>
Status Model<T>::evaluate(const ModelBatch<T>& b, ModelStats* stats) {
  return pass(b, false, stats);
}

template <class T>
Status Model<T>::train_step(const ModelBatch<T>& b, std::int64_t total_steps, ModelStats* stats) {
  total_steps_ = total_steps;
  ModelStats out;
  TINYLOOP_TRY(pass(b, true, &out));
  const optim::UpdateResult r = optim::apply_update(optim_, step_, total_steps, first_non_finite(out.terms), grads_,
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
int Model<T>::length(int b) const {
  if (state_ == nullptr || b < 0 || b >= cap_.max_batch) return 0;
  return state_->lengths[b];
}

template <class T>
const T* Model<T>::outputs(int b) const {
  if (state_ == nullptr || b < 0 || b >= cap_.max_batch) return nullptr;
  if (!state_->d8) return state_->stack.tapes[b].out;
  return state_->block.logits_of(b);
}

template <class T>
const T* Model<T>::attention(int b, int layer, int head) const {
  if (state_ == nullptr || b < 0 || b >= cap_.max_batch || layer < 0 || layer >= cfg_.layers || head < 0 ||
      head >= cfg_.heads)
    return nullptr;
  const std::size_t n = std::size_t(state_->lengths[b]);
  if (state_->d8) {
    if (!state_->block.keep_p || !state_->block.per_sequence) return nullptr;
    return state_->block.tapes[b].P + std::size_t(layer) * n * n;
  }
  return state_->stack.tapes[b].P + (std::size_t(layer) * cfg_.heads + head) * n * n;
}

template <class T>
const T* Model<T>::position_gate(int layer, int head) const {
  if (state_ == nullptr || state_->d8 || state_->stack.gates.S == nullptr || layer < 0 || layer >= cfg_.layers ||
      head < 0 || head >= cfg_.heads)
    return nullptr;
  const std::size_t n = std::size_t(state_->last_len), block = cfg_.looped ? 0 : std::size_t(layer);
  return state_->stack.gates.S + (block * cfg_.heads + head) * n * n;
}

template class Model<float>;
template class Model<double>;

}  // namespace tinyloop
