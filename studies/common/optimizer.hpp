#pragma once
// The studies' optimizer: AdamW without weight decay, gradients clipped at 1, a linear warm-up
// over a tenth of the steps (at most max_warmup) and a cosine decay to 5% of the peak rate.
#include <algorithm>
#include <cstdint>

#include "tinyloop/config.hpp"

namespace tinyloop::study {

inline OptimConfig adamw_cosine(float lr, std::int64_t steps, std::int64_t max_warmup) {
  OptimConfig opt;
  opt.lr = lr;
  opt.weight_decay = 0.0f;
  opt.clip_norm = 1.0f;
  opt.warmup_steps = int(std::min<std::int64_t>(max_warmup, steps / 10));
  opt.schedule = Schedule::cosine;
  opt.min_lr_ratio = 0.05f;
  return opt;
}

}  // namespace tinyloop::study
