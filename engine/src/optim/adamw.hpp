#pragma once
// AdamW exactly as PyTorch's torch.optim.AdamW (decoupled weight decay applied first),
// and global-norm gradient clipping as torch.nn.utils.clip_grad_norm_.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "optim/schedule.hpp"
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

struct UpdateResult {
  double grad_norm = 0;        // before clipping
  double lr = 0;
  const char* fault = nullptr;  // why the weights were left untouched; nullptr when updated
};

// The update half of every training step, at 0-based step `step` of `total`: the gradient's
// global norm, the scheduled rate, then clipping and AdamW, unless the loss already failed
// (`loss_fault`, the broken term's name) or the gradient or the update is not finite.
template <class T>
UpdateResult apply_update(const OptimConfig& o, std::int64_t step, std::int64_t total, const char* loss_fault,
                          const T* grads, T* params, T* m, T* v, std::size_t count) {
  UpdateResult r;
  r.grad_norm = global_norm(grads, count);
  r.lr = scheduled_lr(o, step, total);
  r.fault = loss_fault;
  if (r.fault == nullptr && !std::isfinite(r.grad_norm)) r.fault = "gradient";
  if (r.fault == nullptr &&
      !adamw_update(o, r.lr, step + 1, clip_factor(r.grad_norm, o.clip_norm), grads, params, m, v, count))
    r.fault = "weight update";
  return r;
}

}  // namespace tinyloop::optim
