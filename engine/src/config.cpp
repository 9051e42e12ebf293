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
  cfg.model.out_dim = cfg.task.alphabet + 1;
  cfg.model.ignore_class = cfg.task.alphabet;  // NONE
}

namespace {
bool finite(float x) { return std::isfinite(x); }
// The model's vocabularies are bounded by validate(ModelSpec): 2^20 classes.
constexpr int kMaxAlphabet = (1 << 20) - 1;
}  // namespace

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
  if (!is_looped_block(c.model))
    return Status::fail(Error::unsupported,
                        "the training recipe runs the paper's looped block (width 8, one head, no output "
                        "projection); other shapes train through Model");
  if (c.task.alphabet < 2 || c.task.alphabet > kMaxAlphabet)
    return Status::fail(Error::bad_config, "alphabet must be in [2, %d], got %d", kMaxAlphabet, c.task.alphabet);
  if (c.task.hops < 1 || c.task.hops > 64)
    return Status::fail(Error::bad_config, "hops must be in [1, 64], got %d", c.task.hops);
  if (c.model.vocab_in != c.task.alphabet || c.model.out_dim != c.task.alphabet + 1 ||
      c.model.ignore_class != c.task.alphabet)
    return Status::fail(Error::bad_config,
                        "vocab_in/classes/NONE class (%d/%d/%d) must be alphabet/alphabet+1/alphabet (%d/%d/%d)",
                        c.model.vocab_in, c.model.out_dim, c.model.ignore_class, c.task.alphabet,
                        c.task.alphabet + 1, c.task.alphabet);
  TINYLOOP_TRY(validate(c.loss));
  const CurriculumConfig& cu = c.curriculum;
  if (cu.min_len < 1 || cu.max_len < cu.min_len)
    return Status::fail(Error::bad_config, "curriculum needs 1 <= min_len <= max_len, got %d..%d", cu.min_len,
                        cu.max_len);
  if (!(cu.ramp >= 0 && cu.ramp <= 1)) return Status::fail(Error::bad_config, "curriculum ramp must be in [0, 1]");
  return validate_shared(c);
}

Status validate_shared(const TrainConfig& c) {
  TINYLOOP_TRY(validate(c.optim));
  if (c.batch < 1) return Status::fail(Error::bad_config, "batch must be >= 1, got %d", c.batch);
  if (c.steps < 0) return Status::fail(Error::bad_config, "steps must be >= 0");
  return Status::ok();
}

}  // namespace tinyloop
