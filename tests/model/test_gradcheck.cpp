// Finite-difference checks, in double precision, of the hand-written backward pass: every
// parameter element, with each loss term switched on alone and with the model options.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "support/harness.hpp"

using namespace tinyloop;
using namespace tinyloop::test;

namespace {

struct Case {
  std::string name;
  TrainConfig cfg;
};

TrainConfig with_lambdas(TrainConfig c, float p, float k, float s) {
  c.loss.lambda_p = p;
  c.loss.lambda_k = k;
  c.loss.lambda_s = s;
  return c;
}

// Central differences of the total loss against the analytic gradient, element by element.
void check_gradients(const Case& tc, int batch, int len) {
  CAPTURE(tc.name);
  const Capacity cap{len, batch, 1};
  TrainerHarness<double> h(tc.cfg, cap);
  REQUIRE(h.status.is_ok());
  Trainer<double>& tr = h.trainer;
  Rng rng(42);
  tr.init_weights(rng);
  // Move LayerNorm and biases off their initial values so their gradients are generic.
  for (std::size_t i = 0; i < tr.param_count(); ++i) tr.params()[i] += 0.1 * (normal(rng));
  for (int p = 0; p < tr.layout().count; ++p) {  // keep padding exactly zero
    const ParamInfo& info = tr.layout().info[p];
    for (std::size_t i = info.offset + info.size(); i < tr.layout().end_of(p); ++i) tr.params()[i] = 0;
  }
  const auto data = make_induction(11, batch, len, tc.cfg.task.alphabet, tc.cfg.task.hops);
  LossTerms loss;
  REQUIRE(tr.compute_gradients(data.view(), &loss).is_ok());
  const std::vector<double> analytic(tr.grads(), tr.grads() + tr.param_count());

  // Central differences at two steps: roundoff (~ loss * 1e-16 / step) dominates at the small
  // one and truncation (~ step^2) at the large one, and which wins depends on the term and on
  // how the build contracts floating-point operations (-march=native fuses multiply-adds). A
  // real gradient error shows at both steps; the better of the two is kept.
  const double steps[2] = {1e-6, 1e-5};
  int checked = 0;
  double worst = 0;
  std::string worst_name;
  for (int p = 0; p < tr.layout().count; ++p) {
    const ParamInfo& info = tr.layout().info[p];
    for (std::size_t e = 0; e < info.size(); ++e) {
      double& w = tr.params()[info.offset + e];
      const double keep = w;
      const double a = analytic[info.offset + e];
      double err = 1e300, numeric = 0;
      for (double step : steps) {
        LossTerms plus, minus;
        w = keep + step;
        REQUIRE(tr.evaluate_loss(data.view(), &plus).is_ok());
        w = keep - step;
        REQUIRE(tr.evaluate_loss(data.view(), &minus).is_ok());
        w = keep;
        const double n = (plus.total - minus.total) / (2 * step);
        // Relative error, with an absolute floor of 1e-9 where the gradient is tiny.
        const double e_step = std::fabs(n - a) / std::fmax(1e-3, std::fabs(n) + std::fabs(a));
        if (e_step < err) {
          err = e_step;
          numeric = n;
        }
        if (err < 1e-7) break;
      }
      if (err > worst) {
        worst = err;
        worst_name = std::string(info.name) + "[" + std::to_string(e) + "] numeric " + std::to_string(numeric) +
                     " analytic " + std::to_string(a);
      }
      ++checked;
    }
  }
  CAPTURE(worst_name);
  // E, Wout, bout grow with A; ALiBi adds its slope parameter rho.
  CHECK(checked == 869 + (tc.cfg.task.alphabet - 4) * 17 + (uses_alibi(tc.cfg.model.positions) ? 1 : 0));
  CHECK(worst < 1e-6);
}

}  // namespace

TEST_CASE("finite differences: cross-entropy alone") {
  check_gradients({"ce", with_lambdas(small_config(), 0, 0, 0)}, 2, 7);
}

TEST_CASE("finite differences: potential term") {
  check_gradients({"potential", with_lambdas(small_config(), 1.0f, 0, 0)}, 2, 7);
}

TEST_CASE("finite differences: kinetic term") {
  check_gradients({"kinetic", with_lambdas(small_config(), 0, 1.0f, 0)}, 2, 7);
}

