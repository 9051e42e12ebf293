#include "tinyloop/icar.hpp"

#include <algorithm>
#include <cmath>

namespace tinyloop::icar {

namespace {
constexpr double kTwoPi = 6.28318530717958647692;
}

Status validate(const IcarTask& t) {
  if (t.p < 2 || t.p > kMaxP || t.p % 2 != 0)
    return Status::fail(Error::bad_config, "p must be even and in [2, %d], got %d", kMaxP, t.p);
  if (t.n < 3 || t.n > (1 << 16)) return Status::fail(Error::bad_config, "n must be in [3, 65536], got %d", t.n);
  if (t.setting != Setting::commuting && t.setting != Setting::noncommuting)
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

double frobenius_cosine(const double* a, const double* b, std::size_t count) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < count; ++i) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

double pairwise_cosines(const double* mats, int H, std::size_t count, double* out, double* max_abs) {
  double sum = 0, mx = 0;
  int pairs = 0;
  for (int h = 0; h < H; ++h)
    for (int g = 0; g < H; ++g) {
      const double c = frobenius_cosine(mats + std::size_t(h) * count, mats + std::size_t(g) * count, count);
      if (out) out[h * H + g] = c;
      if (h < g) {
        sum += std::fabs(c);
        mx = std::max(mx, std::fabs(c));
        ++pairs;
      }
    }
  if (max_abs) *max_abs = mx;
  return pairs ? sum / pairs : 0.0;
}

double toeplitz_r2(const double* G, int n, bool lower) {
  if (n <= 0) return 1.0;
  // One diagonal (offset i - j) at a time, so no per-diagonal table is needed.
  double total = 0;
  long count = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= (lower ? i : n - 1); ++j) {
      total += G[i * n + j];
      ++count;
    }
  const double mean = total / double(count);
  double ssr = 0, sst = 0;
  for (int offset = lower ? 0 : -(n - 1); offset <= n - 1; ++offset) {
    const int i0 = std::max(0, offset), i1 = std::min(n, n + offset);  // rows where j = i - offset is valid
    double diag_sum = 0;
    for (int i = i0; i < i1; ++i) diag_sum += G[i * n + (i - offset)];
    const double diag_mean = diag_sum / double(i1 - i0);
    for (int i = i0; i < i1; ++i) {
      const double g = G[i * n + (i - offset)];
      ssr += (g - diag_mean) * (g - diag_mean);
      sst += (g - mean) * (g - mean);
    }
  }
  return sst > 0 ? 1.0 - ssr / sst : 1.0;
}

namespace {

// Least squares a cos(w i) + b sin(w i) + c; returns SSR.
double sine_ssr(const double* x, int n, int stride, double w, double* amp) {
  double M[3][3] = {}, r[3] = {};
  for (int i = 0; i < n; ++i) {
    const double f[3] = {std::cos(w * i), std::sin(w * i), 1.0}, y = x[std::size_t(i) * stride];
    for (int a = 0; a < 3; ++a) {
      r[a] += f[a] * y;
      for (int b = 0; b < 3; ++b) M[a][b] += f[a] * f[b];
    }
  }
  // Solve by Gaussian elimination with partial pivoting; a singular system (w = pi with tiny n)
  // falls back to the largest solvable subset by regularising the diagonal.
  for (int a = 0; a < 3; ++a) M[a][a] += 1e-12 * (1.0 + M[a][a]);
  double A[3][4];
  for (int a = 0; a < 3; ++a) {
    for (int b = 0; b < 3; ++b) A[a][b] = M[a][b];
    A[a][3] = r[a];
  }
  for (int c = 0; c < 3; ++c) {
    int piv = c;
    for (int a = c + 1; a < 3; ++a)
      if (std::fabs(A[a][c]) > std::fabs(A[piv][c])) piv = a;
    for (int k = 0; k < 4; ++k) std::swap(A[c][k], A[piv][k]);
    for (int a = 0; a < 3; ++a) {
      if (a == c || A[c][c] == 0) continue;
      const double f = A[a][c] / A[c][c];
      for (int k = c; k < 4; ++k) A[a][k] -= f * A[c][k];
    }
  }
  double coef[3];
  for (int a = 0; a < 3; ++a) coef[a] = A[a][a] != 0 ? A[a][3] / A[a][a] : 0.0;
  double ssr = 0;
  for (int i = 0; i < n; ++i) {
    const double e = coef[0] * std::cos(w * i) + coef[1] * std::sin(w * i) + coef[2] - x[std::size_t(i) * stride];
    ssr += e * e;
  }
  if (amp) *amp = std::sqrt(coef[0] * coef[0] + coef[1] * coef[1]);
  return ssr;
}

}  // namespace

