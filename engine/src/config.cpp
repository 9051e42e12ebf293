#include "tinyloop/config.hpp"

#include <cmath>

namespace tinyloop {

TrainConfig preset_lam2026() {
  TrainConfig c;  // the defaults of every struct are the paper's recipe (SPEC §1-§3)
  sync_vocab_with_task(c);
  return c;
}

void sync_vocab_with_task(TrainConfig& cfg) {
  cfg.model.vocab_in = cfg.task.alphabet;
  cfg.model.vocab_out = cfg.task.alphabet + 1;
}

namespace {
bool finite(float x) { return std::isfinite(x); }
}  // namespace

// Upper bounds keep planned sizes far from overflow; they are generous for a d=8 model.
constexpr int kMaxLoops = 10000;
constexpr int kMaxVocab = 1 << 20;

Status validate(const ModelConfig& m) {
  if (m.loops < 1 || m.loops > kMaxLoops)
    return Status::fail(Error::bad_config, "loops must be in [1, %d], got %d", kMaxLoops, m.loops);
  if (m.vocab_in < 1 || m.vocab_in > kMaxVocab)
    return Status::fail(Error::bad_config, "vocab_in must be in [1, %d], got %d", kMaxVocab, m.vocab_in);
  if (m.vocab_out < 2 || m.vocab_out > kMaxVocab)
    return Status::fail(Error::bad_config, "vocab_out must be in [2, %d], got %d", kMaxVocab, m.vocab_out);
  if (static_cast<int>(m.positions) > static_cast<int>(PositionKind::rope))
    return Status::fail(Error::bad_config, "unknown position kind %d", int(m.positions));
  if (!finite(m.alibi_rho) || m.alibi_rho < -30.0f || m.alibi_rho > 30.0f)
    return Status::fail(Error::bad_config, "alibi rho must be in [-30, 30], got %g", double(m.alibi_rho));
  if (!(m.rope_base > 1.0f) || !finite(m.rope_base))
    return Status::fail(Error::bad_config, "rope base must be > 1, got %g", double(m.rope_base));
  if (m.loop != LoopKind::standard && m.loop != LoopKind::hamiltonian)
    return Status::fail(Error::bad_config, "unknown loop kind %d", int(m.loop));
  if (!finite(m.pe_scale) || !finite(m.mu) || !finite(m.alpha) || !finite(m.beta) || !finite(m.tau))
    return Status::fail(Error::bad_config, "model scalars (pe_scale, mu, alpha, beta, tau) must be finite");
  if (m.loop == LoopKind::hamiltonian && m.beta != 0.0f)
    return Status::fail(Error::unsupported,
                        "hamiltonian beta != 0 (free-energy gradient term) is not implemented; use beta 0");
  if (m.tau <= 0.0f) return Status::fail(Error::bad_config, "tau must be > 0, got %g", double(m.tau));
  return Status::ok();
}

Status validate(const LossConfig& l) {
  if (!finite(l.lambda_p) || !finite(l.lambda_k) || !finite(l.lambda_s) || !finite(l.q) || !finite(l.eta) ||
      !finite(l.eta_final))
    return Status::fail(Error::bad_config, "loss weights, q, eta and eta_final must be finite");
  if (l.eta_schedule != Schedule::constant && l.eta_schedule != Schedule::cosine)
    return Status::fail(Error::bad_config, "unknown eta schedule %d", int(l.eta_schedule));
  if (l.lambda_p < 0 || l.lambda_k < 0 || l.lambda_s < 0)
    return Status::fail(Error::bad_config, "lambda_p, lambda_k and lambda_s must be >= 0");
  if (l.q <= 0.0f || l.q == 1.0f)
    return Status::fail(Error::bad_config, "Tsallis q must be > 0 and != 1, got %g", double(l.q));
  return Status::ok();
}

Status validate(const OptimConfig& o) {
  if (!(o.lr > 0.0f) || !finite(o.lr)) return Status::fail(Error::bad_config, "lr must be > 0, got %g", double(o.lr));
  if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1))
    return Status::fail(Error::bad_config, "AdamW betas must be in [0, 1)");
  if (!(o.eps > 0) || !finite(o.eps)) return Status::fail(Error::bad_config, "AdamW eps must be > 0");
  if (!(o.weight_decay >= 0) || !finite(o.weight_decay))
    return Status::fail(Error::bad_config, "weight decay must be >= 0");
  if (!(o.clip_norm >= 0) || !finite(o.clip_norm))
    return Status::fail(Error::bad_config, "clip norm must be >= 0 (0 disables)");
  if (o.warmup_steps < 0) return Status::fail(Error::bad_config, "warmup steps must be >= 0");
  if (o.schedule != Schedule::constant && o.schedule != Schedule::cosine)
    return Status::fail(Error::bad_config, "unknown lr schedule %d", int(o.schedule));
  if (!(o.min_lr_ratio >= 0 && o.min_lr_ratio <= 1))
    return Status::fail(Error::bad_config, "min lr ratio must be in [0, 1]");
  return Status::ok();
}

Status validate(const TrainConfig& c) {
  TINYLOOP_TRY(validate(c.model));
  if (c.task.alphabet < 2 || c.task.alphabet > kMaxVocab - 1)
    return Status::fail(Error::bad_config, "alphabet must be >= 2, got %d", c.task.alphabet);
  if (c.task.hops < 1 || c.task.hops > 64)
    return Status::fail(Error::bad_config, "hops must be in [1, 64], got %d", c.task.hops);
  if (c.model.vocab_in != c.task.alphabet || c.model.vocab_out != c.task.alphabet + 1)
    return Status::fail(Error::bad_config, "vocab_in/vocab_out (%d/%d) must be alphabet/alphabet+1 (%d/%d)",
                        c.model.vocab_in, c.model.vocab_out, c.task.alphabet, c.task.alphabet + 1);
  TINYLOOP_TRY(validate(c.loss));
  TINYLOOP_TRY(validate(c.optim));
  if (!(c.init_scale > 0.0f) || !finite(c.init_scale))
    return Status::fail(Error::bad_config, "init scale must be > 0, got %g", double(c.init_scale));
  const CurriculumConfig& cu = c.curriculum;
  if (cu.min_len < 1 || cu.max_len < cu.min_len)
    return Status::fail(Error::bad_config, "curriculum needs 1 <= min_len <= max_len, got %d..%d", cu.min_len,
                        cu.max_len);
  if (!(cu.ramp >= 0 && cu.ramp <= 1)) return Status::fail(Error::bad_config, "curriculum ramp must be in [0, 1]");
  if (c.batch < 1) return Status::fail(Error::bad_config, "batch must be >= 1, got %d", c.batch);
  if (c.steps < 0) return Status::fail(Error::bad_config, "steps must be >= 0");
  return Status::ok();
}

}  // namespace tinyloop
