#include "icar/measures.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>
#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xsort.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

namespace tinyloop::study::icar {

namespace {
constexpr double kPi = 3.14159265358979323846;
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
  // The normal equations, regularised so that a singular system (w = pi with tiny n) still
  // has a solution.
  for (int a = 0; a < 3; ++a) M[a][a] += 1e-12 * (1.0 + M[a][a]);
  const xt::xtensor<double, 2> normal = {{M[0][0], M[0][1], M[0][2]}, {M[1][0], M[1][1], M[1][2]},
                                         {M[2][0], M[2][1], M[2][2]}};
  const xt::xtensor<double, 1> rhs = {r[0], r[1], r[2]};
  const xt::xtensor<double, 1> coef = xt::linalg::solve(normal, rhs);
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
  const double lo = kPi / n, hi = kPi;
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

Components principal_components(const double* P, int n, int d) {
  const std::array<std::size_t, 2> shape = {std::size_t(n), std::size_t(d)};
  const auto table = xt::adapt(P, std::size_t(n) * d, xt::no_ownership(), shape);
  const xt::xtensor<double, 2> centred = table - xt::mean(table, {0});
  const xt::xtensor<double, 2> scatter = xt::linalg::dot(xt::transpose(centred), centred);
  const auto eig = xt::linalg::eigh(scatter);  // ascending eigenvalues, eigenvectors in columns
  xt::xtensor<double, 2> basis = xt::flip(std::get<1>(eig), 1);
  for (int k = 0; k < d; ++k) {
    auto v = xt::view(basis, xt::all(), k);
    if (v(xt::argmax(xt::abs(v))()) < 0) v = -v;
  }
  Components c;
  const xt::xtensor<double, 1> values = xt::flip(std::get<0>(eig), 0);
  const xt::xtensor<double, 2> scores = xt::linalg::dot(centred, basis);
  c.variance.assign(values.begin(), values.end());
  c.scores.assign(scores.begin(), scores.end());
  return c;
}

}  // namespace tinyloop::study::icar
