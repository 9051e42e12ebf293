// The ICAR theory scripts re-derived (theory.hpp): the reduced losses of unitary.py and
// orthogonal.py with hand gradients, plain GD, the closed-form comparison, an exact quadrature of
// the expected loss from the model itself, and pe_only.py's positional-only model through its
// per-row Gram matrices.
#include "icar/theory.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "common/text.hpp"
#include "tinyloop/platform/posix.hpp"
#include "tinyloop/rng.hpp"

namespace tinyloop::study::icar {

namespace {

constexpr double kTwoPi = 6.283185307179586;

void check_spec(const ReducedSpec& s) {
  if (s.d < 1 || s.T < 2 || s.H < 1) fail("icar theory: the reduced loss needs d >= 1, T >= 2 and H >= 1");
  if (s.kind == ReducedCase::orthogonal && s.d % 2 != 0)
    fail("icar theory: the orthogonal reduced loss needs an even d (rotation pairs)");
}

bool orthogonal(const ReducedSpec& s) { return s.kind == ReducedCase::orthogonal; }

void check_shapes(const ReducedSpec& s, const ReducedParams& x) {
  check_spec(s);
  const auto is = [](const DMatrix& m, int rows, int cols) {
    return m.shape()[0] == std::size_t(rows) && m.shape()[1] == std::size_t(cols);
  };
  if (!is(x.A, s.H, s.d) || !is(x.B, s.H, s.d) || !is(x.P, s.T, s.T))
    fail("icar theory: A and B must be H x d and P T x T for the reduced loss");
}

// The scalars of C that every row loss combines. In the orthogonal case component k's
// eigenvalue is the conjugate of component k ^ 1's.
struct CTerms {
  double n1 = 0;  // ||C 1||^2 = sum(C^T C)
  double n2 = 0;  // ||C||_F^2
  double t3 = 0;  // sum_k rowsum_k C[k, k^1]  (orthogonal.py's t3)
  double t4 = 0;  // sum_k C[k, k^1]^2         (orthogonal.py's t4)
  double tr = 0;  // trace C
  std::vector<double> rows;  // row sums of C
};

CTerms c_terms(const ReducedSpec& s, const DMatrix& C) {
  CTerms c;
  c.rows.assign(std::size_t(s.d), 0.0);
  for (int k = 0; k < s.d; ++k) {
    for (int l = 0; l < s.d; ++l) {
      c.rows[k] += C(k, l);
      c.n2 += C(k, l) * C(k, l);
    }
    c.n1 += c.rows[k] * c.rows[k];
    c.tr += C(k, k);
    if (orthogonal(s)) {
      c.t3 += c.rows[k] * C(k, k ^ 1);
      c.t4 += C(k, k ^ 1) * C(k, k ^ 1);
    }
  }
  return c;
}

// One row's loss is w1 n1 + w2 n2 + w3 t3 + w4 t4 + w5 tr + d, with weights from p = P[t, 0..t+1]
// (pt = P[t,t], pn = P[t,t+1], S = sum p, q = sum p^2):
//   unitary.py:    w1 = pt^2, w2 = q,        w5 = -2 pn                (exact: w2 = q - pt^2)
//   orthogonal.py: w1 = pt^2, w2 = q - pt^2, w3 = 2 (pt S - pt^2), w4 = (S - pt)^2 - (q - pt^2), w5 = -2 pn
struct Weights {
  double w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0;
};

struct RowSums {
  double S = 0, q = 0, pt = 0, pn = 0;
};

RowSums row_sums(const double* p, int t) {
  RowSums r;
  for (int j = 0; j <= t + 1; ++j) {
    r.S += p[j];
    r.q += p[j] * p[j];
  }
  r.pt = p[t];
  r.pn = p[t + 1];
  return r;
}

bool authors_unitary(const ReducedSpec& s) { return s.kind == ReducedCase::unitary && s.form == LossForm::authors; }

Weights row_weights(const ReducedSpec& s, const RowSums& r) {
  Weights w;
  w.w1 = r.pt * r.pt;
  w.w2 = authors_unitary(s) ? r.q : r.q - r.pt * r.pt;
  w.w5 = -2.0 * r.pn;
  if (orthogonal(s)) {
    w.w3 = 2.0 * (r.pt * r.S - r.pt * r.pt);
    w.w4 = (r.S - r.pt) * (r.S - r.pt) - (r.q - r.pt * r.pt);
  }
  return w;
}

double combine(const Weights& w, const CTerms& c, int d) {
  return w.w1 * c.n1 + w.w2 * c.n2 + w.w3 * c.t3 + w.w4 * c.t4 + w.w5 * c.tr + double(d);
}

// d(row loss)/d p_j for j = 0..t+1, into g.
void row_gradient(const ReducedSpec& s, const CTerms& c, const RowSums& r, const double* p, int t, double* g) {
  for (int j = 0; j <= t + 1; ++j) {
    const bool diag = j == t;
    double v = diag ? 2.0 * r.pt * c.n1 : 0.0;
    v += (authors_unitary(s) || !diag) ? 2.0 * p[j] * c.n2 : 0.0;
    if (orthogonal(s)) {
      v += 2.0 * ((diag ? r.S - 2.0 * r.pt : 0.0) + r.pt) * c.t3;
      v += diag ? 0.0 : (2.0 * (r.S - r.pt) - 2.0 * p[j]) * c.t4;
    }
    if (j == t + 1) v -= 2.0 * c.tr;
    g[j] = v;
  }
}

// dL/dC for the summed weights W: W1 d(n1) + W2 d(n2) + W3 d(t3) + W4 d(t4) + W5 I, with
// d(n1)[k,l] = 2 rowsum_k, d(n2) = 2 C, d(t3)[k,l] = C[k,k^1] + [l = k^1] rowsum_k,
// d(t4)[k,l] = [l = k^1] 2 C[k,k^1].
DMatrix c_gradient(const ReducedSpec& s, const DMatrix& C, const CTerms& c, const Weights& W) {
  DMatrix G({std::size_t(s.d), std::size_t(s.d)});
  for (int k = 0; k < s.d; ++k)
    for (int l = 0; l < s.d; ++l) {
      double v = 2.0 * W.w1 * c.rows[k] + 2.0 * W.w2 * C(k, l) + (k == l ? W.w5 : 0.0);
      if (orthogonal(s)) {
        v += W.w3 * C(k, k ^ 1);
        if (l == (k ^ 1)) v += W.w3 * c.rows[k] + 2.0 * W.w4 * C(k, l);
      }
      G(k, l) = v;
    }
  return G;
}

}  // namespace

ReducedSpec unitary_spec() { return ReducedSpec{ReducedCase::unitary, LossForm::authors, 10, 20, 10}; }
ReducedSpec orthogonal_spec() { return ReducedSpec{ReducedCase::orthogonal, LossForm::authors, 10, 20, 8}; }

DMatrix reduced_C(const ReducedParams& x) { return xt::linalg::dot(xt::transpose(x.B), x.A); }

double reduced_row_loss(const ReducedSpec& s, const DMatrix& C, const double* p, int t) {
  check_spec(s);
  if (C.shape()[0] != std::size_t(s.d) || C.shape()[1] != std::size_t(s.d) || t < 0 || t + 1 >= s.T)
    fail("icar theory: a row loss needs C d x d and a row t in 0..T-2");
  return combine(row_weights(s, row_sums(p, t)), c_terms(s, C), s.d);
}

double reduced_loss(const ReducedSpec& s, const ReducedParams& x, ReducedParams* grad) {
  check_shapes(s, x);
  const DMatrix C = reduced_C(x);
  const CTerms c = c_terms(s, C);
  Weights W;
  double loss = 0;
  if (grad) grad->P = xt::zeros<double>({std::size_t(s.T), std::size_t(s.T)});
  for (int t = 0; t + 1 < s.T; ++t) {
    const double* p = &x.P(t, 0);
    const RowSums r = row_sums(p, t);
    const Weights w = row_weights(s, r);
    loss += combine(w, c, s.d);
    W.w1 += w.w1;
    W.w2 += w.w2;
    W.w3 += w.w3;
    W.w4 += w.w4;
    W.w5 += w.w5;
    if (grad) row_gradient(s, c, r, p, t, &grad->P(t, 0));
  }
  if (grad) {
    const DMatrix G = c_gradient(s, C, c, W);
    grad->A = xt::linalg::dot(x.B, G);                 // C = B^T A: dL/dA = B G
    grad->B = xt::linalg::dot(x.A, xt::transpose(G));  // dL/dB = A G^T
  }
  return loss;
}

ReducedParams reduced_init(const ReducedSpec& s, std::uint64_t seed, double scale) {
  check_spec(s);
  Rng rng(seed);
  auto draw = [&](int rows, int cols) {
    DMatrix m({std::size_t(rows), std::size_t(cols)});
    for (double& v : m) v = scale * normal(rng);
    return m;
  };
  ReducedParams x;
  x.A = draw(s.H, s.d);
  x.B = draw(s.H, s.d);
  x.P = draw(s.T, s.T);
  return x;
}

DescentOptions unitary_descent() { return DescentOptions{0.01, 100, 1, 0.1, 0}; }
DescentOptions orthogonal_descent() { return DescentOptions{1e-3, 100000, 1, 0.1, 0}; }

DescentResult reduced_descent(const ReducedSpec& s, const DescentOptions& o) {
  return reduced_descent_from(s, o, reduced_init(s, o.seed, o.init_scale));
}

DescentResult reduced_descent_from(const ReducedSpec& s, const DescentOptions& o, ReducedParams start) {
  check_spec(s);
  const double t0 = platform::now_seconds();
  DescentResult r;
  r.params = std::move(start);
  ReducedParams g;
  for (std::int64_t i = 0; i < o.iterations; ++i) {
    const double loss = reduced_loss(s, r.params, &g);
    if (o.record_every > 0 && i % o.record_every == 0) {
      r.losses.push_back(double(i));
      r.losses.push_back(loss);
    }
    r.params.A -= o.lr * g.A;
    r.params.B -= o.lr * g.B;
    r.params.P -= o.lr * g.P;
  }
  r.iterations = o.iterations;
  r.final_loss = reduced_loss(s, r.params);
  r.seconds = platform::now_seconds() - t0;
  return r;
}

ClosedFormComparison compare_closed_form(const ReducedSpec& s, const ReducedParams& x) {
  check_shapes(s, x);
  const DMatrix C = reduced_C(x);
  auto in_block = [&](int k, int l) { return orthogonal(s) ? (k >> 1) == (l >> 1) : k == l; };
  ClosedFormComparison f;
  int count = 0;
  for (int k = 0; k < s.d; ++k)
    for (int l = 0; l < s.d; ++l)
      if (in_block(k, l)) {
        f.c += C(k, l);
        ++count;
      }
  f.c /= count;
  for (int k = 0; k < s.d; ++k)
    for (int l = 0; l < s.d; ++l) {
      if (in_block(k, l)) f.in_spread = std::max(f.in_spread, std::fabs(C(k, l) - f.c));
      else f.off_max = std::max(f.off_max, std::fabs(C(k, l)));
    }
  for (int t = 0; t + 1 < s.T; ++t) {
    f.c_next.push_back(f.c * x.P(t, t + 1));
    f.c_same.push_back(f.c * x.P(t, t));
    for (int j = 0; j < t; ++j) f.c_other_max = std::max(f.c_other_max, std::fabs(f.c * x.P(t, j)));
  }
  const auto [nmin, nmax] = std::minmax_element(f.c_next.begin(), f.c_next.end());
  const auto [smin, smax] = std::minmax_element(f.c_same.begin(), f.c_same.end());
  f.c_next_min = *nmin;
  f.c_next_max = *nmax;
  f.c_same_min = *smin;
  f.c_same_max = *smax;
  f.ABt_over_c = xt::linalg::dot(x.A, xt::transpose(x.B)) / f.c;
  f.loss = reduced_loss(s, x);
  return f;
}

namespace {

// sum_t |s_hat_{t+2} - s_{t+2}|^2 of the model itself for the eigenvalues lambda (d of them).
double model_error(const ReducedSpec& s, const ReducedParams& x, const std::vector<std::complex<double>>& lambda) {
  using cd = std::complex<double>;
  std::vector<std::vector<cd>> st(std::size_t(s.T) + 1, std::vector<cd>(std::size_t(s.d), cd(1.0)));
  for (int j = 1; j <= s.T; ++j)
    for (int k = 0; k < s.d; ++k) st[j][k] = st[j - 1][k] * lambda[k];
  double err = 0;
  std::vector<cd> out(std::size_t(s.d));
  for (int t = 0; t + 1 < s.T; ++t) {
    std::fill(out.begin(), out.end(), cd(0.0));
    for (int j = 0; j <= t + 1; ++j)
      for (int h = 0; h < s.H; ++h) {
        cd score(0.0);  // <a_h (.) s_t, s_j> = sum_l a_hl conj(s_t,l) s_j,l
        for (int l = 0; l < s.d; ++l) score += x.A(h, l) * std::conj(st[t][l]) * st[j][l];
        for (int k = 0; k < s.d; ++k) out[k] += x.P(t, j) * score * x.B(h, k) * st[j][k];
      }
    for (int k = 0; k < s.d; ++k) err += std::norm(out[k] - st[t + 2][k]);
  }
  return err;
}

}  // namespace

double reduced_quadrature_loss(const ReducedSpec& s, const ReducedParams& x, int grid) {
  check_shapes(s, x);
  if (grid < 1) fail("icar theory: the quadrature needs a grid of at least 1 point per phase");
  const int phases = orthogonal(s) ? s.d / 2 : s.d;
  std::int64_t points = 1;
  for (int m = 0; m < phases; ++m) points *= grid;
  std::vector<std::complex<double>> lambda(std::size_t(s.d));
  double sum = 0;
  for (std::int64_t point = 0; point < points; ++point) {
    std::int64_t rest = point;
    for (int m = 0; m < phases; ++m) {
      const double theta = kTwoPi * double(rest % grid) / grid;
      rest /= grid;
      const std::complex<double> z = std::polar(1.0, theta);
      if (orthogonal(s)) {
        lambda[2 * m] = z;
        lambda[2 * m + 1] = std::conj(z);
      } else {
        lambda[m] = z;
      }
    }
    sum += model_error(s, x, lambda);
  }
  return sum / double(points);
}

// ---------------------------------------------------------------- Fig. 6: PE only

PeOnlyData pe_only_data(const PeOnlyOptions& o) {
  if (o.T < 2 || o.sequences < 1 || !(o.mu > 0)) fail("icar theory: pe_only needs T >= 2, sequences >= 1, mu > 0");
  Rng rng(o.seed);
  PeOnlyData d;
  d.T = o.T;
  d.states = xt::xtensor<std::complex<double>, 2>({std::size_t(o.sequences), std::size_t(o.T) + 1});
  for (int b = 0; b < o.sequences; ++b) {
    const double theta = kTwoPi * rng.uniform01_double();
    const std::complex<double> lambda = std::polar(1.0, theta / o.mu);
    d.states(b, 0) = 1.0;
    for (int t = 1; t <= o.T; ++t) d.states(b, t) = lambda * d.states(b, t - 1);
  }
  return d;
}

double pe_only_loss(const PeOnlyData& data, const DMatrix& P) {
  const int T = data.T;
  const std::size_t B = data.states.shape()[0];
  double sum = 0;
  for (std::size_t b = 0; b < B; ++b)
    for (int i = 0; i + 1 < T; ++i) {
      std::complex<double> pred(0.0);
      for (int j = 0; j <= i + 1; ++j) {
        const std::complex<double> sj = data.states(b, j);
        pred += P(i, j) * std::conj(data.states(b, i)) * sj * sj;
      }
      sum += std::norm(pred - data.states(b, i + 2));
    }
  return sum / (double(B) * double(T - 1));
}

PeOnlyGram pe_only_gram(const PeOnlyData& data) {
  const int T = data.T;
  const std::size_t B = data.states.shape()[0];
  PeOnlyGram g;
  g.T = T;
  g.count = double(B) * double(T - 1);
  std::vector<std::complex<double>> xs(std::size_t(T) + 1);
  for (int i = 0; i + 1 < T; ++i) {
    const std::size_t L = std::size_t(i) + 2;
    DMatrix G = xt::zeros<double>({L, L});
    DVector r = xt::zeros<double>({L});
    double yy = 0;
    for (std::size_t b = 0; b < B; ++b) {
      const std::complex<double> y = data.states(b, i + 2);
      for (std::size_t j = 0; j < L; ++j) xs[j] = std::conj(data.states(b, i)) * data.states(b, j) * data.states(b, j);
      for (std::size_t j = 0; j < L; ++j) {
        for (std::size_t k = 0; k < L; ++k) G(j, k) += (std::conj(xs[j]) * xs[k]).real();
        r(j) += (std::conj(xs[j]) * y).real();
      }
      yy += std::norm(y);
    }
    g.G.push_back(std::move(G));
    g.r.push_back(std::move(r));
    g.yy.push_back(yy);
  }
  return g;
}

double pe_only_gram_loss(const PeOnlyGram& g, const DMatrix& P, DMatrix* grad) {
  const int T = g.T;
  if (grad) *grad = xt::zeros<double>({std::size_t(T), std::size_t(T)});
  std::vector<double> Gp(std::size_t(T) + 1);
  double sum = 0;
  for (int i = 0; i + 1 < T; ++i) {
    const int L = i + 2;
    const double* G = g.G[i].data();
    const double* r = g.r[i].data();
    const double* p = &P(i, 0);
    double quad = 0, lin = 0;
    for (int j = 0; j < L; ++j) {
      double v = 0;
      for (int k = 0; k < L; ++k) v += G[j * L + k] * p[k];
      Gp[j] = v;
      quad += p[j] * v;
      lin += r[j] * p[j];
    }
    sum += quad - 2.0 * lin + g.yy[i];
    if (grad)
      for (int j = 0; j < L; ++j) (*grad)(i, j) = 2.0 * (Gp[j] - r[j]) / g.count;
  }
  return sum / g.count;
}

PeOnlyResult pe_only_train(const PeOnlyOptions& o) {
  const double t0 = platform::now_seconds();
  const PeOnlyGram g = pe_only_gram(pe_only_data(o));
  const std::size_t T = std::size_t(o.T);
  PeOnlyResult res;
  res.mu = o.mu;
  res.P = xt::zeros<double>({T, T});
  DMatrix grad;
  double previous = std::numeric_limits<double>::infinity();
  // As pe_only.py: the loss at the current P; stop if the previous one was below the tolerance,
  // else update. So the first P with a loss below it still gets one more update.
  for (std::int64_t it = 0; it < o.max_iterations; ++it) {
    const double loss = pe_only_gram_loss(g, res.P, &grad);
    if (it > 0 && previous < o.tolerance) {
      res.converged = true;
      break;
    }
    previous = loss;
    res.P -= o.lr * grad;
    ++res.iterations;
  }
  res.stop_loss = previous;
  res.final_loss = pe_only_gram_loss(g, res.P);
  res.P_plotted = res.P * xt::tril(xt::ones<double>({T, T}), 0);
  res.last_row = xt::view(res.P_plotted, T - 2, xt::range(0, T - 1));
  res.last_row_sum = xt::sum(res.last_row)();
  res.last_row_sum_with_next = res.last_row_sum + res.P(T - 2, T - 1);
  res.seconds = platform::now_seconds() - t0;
  return res;
}

std::vector<PeOnlyResult> pe_only_sweep(const PeOnlyOptions& base, const std::vector<double>& mus) {
  std::vector<PeOnlyResult> out;
  for (double mu : mus) {
    PeOnlyOptions o = base;
    o.mu = mu;
    out.push_back(pe_only_train(o));
  }
  return out;
}

}  // namespace tinyloop::study::icar
