// The values that follow the training step: the learning rate (SPEC §3 option: warm-up, cosine
// decay) and the entropy target eta (the entropy schedule), and that the trainer feeds
// the scheduled eta to both the loss value and its gradient.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "optim/schedule.hpp"
#include "support/harness.hpp"

using namespace tinyloop;
using namespace tinyloop::test;

TEST_CASE("learning rate: constant, linear warm-up, then cosine down to the floor") {
  OptimConfig o;
  o.lr = 0.01f;
  CHECK(optim::scheduled_lr(o, 0, 100) == doctest::Approx(0.01).epsilon(1e-7));
  CHECK(optim::scheduled_lr(o, 99, 100) == doctest::Approx(0.01).epsilon(1e-7));

  o.warmup_steps = 10;
  CHECK(optim::scheduled_lr(o, 0, 100) == doctest::Approx(0.001).epsilon(1e-6));  // (step + 1) / warmup
  CHECK(optim::scheduled_lr(o, 4, 100) == doctest::Approx(0.005).epsilon(1e-6));
  CHECK(optim::scheduled_lr(o, 10, 100) == doctest::Approx(0.01).epsilon(1e-6));

  o.schedule = Schedule::cosine;
  o.min_lr_ratio = 0.1f;
  CHECK(optim::scheduled_lr(o, 10, 100) == doctest::Approx(0.01).epsilon(1e-6));   // cosine starts at lr
  CHECK(optim::scheduled_lr(o, 55, 100) == doctest::Approx(0.0055).epsilon(1e-6));  // halfway: mean of lr and floor
  CHECK(optim::scheduled_lr(o, 100, 100) == doctest::Approx(0.001).epsilon(1e-6));  // the floor
  CHECK(optim::scheduled_lr(o, 500, 100) == doctest::Approx(0.001).epsilon(1e-6));  // resumed past the plan
  double previous = 1;
  for (int s = 10; s <= 100; ++s) {  // monotone after the warm-up
    const double lr = optim::scheduled_lr(o, s, 100);
    CHECK(lr <= previous);
    previous = lr;
  }
}

TEST_CASE("entropy target: the paper's constant eta, or a cosine from eta to eta_final") {
  LossConfig l;
  l.eta = 0.8f;
  l.eta_final = 0.2f;  // ignored while the schedule is constant
  CHECK(optim::scheduled_eta(l, 0, 1000) == doctest::Approx(0.8).epsilon(1e-7));
  CHECK(optim::scheduled_eta(l, 999, 1000) == doctest::Approx(0.8).epsilon(1e-7));

  l.eta_schedule = Schedule::cosine;
  CHECK(optim::scheduled_eta(l, 0, 1001) == doctest::Approx(0.8).epsilon(1e-7));     // first step
  CHECK(optim::scheduled_eta(l, 500, 1001) == doctest::Approx(0.5).epsilon(1e-6));   // halfway
  CHECK(optim::scheduled_eta(l, 1000, 1001) == doctest::Approx(0.2).epsilon(1e-6));  // last step
  CHECK(optim::scheduled_eta(l, 4000, 1001) == doctest::Approx(0.2).epsilon(1e-6));  // resumed past the plan
  CHECK(optim::scheduled_eta(l, 250, 1001) > 0.5);  // a cosine stays high longer than a line
  CHECK(optim::scheduled_eta(l, 0, 1) == doctest::Approx(0.8).epsilon(1e-7));      // a one-step run
}

TEST_CASE("the trainer uses the scheduled eta in the loss and in its gradient") {
  TrainConfig scheduled = small_config();
  scheduled.loss.lambda_s = 1.0f;
  scheduled.loss.q = 2.0f;
  scheduled.loss.eta = 2.0f;  // above any attention row's S_2 < 1: the slope is -1 early ...
  scheduled.loss.eta_final = 0.0f;  // ... and +1 late
  scheduled.loss.eta_schedule = Schedule::cosine;
  scheduled.steps = 100;
  const Capacity cap{9, 2, 1};
  const auto data = make_induction(5, 2, 9, scheduled.task.alphabet);

  for (std::int64_t step : {0, 37, 99}) {
    CAPTURE(step);
    TrainerHarness<double> a(scheduled, cap);
    REQUIRE(a.status.is_ok());
    Rng ra(3);
    a.trainer.init_weights(ra);
    a.trainer.set_step(step);
    LossTerms la;
    REQUIRE(a.trainer.compute_gradients(data.view(), &la).is_ok());
    const double eta = optim::scheduled_eta(scheduled.loss, step, scheduled.steps);
    CHECK(la.eta == eta);
    CHECK(la.entropy == doctest::Approx(std::fabs(la.tsallis - eta)).epsilon(1e-12));

    // The same step with the constant target eta(step): identical loss and gradient.
    TrainConfig fixed = scheduled;
    fixed.loss.eta_schedule = Schedule::constant;
    fixed.loss.eta = float(eta);
    TrainerHarness<double> b(fixed, cap);
    REQUIRE(b.status.is_ok());
    Rng rb(3);
    b.trainer.init_weights(rb);
    LossTerms lb;
    REQUIRE(b.trainer.compute_gradients(data.view(), &lb).is_ok());
    CHECK(la.total == doctest::Approx(lb.total).epsilon(1e-6));  // eta rounded to float in `fixed`
    double worst = 0;
    for (std::size_t i = 0; i < a.trainer.param_count(); ++i)
      worst = std::fmax(worst, std::fabs(a.trainer.grads()[i] - b.trainer.grads()[i]));
    CHECK(worst < 1e-12);  // the slope of |S - eta| is +-1 either way
  }
}
