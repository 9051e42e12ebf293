#pragma once
// AdamW exactly as PyTorch's torch.optim.AdamW (decoupled weight decay applied first),
// and global-norm gradient clipping as torch.nn.utils.clip_grad_norm_.
#include <cstddef>
#include <cstdint>

#include "tinyloop/config.hpp"

namespace tinyloop::optim {

template <class T>
double global_norm(const T* g, std::size_t count);

// Scale factor clip_grad_norm_ applies: min(1, max_norm / (norm + 1e-6)); 1 when disabled.
double clip_factor(double norm, double max_norm);

// One AdamW update at 1-based step `t`, with the gradient multiplied by grad_scale. Returns
// false, with param, m and v untouched, when the update would leave any of them non-finite.
template <class T>
bool adamw_update(const OptimConfig& o, double lr, std::int64_t t, double grad_scale, const T* grad, T* param,
                  T* m, T* v, std::size_t count);

// Learning rate at 0-based step `step` of `total` (warm-up, then constant or cosine).
double scheduled_lr(const OptimConfig& o, std::int64_t step, std::int64_t total);

}  // namespace tinyloop::optim
