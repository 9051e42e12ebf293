#pragma once
// Values that follow the training step: the learning rate (SPEC §3 option: warm-up, cosine
// decay) and the Tsallis entropy target eta (the entropy schedule: high early, low late).
#include <cmath>
#include <cstdint>

#include "tinyloop/config.hpp"

namespace tinyloop::optim {

// Half a cosine from `start` (progress 0) to `end` (progress 1); progress is clamped to [0, 1].
inline double cosine_between(double start, double end, double progress) {
  progress = progress < 0 ? 0 : (progress > 1 ? 1 : progress);
  return end + (start - end) * 0.5 * (1.0 + std::cos(3.14159265358979323846 * progress));
}

// Learning rate at 0-based step `step` of `total` (warm-up, then constant or cosine).
inline double scheduled_lr(const OptimConfig& o, std::int64_t step, std::int64_t total) {
  const double base = o.lr;
  if (o.warmup_steps > 0 && step < o.warmup_steps) return base * double(step + 1) / double(o.warmup_steps);
  if (o.schedule == Schedule::cosine && total > o.warmup_steps)
    return cosine_between(base, base * double(o.min_lr_ratio),
                          double(step - o.warmup_steps) / double(total - o.warmup_steps));
  return base;
}

// Tsallis entropy target at 0-based step `step` of `total`: eta throughout (the paper's), or a
// cosine from eta at the first step to eta_final at the last.
inline double scheduled_eta(const LossConfig& l, std::int64_t step, std::int64_t total) {
  if (l.eta_schedule == Schedule::cosine && total > 1)
    return cosine_between(double(l.eta), double(l.eta_final), double(step) / double(total - 1));
  return double(l.eta);
}

}  // namespace tinyloop::optim
