// The task generators: ICAR (in-context autoregressive learning) and retrieval; their invariants,
// pinned instances and refused settings.
//
// In-context autoregressive learning (SPEC §4.3): the generator, the one-step gradient-descent
// predictor, and the one-layer linear transformer on augmented tokens (model family).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "tinyloop/model.hpp"
#include "tinyloop/icar.hpp"

using namespace tinyloop;

namespace {

void matmul(const double* A, const double* B, int p, double* C) {
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j) {
      double s = 0;
      for (int k = 0; k < p; ++k) s += A[i * p + k] * B[k * p + j];
      C[i * p + j] = s;
    }
}

double commutator_norm(const icar::IcarTask& task, Rng& rng) {
  const int p = task.p;
  double W1[256], W2[256], A[256], B[256];
  icar::draw_transition(task, rng, W1);
  icar::draw_transition(task, rng, W2);
  matmul(W1, W2, p, A);
  matmul(W2, W1, p, B);
  double s = 0;
  for (int i = 0; i < p * p; ++i) s += (A[i] - B[i]) * (A[i] - B[i]);
  return std::sqrt(s);
}

ModelSpec linear_augmented(int p) {
  ModelSpec c;
  c.layers = 1;
  c.width = 2 * p;
  c.mlp = false;
  c.layernorm = false;
  c.attention = AttentionKind::linear;
  c.attn_scale = 1.0f;
  c.out_proj = false;
  c.residual = false;
  c.positions = Positions::none;
  c.input = InputKind::vectors;
  c.in_dim = 2 * p;
  c.input_proj = false;
  c.output = OutputKind::regression;
  c.out_dim = p;
  c.readout_bias = false;
  return c;
}

}  // namespace

TEST_CASE("icar: orthogonal transitions, unit states, augmented layout, loss positions") {
  for (icar::Setting setting : {icar::Setting::commuting, icar::Setting::noncommuting}) {
    icar::IcarTask task;
    task.setting = setting;
    REQUIRE(icar::validate(task).is_ok());
    Rng rng(5);
    icar::init_task(&task, rng);
    const int B = 3, n = task.n, p = task.p;
    std::vector<double> states(B * n * p), inputs(B * n * 2 * p), targets(B * n * p);
    std::vector<std::uint8_t> mask(B * n);
    icar::icar_batch<double>(task, rng, B, states.data(), inputs.data(), targets.data(), mask.data());
    for (int b = 0; b < B; ++b)
      for (int i = 0; i < n; ++i) {
        const std::size_t pos = std::size_t(b) * n + i;
        double norm = 0;
        for (int c = 0; c < p; ++c) norm += states[pos * p + c] * states[pos * p + c];
        CHECK(std::sqrt(norm) == doctest::Approx(1.0).epsilon(1e-12));
        for (int c = 0; c < p; ++c) {
          CHECK(inputs[pos * 2 * p + c] == states[pos * p + c]);
          CHECK(inputs[pos * 2 * p + p + c] == (i > 0 ? states[(pos - 1) * p + c] : 0.0));
          if (i + 1 < n) CHECK(targets[pos * p + c] == states[(pos + 1) * p + c]);
        }
        CHECK(mask[pos] == ((i >= 1 && i <= n - 2) ? 1 : 0));
      }
    Rng r2(9);
    const double comm = commutator_norm(task, r2);
    if (setting == icar::Setting::commuting) CHECK(comm < 1e-12);
    else CHECK(comm > 1e-3);
  }
  icar::IcarTask bad;
  bad.p = 3;
  CHECK(icar::validate(bad).code() == Error::bad_config);
}

TEST_CASE("icar: the linear transformer with the predicted weights is the one-step GD predictor") {
  const int p = 4, n = 20, d = 2 * p;
  const double eta = 0.0789;
  icar::IcarTask task;
  task.n = n;
  Rng rng(3);
  icar::init_task(&task, rng);
  const ModelSpec c = linear_augmented(p);
  const Capacity cap{n, 2, 1};
  std::vector<unsigned char> buf(Model<double>::plan(c, cap).total);
  Model<double> m;
  REQUIRE(m.init(c, OptimConfig{}, cap, buf.data(), buf.size()).is_ok());
  const auto& l = m.layout();
  double* P = m.params();
  // Query reads s_t, key reads s_{j-1}, value reads s_j, read-out scales by eta.
  for (int i = 0; i < p; ++i) {
    P[l.block[0].Wq + i * d + i] = 1.0;
    P[l.block[0].Wk + (p + i) * d + i] = 1.0;
    P[l.block[0].Wv + i * d + i] = 1.0;
    P[l.Wout + i * p + i] = eta;
  }
  std::vector<double> states(2 * n * p), inputs(2 * n * d), targets(2 * n * p);
  std::vector<std::uint8_t> mask(2 * n);
  icar::icar_batch<double>(task, rng, 2, states.data(), inputs.data(), targets.data(), mask.data());
  ModelBatch<double> b;
  b.inputs = inputs.data();
  b.targets = targets.data();
  b.mask = mask.data();
  b.batch = 2;
  b.len = n;
  REQUIRE(m.evaluate(b, nullptr).is_ok());
  double worst = 0;
  std::vector<double> g(p);
  for (int s = 0; s < 2; ++s)
    for (int t = 0; t < n; ++t) {
      icar::gd_direction(states.data() + std::size_t(s) * n * p, p, t, g.data());
      for (int k = 0; k < p; ++k) worst = std::fmax(worst, std::fabs(m.outputs(s)[t * p + k] - eta * g[k]));
    }
  CHECK(worst < 1e-13);
}

