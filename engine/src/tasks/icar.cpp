#include "tinyloop/icar.hpp"

#include <cmath>

namespace tinyloop::icar {

namespace {
constexpr double kTwoPi = 6.28318530717958647692;
}

Status validate(const IcarTask& t) {
  if (t.p < 2 || t.p > kMaxP || (t.p % 2 != 0 && t.setting != Setting::haar))
    return Status::fail(Error::bad_config, "p must be in [2, %d] and even outside the Haar setting, got %d", kMaxP,
                        t.p);
  if (t.n < 3 || t.n > (1 << 16)) return Status::fail(Error::bad_config, "n must be in [3, 65536], got %d", t.n);
  if (t.setting != Setting::commuting && t.setting != Setting::noncommuting && t.setting != Setting::haar)
    return Status::fail(Error::bad_config, "unknown setting %d", int(t.setting));
  return Status::ok();
}

void random_orthogonal(Rng& rng, int p, double* Q) {
  for (int i = 0; i < p * p; ++i) Q[i] = normal(rng);
  // Gram-Schmidt on the rows (twice, for numerical orthogonality).
  for (int pass = 0; pass < 2; ++pass)
    for (int r = 0; r < p; ++r) {
      double* q = Q + r * p;
      for (int k = 0; k < r; ++k) {
        const double* b = Q + k * p;
        double dot = 0;
        for (int c = 0; c < p; ++c) dot += q[c] * b[c];
        for (int c = 0; c < p; ++c) q[c] -= dot * b[c];
      }
      double norm = 0;
      for (int c = 0; c < p; ++c) norm += q[c] * q[c];
      norm = std::sqrt(norm);
      for (int c = 0; c < p; ++c) q[c] /= norm;
    }
}

void init_task(IcarTask* task, Rng& rng) { random_orthogonal(rng, task->p, task->Q); }

void draw_transition(const IcarTask& task, Rng& rng, double* W) {
  const int p = task.p;
  if (task.setting == Setting::haar) {
    random_orthogonal(rng, p, W);
    return;
  }
  double Qs[kMaxP * kMaxP];
  const double* Q = task.Q;
  if (task.setting == Setting::noncommuting) {
    random_orthogonal(rng, p, Qs);
    Q = Qs;
  }
  // D = diag of 2x2 rotations; W = Q D Q^T.
  double D[kMaxP * kMaxP] = {};
  for (int k = 0; k < p / 2; ++k) {
    const double th = kTwoPi * rng.uniform01_double(), c = std::cos(th), s = std::sin(th);
    D[(2 * k) * p + 2 * k] = c;
    D[(2 * k) * p + 2 * k + 1] = -s;
    D[(2 * k + 1) * p + 2 * k] = s;
    D[(2 * k + 1) * p + 2 * k + 1] = c;
  }
  double QD[kMaxP * kMaxP];
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j) {
      double s = 0;
      for (int k = 0; k < p; ++k) s += Q[i * p + k] * D[k * p + j];
      QD[i * p + j] = s;
    }
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j) {
      double s = 0;
      for (int k = 0; k < p; ++k) s += QD[i * p + k] * Q[j * p + k];
      W[i * p + j] = s;
    }
}

template <class T>
void icar_batch(const IcarTask& task, Rng& rng, int B, T* states, T* inputs, T* targets, std::uint8_t* mask) {
  const int p = task.p, n = task.n;
  double W[kMaxP * kMaxP], s[kMaxP], next[kMaxP], prev[kMaxP];
  for (int b = 0; b < B; ++b) {
    draw_transition(task, rng, W);
    double norm = 0;
    for (int c = 0; c < p; ++c) {
      s[c] = task.fixed_start ? 1.0 : normal(rng);
      norm += s[c] * s[c];
    }
    norm = std::sqrt(norm);
    for (int c = 0; c < p; ++c) { s[c] /= norm; prev[c] = 0; }
    for (int i = 0; i < n; ++i) {
      for (int r = 0; r < p; ++r) {
        double v = 0;
        for (int c = 0; c < p; ++c) v += W[r * p + c] * s[c];
        next[r] = v;
      }
      const std::size_t pos = std::size_t(b) * n + i;
      if (states)
        for (int c = 0; c < p; ++c) states[pos * p + c] = T(s[c]);
      if (inputs)
        for (int c = 0; c < p; ++c) {
          inputs[pos * 2 * p + c] = T(s[c]);
          inputs[pos * 2 * p + p + c] = T(prev[c]);
        }
      if (targets)
        for (int c = 0; c < p; ++c) targets[pos * p + c] = i + 1 < n ? T(next[c]) : T(0);
      if (mask) mask[pos] = (i >= 1 && i <= n - 2) ? 1 : 0;
      for (int c = 0; c < p; ++c) { prev[c] = s[c]; s[c] = next[c]; }
    }
  }
}

template <class T>
void gd_direction(const T* states, int p, int t, T* out) {
  for (int c = 0; c < p; ++c) out[c] = 0;
  const T* st = states + std::size_t(t) * p;
  for (int i = 0; i < t; ++i) {
    const T* si = states + std::size_t(i) * p;
    const T* s1 = si + p;
    T dot = 0;
    for (int c = 0; c < p; ++c) dot += si[c] * st[c];
    for (int c = 0; c < p; ++c) out[c] += s1[c] * dot;
  }
}

template void icar_batch<float>(const IcarTask&, Rng&, int, float*, float*, float*, std::uint8_t*);
template void icar_batch<double>(const IcarTask&, Rng&, int, double*, double*, double*, std::uint8_t*);
template void gd_direction<float>(const float*, int, int, float*);
template void gd_direction<double>(const double*, int, int, double*);

}  // namespace tinyloop::icar
