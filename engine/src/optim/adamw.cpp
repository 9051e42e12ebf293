#include "optim/adamw.hpp"

#include <cmath>

namespace tinyloop::optim {

template <class T>
double global_norm(const T* g, std::size_t count) {
  double s = 0;
  for (std::size_t i = 0; i < count; ++i) s += double(g[i]) * double(g[i]);
  return std::sqrt(s);
}

double clip_factor(double norm, double max_norm) {
  if (max_norm <= 0) return 1.0;
  const double f = max_norm / (norm + 1e-6);
  return f < 1.0 ? f : 1.0;
}

template <class T>
void adamw_update(const OptimConfig& o, double lr, std::int64_t t, double grad_scale, const T* grad, T* param,
                  T* m, T* v, std::size_t count) {
  const T b1 = T(o.beta1), b2 = T(o.beta2);
  const double bc1 = 1.0 - std::pow(double(o.beta1), double(t));
  const double bc2 = 1.0 - std::pow(double(o.beta2), double(t));
  const T step_size = T(lr / bc1);
  const T inv_sqrt_bc2 = T(1.0 / std::sqrt(bc2));
  const T decay = T(1.0 - lr * double(o.weight_decay));
  const T eps = T(o.eps), gs = T(grad_scale);
  for (std::size_t i = 0; i < count; ++i) {
    const T gi = grad[i] * gs;
    param[i] *= decay;
    m[i] = b1 * m[i] + (T(1) - b1) * gi;
    v[i] = b2 * v[i] + (T(1) - b2) * gi * gi;
    param[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
  }
}

double scheduled_lr(const OptimConfig& o, std::int64_t step, std::int64_t total) {
  const double base = o.lr;
  if (o.warmup_steps > 0 && step < o.warmup_steps) return base * double(step + 1) / double(o.warmup_steps);
  if (o.schedule == Schedule::cosine && total > o.warmup_steps) {
    double progress = double(step - o.warmup_steps) / double(total - o.warmup_steps);
    progress = progress < 0 ? 0 : (progress > 1 ? 1 : progress);
    const double floor = o.min_lr_ratio;
    return base * (floor + (1.0 - floor) * 0.5 * (1.0 + std::cos(3.14159265358979323846 * progress)));
  }
  return base;
}

template double global_norm<float>(const float*, std::size_t);
template double global_norm<double>(const double*, std::size_t);
template void adamw_update<float>(const OptimConfig&, double, std::int64_t, double, const float*, float*, float*,
                                  float*, std::size_t);
template void adamw_update<double>(const OptimConfig&, double, std::int64_t, double, const double*, double*,
                                   double*, double*, std::size_t);

}  // namespace tinyloop::optim
