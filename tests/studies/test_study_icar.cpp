// The studies' tests, test_study_<name>.cpp, each linked with its study's library (registered
// as skipped where the build has no such library).
//
// The ICAR study (studies/icar): the measures of its part (b) on constructed inputs, and a tiny run
// of the whole study through its interface.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "icar/icar.hpp"
#include "icar/measures.hpp"
#include "tinyloop/rng.hpp"

using namespace tinyloop;
using namespace tinyloop::study::icar;

TEST_CASE("icar measures: head cosines on constructed heads") {
  // Three 4x4 heads: disjoint supports (exactly orthogonal), then a copy and a negated copy.
  std::vector<double> heads(3 * 16, 0.0);
  heads[0 * 16 + 0] = 1.0;
  heads[0 * 16 + 5] = 2.0;
  heads[1 * 16 + 10] = -3.0;
  heads[2 * 16 + 15] = 0.5;
  double cos[9], mx = -1;
  CHECK(pairwise_cosines(heads.data(), 3, 16, cos, &mx) == 0.0);
  CHECK(mx == 0.0);
  CHECK(cos[0] == doctest::Approx(1.0));
  // Rotations R(a) and J R(a) (J = 90 degrees) are Frobenius-orthogonal though dense.
  const double a = 0.7;
  const double R[4] = {std::cos(a), -std::sin(a), std::sin(a), std::cos(a)};
  const double JR[4] = {-std::sin(a), -std::cos(a), std::cos(a), -std::sin(a)};
  CHECK(std::fabs(frobenius_cosine(R, JR, 4)) < 1e-15);
  std::vector<double> same(2 * 16);
  for (int i = 0; i < 16; ++i) same[i] = same[16 + i] = 0.1 * i - 0.3;
  CHECK(pairwise_cosines(same.data(), 2, 16, nullptr, &mx) == doctest::Approx(1.0));
  for (int i = 0; i < 16; ++i) same[16 + i] = -same[i];
  CHECK(pairwise_cosines(same.data(), 2, 16, cos, nullptr) == doctest::Approx(1.0));  // |cos|
  CHECK(cos[1] == doctest::Approx(-1.0));
  const double zero[4] = {0, 0, 0, 0};
  CHECK(frobenius_cosine(R, zero, 4) == 0.0);
}

TEST_CASE("icar measures: a sinusoidal position table is Toeplitz and fits sinusoids exactly") {
  const int n = 48, d = 8;
  const double omega[4] = {0.13, 0.41, 0.9, 2.3};
  std::vector<double> P(n * d), G(n * n);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < 4; ++k) {
      P[i * d + 2 * k] = std::cos(omega[k] * i + 0.3 * k);
      P[i * d + 2 * k + 1] = std::sin(omega[k] * i + 0.3 * k);
    }
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double s = 0;
      for (int c = 0; c < d; ++c) s += P[i * d + c] * P[j * d + c];
      G[i * n + j] = s;
    }
  CHECK(toeplitz_r2(G.data(), n, false) == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(toeplitz_r2(G.data(), n, true) == doctest::Approx(1.0).epsilon(1e-12));
  double cols[2 * d];
  CHECK(sinusoid_r2(P.data(), n, d, cols) > 1 - 1e-9);
  for (int c = 0; c < d; ++c) {
    CHECK(cols[2 * c] > 1 - 1e-9);
    CHECK(cols[2 * c + 1] == doctest::Approx(omega[c / 2]).epsilon(1e-6));
  }
  const SineFit f = fit_sinusoid(P.data() + 2, n, d);  // column 2: cos(0.41 i + 0.3)
  CHECK(f.amplitude == doctest::Approx(1.0).epsilon(1e-6));

  // A random table: far from Toeplitz, far from single sinusoids.
  Rng rng(11);
  for (double& v : P) v = normal(rng);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double s = 0;
      for (int c = 0; c < d; ++c) s += P[i * d + c] * P[j * d + c];
      G[i * n + j] = s;
    }
  CHECK(toeplitz_r2(G.data(), n, true) < 0.9);  // the diagonal (|p_i|^2) is near-constant
  CHECK(sinusoid_r2(P.data(), n, d, nullptr) < 0.5);
  // Off the diagonal a random Gram has no structure in i - j.
  for (int i = 0; i < n; ++i) G[i * n + i] = 0;
  CHECK(toeplitz_r2(G.data(), n, true) < 0.2);
  // A matrix that is not a function of i - j: G_ij = i.
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) G[i * n + j] = i;
  CHECK(toeplitz_r2(G.data(), n, false) < 0.6);
}

TEST_CASE("icar measures: principal components of a circle and a line") {
  // Points on a circle of radius 2 in the plane of (1, 1, 0)/sqrt 2 and (0, 0, 1), plus a small
  // offset along (1, -1, 0)/sqrt 2 that grows linearly: three components, variances descending.
  const int n = 64, d = 3;
  std::vector<double> P(n * d);
  for (int i = 0; i < n; ++i) {
    const double a = 2 * M_PI * i / n, u = 2 * std::cos(a), v = 2 * std::sin(a), w = 0.001 * (i - 31.5);
    P[i * d + 0] = u / std::sqrt(2.0) + w / std::sqrt(2.0) + 5;
    P[i * d + 1] = u / std::sqrt(2.0) - w / std::sqrt(2.0) - 1;
    P[i * d + 2] = v + 3;
  }
  const Components c = principal_components(P.data(), n, d);
  REQUIRE(c.variance.size() == 3);
  CHECK(c.variance[0] == doctest::Approx(2.0 * n).epsilon(1e-3));
  CHECK(c.variance[1] == doctest::Approx(2.0 * n).epsilon(1e-3));
  CHECK(c.variance[2] < 0.05);
  double r2 = 0;
  for (int i = 0; i < n; ++i) r2 += c.scores[i * d] * c.scores[i * d] + c.scores[i * d + 1] * c.scores[i * d + 1];
  CHECK(r2 / n == doctest::Approx(4.0).epsilon(1e-3));  // the first two components hold the circle
  CHECK(fit_sinusoid(c.scores.data(), n, d).r2 > 0.999);
  CHECK(fit_sinusoid(c.scores.data() + 1, n, d).r2 > 0.999);
}

