// Inference's optional attention output (InferOutputs::attention): the probabilities of one
// loop, or of every loop, equal the training forward's, and asking for them allocates nothing.
#include <doctest/doctest.h>

#include <cmath>

#include "alloc_counter.hpp"  // heap allocations of this process, counted
#include "support/harness.hpp"

using namespace tinyloop;
using namespace tinyloop::test;

namespace {

void compare_attention(TrainConfig cfg, int len) {
  Capacity cap{len, 1, 1};
  cap.keep_attention = true;
  TrainerHarness<double> h(cfg, cap);
  REQUIRE(h.status.is_ok());
  Rng rng(5);
  h.trainer.init_weights(rng);
  const auto data = make_induction(3, 1, len, cfg.task.alphabet);
  LossTerms terms;
  REQUIRE(h.trainer.evaluate_loss(data.view(), &terms).is_ok());
  REQUIRE(h.trainer.attention(0, 1) != nullptr);

  std::vector<float> params(h.trainer.params(), h.trainer.params() + h.trainer.param_count());
  std::vector<unsigned char> buffer(Inference::plan(cfg.model, len).total);
  Inference inf;
  REQUIRE(inf.init(cfg.model, len, buffer.data(), buffer.size()).is_ok());
  REQUIRE(inf.load_params(params.data(), params.size()).is_ok());
  const int L = cfg.model.layers;
  const std::size_t nn = std::size_t(len) * len;
  std::vector<float> all(L * nn, -1.0f), one(nn, -1.0f);
  std::vector<std::int32_t> pred(len), pred_plain(len);

  InferOutputs out;
  out.predictions = pred.data();
  out.attention = all.data();  // attention_loop 0: every loop
  const long before = alloc_counter::allocations();
  REQUIRE(inf.run(data.tokens.data(), len, out).is_ok());
  CHECK(alloc_counter::allocations() - before == 0);

  double worst = 0;
  for (int t = 1; t <= L; ++t) {
    const double* ref = h.trainer.attention(0, t);
    for (int i = 0; i < len; ++i) {
      double row_sum = 0;
      const int count = cfg.model.causal ? i + 1 : len;
      for (int j = 0; j < len; ++j) {
        const float p = all[(t - 1) * nn + std::size_t(i) * len + j];
        row_sum += p;
        if (j < count) worst = std::fmax(worst, std::fabs(p - ref[std::size_t(i) * len + j]));
        else CHECK(p == 0.0f);
      }
      CHECK(row_sum == doctest::Approx(1.0).epsilon(1e-5));
    }
  }
  CHECK(worst < 2e-4);

  // One chosen loop: the same rows; asking changes no prediction.
  const int chosen = L > 1 ? 2 : 1;
  InferOutputs single;
  single.predictions = pred_plain.data();
  single.attention = one.data();
  single.attention_loop = chosen;
  REQUIRE(inf.run(data.tokens.data(), len, single).is_ok());
  for (std::size_t k = 0; k < nn; ++k) CHECK(one[k] == all[(chosen - 1) * nn + k]);
  CHECK(pred_plain == pred);

  single.attention_loop = L + 1;
  Status bad = inf.run(data.tokens.data(), len, single);
  CHECK_FALSE(bad.is_ok());
}

}  // namespace

TEST_CASE("inference attention output equals the training forward's attention") {
  compare_attention(small_config(4), 33);  // a length the SIMD path's query groups do not divide
  TrainConfig nomask = small_config(3);
  nomask.model.causal = false;
  compare_attention(nomask, 20);
  TrainConfig ham = small_config(3);
  ham.model.loop = LoopKind::hamiltonian;
  compare_attention(ham, 16);
}
