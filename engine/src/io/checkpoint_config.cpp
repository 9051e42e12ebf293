// The configuration block of a checkpoint (docs/CHECKPOINT.md): TrainConfig field by field,
// in the order and encoding of each format version.
#include "io/checkpoint_config.hpp"

namespace tinyloop::io {

void write_config(Writer& w, const TrainConfig& c, std::uint32_t version) {
  const ModelConfig& m = c.model;
  w.i32(m.loops);
  w.i32(m.vocab_in);
  w.i32(m.vocab_out);
  w.u32(static_cast<std::uint32_t>(m.positions));
  w.f32(m.pe_scale);
  w.u32(m.causal ? 1u : 0u);
  w.u32(static_cast<std::uint32_t>(m.loop));
  w.f32(m.mu);
  w.f32(m.alpha);
  w.f32(m.beta);
  w.f32(m.tau);
  const LossConfig& l = c.loss;
  w.f32(l.lambda_p);
  w.f32(l.lambda_k);
  w.f32(l.lambda_s);
  w.f32(l.q);
  w.f32(l.eta);
  const OptimConfig& o = c.optim;
  w.f32(o.lr);
  w.f32(o.beta1);
  w.f32(o.beta2);
  w.f32(o.eps);
  w.f32(o.weight_decay);
  w.f32(o.clip_norm);
  w.i32(o.warmup_steps);
  w.u32(static_cast<std::uint32_t>(o.schedule));
  w.f32(o.min_lr_ratio);
  w.i32(c.task.alphabet);
  w.i32(c.task.hops);
  w.i32(c.curriculum.min_len);
  w.i32(c.curriculum.max_len);
  w.f32(c.curriculum.ramp);
  w.i32(c.batch);
  w.i64(c.steps);
  w.u64(c.seed);
  if (version >= 2) {
    w.u32(static_cast<std::uint32_t>(l.eta_schedule));
    w.f32(l.eta_final);
    w.f32(c.init_scale);
  }
  if (version >= 3) {
    w.f32(m.alibi_rho);
    w.f32(m.rope_base);
  }
}

namespace {
// Enumerations and booleans are stored as u32; values that would not survive the narrowing
// to the in-memory type are rejected here, the rest by validate().
Status read_enum(std::uint32_t v, const char* field, std::uint8_t* out) {
  if (v > 0xFFu)
    return Status::fail(Error::bad_checkpoint, "invalid configuration: %s = %lu is not a known value", field,
                        static_cast<unsigned long>(v));
  *out = static_cast<std::uint8_t>(v);
  return Status::ok();
}
}  // namespace

Status read_config(Reader& r, std::uint32_t version, TrainConfig* out) {
  if (!r.has(config_bytes(version))) return truncated_at(r, "configuration block");
  TrainConfig c;
  ModelConfig& m = c.model;
  std::uint8_t e = 0;
  m.loops = r.i32();
  m.vocab_in = r.i32();
  m.vocab_out = r.i32();
  TINYLOOP_TRY(read_enum(r.u32(), "model.positions", &e));
  m.positions = static_cast<PositionKind>(e);
  m.pe_scale = r.f32();
  const std::uint32_t causal = r.u32();
  if (causal > 1)
    return Status::fail(Error::bad_checkpoint, "invalid configuration: model.causal = %lu is not 0 or 1",
                        static_cast<unsigned long>(causal));
  m.causal = causal == 1;
  TINYLOOP_TRY(read_enum(r.u32(), "model.loop", &e));
  m.loop = static_cast<LoopKind>(e);
  m.mu = r.f32();
  m.alpha = r.f32();
  m.beta = r.f32();
  m.tau = r.f32();
  LossConfig& l = c.loss;
  l.lambda_p = r.f32();
  l.lambda_k = r.f32();
  l.lambda_s = r.f32();
  l.q = r.f32();
  l.eta = r.f32();
  OptimConfig& o = c.optim;
  o.lr = r.f32();
  o.beta1 = r.f32();
  o.beta2 = r.f32();
  o.eps = r.f32();
  o.weight_decay = r.f32();
  o.clip_norm = r.f32();
  o.warmup_steps = r.i32();
  TINYLOOP_TRY(read_enum(r.u32(), "optim.schedule", &e));
  o.schedule = static_cast<Schedule>(e);
  o.min_lr_ratio = r.f32();
  c.task.alphabet = r.i32();
  c.task.hops = r.i32();
  c.curriculum.min_len = r.i32();
  c.curriculum.max_len = r.i32();
  c.curriculum.ramp = r.f32();
  c.batch = r.i32();
  c.steps = r.i64();
  c.seed = r.u64();
  if (version >= 2) {
    TINYLOOP_TRY(read_enum(r.u32(), "loss.eta_schedule", &e));
    l.eta_schedule = static_cast<Schedule>(e);
    l.eta_final = r.f32();
    c.init_scale = r.f32();
  }
  if (version >= 3) {
    m.alibi_rho = r.f32();
    m.rope_base = r.f32();
  }

  const Status v = validate(c);
  if (!v.is_ok()) return Status::fail(Error::bad_checkpoint, "invalid configuration: %s", v.message());
  *out = c;
  return Status::ok();
}

}  // namespace tinyloop::io