TEST_CASE("icar study: a tiny run returns every file of the report") {
  Options o;
  o.steps = 20;
  o.batch = 8;
  o.n = 12;
  o.eval_sequences = 16;
  o.plain_steps = 10;
  o.softmax_steps = 10;
  o.theory_seeds = 2;
  o.authors_seeds = 1;
  o.authors_sequences = 64;
  o.authors_batch = 32;
  o.authors_epochs = 2;
  o.authors_test = 32;
  o.gated_seeds = 1;
  o.gated_heads = 2;
  o.gated_sequences = 64;
  o.gated_batch = 32;
  o.gated_epochs = 2;
  int notes = 0;
  o.on_step = [&](const StepNote& s) {
    CHECK(s.done <= s.steps);
    ++notes;
  };
  const tinyloop::study::Report r = run(o);
  CHECK(notes == 2 * 20 + 2 * 10 + 10 + 2 * 2 + 2 * 2);
  for (const char* name : {"report.md", "loss_vs_t.csv", "loss_vs_t.svg", "plain_tokens.csv", "plain_positions.csv",
                           "plain_tokens.svg", "noncommuting_loss_vs_t.csv", "noncommuting_loss_vs_t.svg",
                           "fig3_theory.svg", "fig6_pe_only.svg", "fig6_last_row.csv", "authors_loss_vs_t.csv",
                           "authors_loss_vs_t.svg", "authors_blocks.svg", "gated_loss_vs_t.csv", "gated_loss_vs_t.svg", "gated_maps.svg"})
    CHECK_MESSAGE(r.find(name) != nullptr, name);
  REQUIRE(r.find("report.md") != nullptr);
  CHECK(r.find("report.md")->find("## (b) Plain tokens") != std::string::npos);
  CHECK(r.find("loss_vs_t.csv")->rfind("non-commuting,11,", std::string::npos) != std::string::npos);
  CHECK(r.summary.find("commuting: mean MSE model") != std::string::npos);
  // (d): the theory at the authors' settings reaches their closed forms (theory.hpp's own tests
  // check the numbers); the report shows both scripts and every mu.
  const std::string& md = *r.find("report.md");
  CHECK(md.find("## (d) The authors' theory scripts") != std::string::npos);
  CHECK(md.find("| unitary.py (d 10, T 20, H 10; lr 0.01, 100 GD steps) |") != std::string::npos);
  CHECK(md.find("| 1.000000 to 1.000000 | -0.500000 to -0.500000 |") != std::string::npos);
  for (const char* row : {"| 50 |", "| 100 |", "| 200 |", "| 300 |"}) CHECK_MESSAGE(md.find(row) != std::string::npos, row);
  CHECK(r.summary.find("orthogonal.py from 2 draws: ") != std::string::npos);
  // (e): the authors' augmented run, against one GD step; t = 0 is unpredictable (MSE 1/d = 0.2
  // for the zero predictor and one GD step, whose direction is 0 there).
  CHECK(md.find("## (e) The authors' augmented run") != std::string::npos);
  // The point-by-point table: a row per claim, its status decided by the numbers of this run.
  CHECK(md.find("## The paper's claims, point by point") < md.find("## Loss (MSE per component) versus t"));
  CHECK(md.find("| 3 left | unitary W: the reduced model's optimum is C = c I with c P[t,t+1] = 1 | reproduced |") !=
        std::string::npos);
  CHECK(md.find("| 6 | positional encoding alone learns a trigonometric P (mu = 50, 100, 200, 300) | reproduced |") !=
        std::string::npos);
  CHECK(md.find("| 4 | LLM token embeddings") != std::string::npos);
  CHECK(md.find("| 0 | ") != std::string::npos);
  CHECK(r.find("authors_loss_vs_t.csv")->find("t,model_seed1,gd_one_eta,gd_eta_per_position,zero\n0,") == 0);
  CHECK(r.summary.find("authors' augmented model, seed 1: mean MSE ") != std::string::npos);
  // (f): the authors' non-augmented run, with its claim row decided by its own numbers.
  CHECK(md.find("## (f) The authors' non-augmented run") != std::string::npos);
  CHECK(md.find("| 7 | plain tokens: a trained multi-head layer with positional attention finds those heads and that P |") !=
        std::string::npos);
  CHECK(md.find("| 7 | plain tokens: a multi-head layer") == std::string::npos);  // no second row for Fig. 7
  CHECK(r.find("gated_loss_vs_t.csv")->find("t,model_seed1,zero\n0,") == 0);
  CHECK(r.summary.find("authors' non-augmented model, seed 1: mean MSE ") == 0);
  const std::size_t agree = md.find("they agree with the engine's own gates to ");
  REQUIRE(agree != std::string::npos);
  CHECK(std::stod(md.substr(agree + 42)) < 1e-5);
}
