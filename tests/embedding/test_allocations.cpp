// What an application embedding the engine relies on: the C API, the freestanding platform,
// and no heap allocation after planning.
//
// Proves the hot path is allocation-free: this binary links tinyloop_alloc_counter, which
// replaces the global operator new and malloc family with counting versions, and a training
// step or an inference call after set-up must not bump the counter.
#include <doctest/doctest.h>

#include <cstdlib>

#include "alloc_counter.hpp"  // heap allocations of this process, counted
#include "support/harness.hpp"
#include "tinyloop/evaluate.hpp"

using namespace tinyloop;
using namespace tinyloop::test;

TEST_CASE("the counter sees allocations (the hook is live)") {
  const long before = alloc_counter::allocations();
  void* volatile p = std::malloc(32);
  std::free(p);
  auto* volatile q = new int(3);
  delete q;
  CHECK(alloc_counter::allocations() - before >= 2);
}

TEST_CASE("training steps allocate nothing, with every position scheme") {
  for (Positions k : {Positions::sinusoidal, Positions::none, Positions::alibi,
                         Positions::alibi_sinusoidal, Positions::rope}) {
  CAPTURE(int(k));
  TrainConfig cfg = small_config(5);
  cfg.model.positions = k;
  cfg.batch = 4;
  const Capacity cap{24, 4, 1};
  TrainerHarness<float> h(cfg, cap);
  REQUIRE(h.status.is_ok());
  Rng rng(1);
  h.trainer.init_weights(rng);
  std::vector<std::int32_t> tokens(4 * 24), targets(4 * 24), prev(24), last(cfg.task.alphabet);
  InductionBatchBuffers buffers{tokens.data(), targets.data(), prev.data(), last.data()};
  Rng data(2);
  cfg.curriculum.min_len = 8;
  cfg.curriculum.max_len = 24;

  const long before = alloc_counter::allocations();
  for (int s = 0; s < 20; ++s) {
    const int len = induction_batch(data, cfg, s, buffers);
    StepStats stats;
    REQUIRE(h.trainer.train_step(Batch{tokens.data(), targets.data(), cfg.batch, len}, &stats).is_ok());
  }
  CHECK(alloc_counter::allocations() - before == 0);
  }
}

TEST_CASE("inference and evaluation allocate nothing, with every position scheme") {
  for (Positions k : {Positions::sinusoidal, Positions::none, Positions::alibi,
                         Positions::alibi_sinusoidal, Positions::rope}) {
  CAPTURE(int(k));
  TrainConfig cfg = small_config(4);
  cfg.model.positions = k;
  const int max_len = 300;
  std::vector<unsigned char> buffer(Inference::plan(cfg.model, max_len).total);
  Inference inf;
  REQUIRE(inf.init(cfg.model, max_len, buffer.data(), buffer.size()).is_ok());
  TrainerHarness<float> h(cfg, Capacity{8, 1, 1});
  Rng rng(3);
  h.trainer.init_weights(rng);
  REQUIRE(inf.load_params(h.trainer.params(), h.trainer.param_count()).is_ok());
  std::vector<std::int32_t> scratch(eval_scratch_ints(max_len, cfg.task.alphabet, cfg.model.layers));
  std::vector<float> logits(max_len * cfg.model.out_dim);
  std::vector<double> per_loop(cfg.model.layers);
  auto sc = bind_eval_scratch(scratch.data(), max_len, cfg.task.alphabet, cfg.model.layers);

  const long before = alloc_counter::allocations();
  EvalResult result;
  REQUIRE(evaluate_induction(inf, cfg.task, max_len, 3, 9, sc, &result, per_loop.data()).is_ok());
  InferOutputs out;
  out.logits = logits.data();
  REQUIRE(inf.run(sc.tokens, max_len, out).is_ok());
  CHECK(alloc_counter::allocations() - before == 0);
  }
}