TEST_CASE("icar: a short training run reaches the one-step GD loss") {
  const int p = 4, n = 50, B = 32, d = 2 * p;
  icar::IcarTask task;
  Rng trng(1);
  icar::init_task(&task, trng);
  const ModelSpec c = linear_augmented(p);
  OptimConfig o;
  o.lr = 0.01f;
  o.weight_decay = 0;
  o.warmup_steps = 50;
  o.schedule = Schedule::cosine;
  const Capacity cap{n, B, 1};
  std::vector<unsigned char> buf(Model<float>::plan(c, cap).total);
  Model<float> m;
  REQUIRE(m.init(c, o, cap, buf.data(), buf.size()).is_ok());
  Rng init(2);
  m.init_weights(init);
  std::vector<float> states(B * n * p), inputs(B * n * d), targets(B * n * p);
  std::vector<std::uint8_t> mask(B * n);
  ModelBatch<float> b;
  b.inputs = inputs.data();
  b.targets = targets.data();
  b.mask = mask.data();
  b.batch = B;
  b.len = n;
  Rng data(4);
  const int steps = 600;
  for (int s = 0; s < steps; ++s) {
    icar::icar_batch<float>(task, data, B, nullptr, inputs.data(), targets.data(), mask.data());
    ModelStats st;
    REQUIRE(m.train_step(b, steps, &st).is_ok());
  }
  // Fit eta and compare on fresh data.
  double num = 0, den = 0, model = 0, gd = 0;
  std::vector<float> g(p);
  Rng eval(99);
  for (int pass = 0; pass < 2; ++pass) {
    icar::icar_batch<float>(task, eval, B, states.data(), inputs.data(), targets.data(), mask.data());
    ModelStats st;
    REQUIRE(m.evaluate(b, &st).is_ok());
    if (pass == 1) model = st.loss;
    const double eta = den > 0 ? num / den : 0;
    for (int s = 0; s < B; ++s)
      for (int t = 1; t <= n - 2; ++t) {
        icar::gd_direction(states.data() + std::size_t(s) * n * p, p, t, g.data());
        for (int k = 0; k < p; ++k) {
          const double y = targets[(std::size_t(s) * n + t) * p + k];
          if (pass == 0) { num += g[k] * y; den += double(g[k]) * g[k]; }
          else gd += (eta * g[k] - y) * (eta * g[k] - y) / (double(B) * (n - 2) * p);
        }
      }
  }
  MESSAGE("trained " << model << ", one GD step " << gd << ", zero predictor 0.25");
  CHECK(model < 0.15);
  CHECK(model < gd * 1.05);
}

TEST_CASE("icar: fixed start") {
  icar::IcarTask task;
  task.fixed_start = true;
  Rng rng(2);
  icar::init_task(&task, rng);
  const int B = 2, n = task.n, p = task.p;
  std::vector<double> states(B * n * p);
  icar::icar_batch<double>(task, rng, B, states.data(), nullptr, nullptr, nullptr);
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < p; ++c) CHECK(states[b * n * p + c] == doctest::Approx(1.0 / std::sqrt(double(p))));
  CHECK(states[p] != states[n * p + p]);  // different transitions per sequence
}

TEST_CASE("icar: the Haar setting draws W orthogonal, reflections included, at odd p too") {
  icar::IcarTask task;
  task.setting = icar::Setting::haar;
  task.p = 5;
  REQUIRE(icar::validate(task).is_ok());
  icar::IcarTask even_only = task;
  even_only.setting = icar::Setting::commuting;
  CHECK_FALSE(icar::validate(even_only).is_ok());  // rotation blocks need even p
  Rng rng(4);
  int negative = 0;
  double W[25], WtW[25], Wt[25];
  for (int k = 0; k < 200; ++k) {
    icar::draw_transition(task, rng, W);
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 5; ++j) Wt[i * 5 + j] = W[j * 5 + i];
    matmul(Wt, W, 5, WtW);
    for (int i = 0; i < 25; ++i) REQUIRE(WtW[i] == doctest::Approx(i % 6 == 0 ? 1.0 : 0.0).epsilon(1e-12).scale(1.0));
    // The determinant's sign: Gaussian elimination on a copy.
    double A[25];
    for (int i = 0; i < 25; ++i) A[i] = W[i];
    double det = 1;
    for (int c = 0; c < 5; ++c) {
      int piv = c;
      for (int r = c + 1; r < 5; ++r)
        if (std::fabs(A[r * 5 + c]) > std::fabs(A[piv * 5 + c])) piv = r;
      if (piv != c) {
        for (int j = 0; j < 5; ++j) std::swap(A[c * 5 + j], A[piv * 5 + j]);
        det = -det;
      }
      det *= A[c * 5 + c];
      for (int r = c + 1; r < 5; ++r) {
        const double f = A[r * 5 + c] / A[c * 5 + c];
        for (int j = c; j < 5; ++j) A[r * 5 + j] -= f * A[c * 5 + j];
      }
    }
    if (det < 0) ++negative;
  }
  // Haar on O(5): half the draws are reflections (det -1); 200 draws put that share well inside 0.35-0.65.
  CHECK(negative > 70);
  CHECK(negative < 130);
}
