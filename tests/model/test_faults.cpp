// Numerical faults in the engine's train_step: a non-finite loss, gradient or update
// is detected, named (StepStats::fault), and the step is skipped: parameters and AdamW moments
// keep their exact bits, and only the step counter moves on (so the schedule stays aligned).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "support/harness.hpp"

using namespace tinyloop;
using namespace tinyloop::test;

namespace {

struct Snapshot {
  std::vector<float> params, m, v;
  explicit Snapshot(Trainer<float>& t)
      : params(t.params(), t.params() + t.param_count()),
        m(t.adam_m(), t.adam_m() + t.param_count()),
        v(t.adam_v(), t.adam_v() + t.param_count()) {}
  static bool same_bits(const std::vector<float>& a, const float* b) {
    return std::memcmp(a.data(), b, a.size() * sizeof(float)) == 0;
  }
  bool unchanged(Trainer<float>& t) const {
    return same_bits(params, t.params()) && same_bits(m, t.adam_m()) && same_bits(v, t.adam_v());
  }
};

Capacity batches_of_2x16() {
  Capacity cap;
  cap.max_len = 16;
  cap.max_batch = 2;
  return cap;
}

// One healthy step first, so the AdamW moments are non-zero and a stray write would show.
void warm_up(Trainer<float>& t, const InductionData& d) {
  Rng init(11, 1);
  t.init_weights(init);
  StepStats st;
  REQUIRE(t.train_step(d.view(), &st).is_ok());
  REQUIRE_FALSE(st.skipped);
}

}  // namespace

TEST_CASE("a NaN weight: the step is skipped, named cross-entropy, and nothing is written") {
  TrainConfig cfg = small_config();
  TrainerHarness<float> h(cfg, batches_of_2x16());
  REQUIRE(h.status.is_ok());
  InductionData d = make_induction(3, 2, 16, cfg.task.alphabet);
  warm_up(h.trainer, d);

  h.trainer.params()[h.trainer.layout().info[0].offset] = std::numeric_limits<float>::quiet_NaN();  // E[0]
  const Snapshot before(h.trainer);
  const std::int64_t step = h.trainer.step();
  StepStats st;
  REQUIRE(h.trainer.train_step(d.view(), &st).is_ok());
  CHECK(st.skipped);
  CHECK(std::string(st.fault) == "cross-entropy");
  CHECK_FALSE(std::isfinite(st.loss.ce));
  CHECK(before.unchanged(h.trainer));
  CHECK(h.trainer.step() == step + 1);
}

TEST_CASE("an overflowing gradient (huge kinetic weight): skipped as 'gradient', nothing written") {
  TrainConfig cfg = small_config();
  cfg.loss.lambda_k = 3e38f;  // valid, but its gradient overflows float
  TrainerHarness<float> h(cfg, batches_of_2x16());
  REQUIRE(h.status.is_ok());
  InductionData d = make_induction(4, 2, 16, cfg.task.alphabet);
  Rng init(11, 1);
  h.trainer.init_weights(init);
  const Snapshot before(h.trainer);
  StepStats st;
  REQUIRE(h.trainer.train_step(d.view(), &st).is_ok());
  CHECK(st.skipped);
  CHECK(std::string(st.fault) == "gradient");
  CHECK_FALSE(std::isfinite(st.grad_norm));
  CHECK(before.unchanged(h.trainer));
}

TEST_CASE("an update that would overflow the weights (lr 3e38): skipped as 'weight update'") {
  TrainConfig cfg = small_config();
  cfg.optim.lr = 3e38f;
  TrainerHarness<float> h(cfg, batches_of_2x16());
  REQUIRE(h.status.is_ok());
  InductionData d = make_induction(5, 2, 16, cfg.task.alphabet);
  Rng init(11, 1);
  h.trainer.init_weights(init);
  const Snapshot before(h.trainer);
  StepStats st;
  REQUIRE(h.trainer.train_step(d.view(), &st).is_ok());
  CHECK(std::isfinite(st.loss.total));
  CHECK(st.skipped);
  CHECK(std::string(st.fault) == "weight update");
  CHECK(before.unchanged(h.trainer));
}

TEST_CASE("after skipped steps, healthy steps train again from the untouched weights") {
  TrainConfig cfg = small_config();
  TrainerHarness<float> h(cfg, batches_of_2x16());
  REQUIRE(h.status.is_ok());
  InductionData d = make_induction(6, 2, 16, cfg.task.alphabet);
  warm_up(h.trainer, d);
  float* e0 = h.trainer.params() + h.trainer.layout().info[0].offset;
  const float saved = *e0;
  *e0 = std::numeric_limits<float>::infinity();
  StepStats st;
  REQUIRE(h.trainer.train_step(d.view(), &st).is_ok());
  CHECK(st.skipped);
  *e0 = saved;  // the fault is gone: training goes on
  REQUIRE(h.trainer.train_step(d.view(), &st).is_ok());
  CHECK_FALSE(st.skipped);
  CHECK(std::string(st.fault).empty());
  CHECK(std::isfinite(st.loss.total));
}