TEST_CASE("finite differences: Tsallis entropy above and below eta") {
  check_gradients({"tsallis above eta", with_lambdas(small_config(), 0, 0, 1.0f)}, 2, 7);
  TrainConfig below = with_lambdas(small_config(), 0, 0, 1.0f);
  below.loss.eta = 5.0f;  // |S - eta| with S < eta: the gradient flips sign
  below.loss.q = 2.0f;
  check_gradients({"tsallis below eta, q=2", below}, 2, 7);
  TrainConfig odd_q = with_lambdas(small_config(), 0, 0, 1.0f);
  odd_q.loss.q = 0.7f;
  check_gradients({"tsallis q=0.7", odd_q}, 2, 7);
}

TEST_CASE("finite differences: all terms with the model options") {
  TrainConfig all = with_lambdas(small_config(4, 5), 0.3f, 0.05f, 0.2f);
  check_gradients({"lam2026 terms, A=5", all}, 3, 9);

  TrainConfig ham = all;
  ham.model.loop = LoopKind::hamiltonian;
  ham.model.mu = 0.9f;
  ham.model.alpha = 0.7f;
  check_gradients({"hamiltonian", ham}, 2, 6);

  TrainConfig free_attention = all;
  free_attention.model.causal = false;
  free_attention.model.positions = Positions::none;
  check_gradients({"no mask, no positions", free_attention}, 2, 6);

  TrainConfig two_hop = all;
  two_hop.task.hops = 2;
  check_gradients({"2-hop targets", two_hop}, 2, 8);
}

TEST_CASE("finite differences: relative positions (SPEC 1.1), every term on") {
  const TrainConfig all = with_lambdas(small_config(4, 5), 0.3f, 0.05f, 0.2f);
  for (Positions k : {Positions::alibi, Positions::alibi_sinusoidal, Positions::rope, Positions::none}) {
    TrainConfig c = all;
    c.model.positions = k;
    c.model.alibi_rho = -0.3f;  // a slope of 0.55, then moved by the parameter noise
    c.model.rope_base = 50.0f;  // large angles within the few positions of the test
    check_gradients({"positions " + std::to_string(int(k)), c}, 3, 9);
    c.model.causal = false;  // symmetric ALiBi distances |i - j|
    check_gradients({"positions " + std::to_string(int(k)) + ", no mask", c}, 2, 6);
  }
  TrainConfig ce_only = with_lambdas(small_config(), 0, 0, 0);
  ce_only.model.positions = Positions::alibi;
  check_gradients({"alibi, cross-entropy alone", ce_only}, 2, 7);
}

TEST_CASE("the recompute (flash-style) backward matches the stored-probability backward") {
  for (Positions k : {Positions::sinusoidal, Positions::alibi, Positions::rope}) {
  CAPTURE(int(k));
  TrainConfig cfg = with_lambdas(small_config(3), 0.3f, 0.05f, 0.2f);
  cfg.model.positions = k;
  Capacity keep_cap{9, 3, 1};
  Capacity recompute_cap = keep_cap;
  recompute_cap.activation_budget = 0;
  TrainerHarness<double> keep(cfg, keep_cap), recompute(cfg, recompute_cap);
  REQUIRE(keep.status.is_ok());
  REQUIRE(recompute.status.is_ok());
  CHECK_FALSE(Trainer<double>::plan(cfg, keep_cap).recompute_attention);
  CHECK(Trainer<double>::plan(cfg, recompute_cap).recompute_attention);
  CHECK(Trainer<double>::plan(cfg, recompute_cap).activations < Trainer<double>::plan(cfg, keep_cap).activations);
  Rng r1(5), r2(5);
  keep.trainer.init_weights(r1);
  recompute.trainer.init_weights(r2);
  const auto data = make_induction(3, 3, 9, 4);
  LossTerms a, b;
  REQUIRE(keep.trainer.compute_gradients(data.view(), &a).is_ok());
  REQUIRE(recompute.trainer.compute_gradients(data.view(), &b).is_ok());
  CHECK(a.total == doctest::Approx(b.total).epsilon(1e-14));
  for (std::size_t i = 0; i < keep.trainer.param_count(); ++i)
    REQUIRE(keep.trainer.grads()[i] == doctest::Approx(recompute.trainer.grads()[i]).epsilon(1e-10));
  }
}
