// Inference: the streaming forward against the training forward, its linear working memory,
// and its optional attention output.
//
// The streaming (online-softmax) inference reproduces the training forward pass, and its
// working memory grows linearly in the sequence length.
#include <doctest/doctest.h>

#include <cmath>

#include "loss/cross_entropy.hpp"
#include "support/harness.hpp"

using namespace tinyloop;
using namespace tinyloop::test;

namespace {

void compare_with_trainer(TrainConfig cfg, int len) {
  TrainerHarness<double> h(cfg, Capacity{len, 2, 1});
  REQUIRE(h.status.is_ok());
  Rng rng(8);
  h.trainer.init_weights(rng);
  const auto data = make_induction(4, 2, len, cfg.task.alphabet);
  LossTerms terms;
  REQUIRE(h.trainer.evaluate_loss(data.view(), &terms).is_ok());

  std::vector<float> params(h.trainer.params(), h.trainer.params() + h.trainer.param_count());
  std::vector<unsigned char> buffer(Inference::plan(cfg.model, len).total);
  Inference inf;
  REQUIRE(inf.init(cfg.model, len, buffer.data(), buffer.size()).is_ok());
  REQUIRE(inf.load_params(params.data(), params.size()).is_ok());
  const int V = cfg.model.out_dim;
  std::vector<float> logits(std::size_t(len) * V);
  std::vector<std::int32_t> pred(len), per_loop(std::size_t(len) * cfg.model.layers);
  for (int b = 0; b < 2; ++b) {
    InferOutputs out{logits.data(), pred.data(), per_loop.data()};
    REQUIRE(inf.run(data.tokens.data() + b * len, len, out).is_ok());
    const double* ref = h.trainer.logits(b);
    double worst = 0;
    for (int i = 0; i < len * V; ++i) worst = std::fmax(worst, std::fabs(logits[i] - ref[i]));
    CHECK(worst < 2e-4);
    for (int i = 0; i < len; ++i) {
      CHECK(pred[i] == tinyloop::loss::argmax(ref + i * V, V));
      CHECK(per_loop[std::size_t(cfg.model.layers - 1) * len + i] == pred[i]);  // last loop = final readout
    }
  }
}

}  // namespace

TEST_CASE("streaming inference matches the training forward pass") {
  compare_with_trainer(small_config(6), 40);
  TrainConfig ham = small_config(5, 6);
  ham.model.loop = LoopKind::hamiltonian;
  ham.model.alpha = 0.5f;
  compare_with_trainer(ham, 20);
  TrainConfig nomask = small_config(3);
  nomask.model.causal = false;
  nomask.model.positions = Positions::none;
  compare_with_trainer(nomask, 17);
}

TEST_CASE("streaming inference matches the training forward pass with relative positions") {
  for (Positions k : {Positions::alibi, Positions::alibi_sinusoidal, Positions::rope}) {
    CAPTURE(int(k));
    TrainConfig c = small_config(6);
    c.model.positions = k;
    c.model.alibi_rho = 0.2f;
    c.model.rope_base = 100.0f;
    compare_with_trainer(c, 45);  // pairs of queries and a ragged last one
    c.model.causal = false;
    compare_with_trainer(c, 19);
  }
}

TEST_CASE("inference memory grows linearly in the sequence length") {
  const ModelSpec m = preset_lam2026().model;
  const std::size_t at1000 = Inference::plan(m, 1000).activations;
  const std::size_t at2000 = Inference::plan(m, 2000).activations;
  const std::size_t at100000 = Inference::plan(m, 100000).activations;
  CHECK(at2000 <= 2 * at1000 + 256);
  CHECK(at100000 <= 100 * at1000 + 256 * 100);
  CHECK(at1000 < 256 * 1024);  // the inference budget beyond the parameters
  CHECK(at1000 >= 1000 * 8 * sizeof(float));  // it does hold the sequence
}