SineFit fit_sinusoid(const double* x, int n, int stride) {
  SineFit f;
  double mean = 0;
  for (int i = 0; i < n; ++i) mean += x[std::size_t(i) * stride];
  mean /= n;
  double sst = 0;
  for (int i = 0; i < n; ++i) sst += (x[std::size_t(i) * stride] - mean) * (x[std::size_t(i) * stride] - mean);
  if (!(sst > 0) || n < 4) {
    f.r2 = 1.0;
    return f;
  }
  const double pi = kTwoPi / 2, lo = pi / n, hi = pi;
  const int grid = 4096;
  double best_w = lo, best = INFINITY;
  for (int g = 0; g <= grid; ++g) {
    const double w = lo + (hi - lo) * g / grid, s = sine_ssr(x, n, stride, w, nullptr);
    if (s < best) { best = s; best_w = w; }
  }
  // Golden-section refinement within one grid cell either side.
  const double cell = (hi - lo) / grid;
  double a = std::max(lo, best_w - cell), b = std::min(hi, best_w + cell);
  const double gr = 0.6180339887498949;
  double c = b - gr * (b - a), d = a + gr * (b - a), fc = sine_ssr(x, n, stride, c, nullptr),
         fd = sine_ssr(x, n, stride, d, nullptr);
  for (int it = 0; it < 80; ++it) {
    if (fc < fd) { b = d; d = c; fd = fc; c = b - gr * (b - a); fc = sine_ssr(x, n, stride, c, nullptr); }
    else { a = c; c = d; fc = fd; d = a + gr * (b - a); fd = sine_ssr(x, n, stride, d, nullptr); }
  }
  const double w = fc < fd ? c : d, s = std::min(fc, fd);
  if (s < best) { best = s; best_w = w; }
  f.omega = best_w;
  sine_ssr(x, n, stride, best_w, &f.amplitude);
  f.r2 = 1.0 - best / sst;
  return f;
}

double sinusoid_r2(const double* P, int n, int d, double* per_column) {
  double num = 0, den = 0;
  for (int c = 0; c < d; ++c) {
    double mean = 0, var = 0;
    for (int i = 0; i < n; ++i) mean += P[std::size_t(i) * d + c];
    mean /= n;
    for (int i = 0; i < n; ++i) var += (P[std::size_t(i) * d + c] - mean) * (P[std::size_t(i) * d + c] - mean);
    const SineFit f = fit_sinusoid(P + c, n, d);
    if (per_column) {
      per_column[2 * c] = f.r2;
      per_column[2 * c + 1] = f.omega;
    }
    num += var * f.r2;
    den += var;
  }
  return den > 0 ? num / den : 1.0;
}

template void icar_batch<float>(const IcarTask&, Rng&, int, float*, float*, float*, std::uint8_t*);
template void icar_batch<double>(const IcarTask&, Rng&, int, double*, double*, double*, std::uint8_t*);
template void gd_direction<float>(const float*, int, int, float*);
template void gd_direction<double>(const double*, int, int, double*);

}  // namespace tinyloop::icar
