// The optimiser: AdamW and global-norm clipping (adamw.hpp, here), the learning-rate and
// entropy schedules (schedule.hpp), the planned gradient and moment slots (gradient_slots.hpp).
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

namespace {

// The coefficients of one update, and the update of one element: both passes of
// adamw_update run exactly this code.
template <class T>
struct Update {
  T b1, b2, step_size, inv_sqrt_bc2, decay, eps, gs;

  Update(const OptimConfig& o, double lr, std::int64_t t, double grad_scale) {
    const double bc1 = 1.0 - std::pow(double(o.beta1), double(t));
    const double bc2 = 1.0 - std::pow(double(o.beta2), double(t));
    b1 = T(o.beta1);
    b2 = T(o.beta2);
    step_size = T(lr / bc1);
    inv_sqrt_bc2 = T(1.0 / std::sqrt(bc2));
    decay = T(1.0 - lr * double(o.weight_decay));
    eps = T(o.eps);
    gs = T(grad_scale);
  }

  // New parameter value; *m_out and *v_out receive the new moments.
  T element(T grad, T param, T m, T v, T* m_out, T* v_out) const {
    const T gi = grad * gs;
    const T p = param * decay;
    const T mi = b1 * m + (T(1) - b1) * gi;
    const T vi = b2 * v + (T(1) - b2) * gi * gi;
    *m_out = mi;
    *v_out = vi;
    return p - step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
  }
};

template <class T>
bool finite(T x) {
  return std::isfinite(x);
}

}  // namespace

template <class T>
bool adamw_update(const OptimConfig& o, double lr, std::int64_t t, double grad_scale, const T* grad, T* param,
                  T* m, T* v, std::size_t count) {
  const Update<T> u(o, lr, t, grad_scale);
  // Pass 1 writes nothing: an update that would leave a non-finite weight or moment (a
  // learning rate so large that the step overflows) is refused as a whole.
  bool ok = true;
  for (std::size_t i = 0; i < count; ++i) {
    T mi, vi;
    const T p = u.element(grad[i], param[i], m[i], v[i], &mi, &vi);
    ok &= finite(p) & finite(mi) & finite(vi);
  }
  if (!ok) return false;
  for (std::size_t i = 0; i < count; ++i) param[i] = u.element(grad[i], param[i], m[i], v[i], &m[i], &v[i]);
  return true;
}

template double global_norm<float>(const float*, std::size_t);
template double global_norm<double>(const double*, std::size_t);
template bool adamw_update<float>(const OptimConfig&, double, std::int64_t, double, const float*, float*, float*,
                                  float*, std::size_t);
template bool adamw_update<double>(const OptimConfig&, double, std::int64_t, double, const double*, double*,
                                   double*, double*, std::size_t);

}  // namespace tinyloop::optim
