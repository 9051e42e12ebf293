// What comes in: checkpoints (round trips, byte layout, the frozen files of every format
// version) and bad input of every kind, refused with a clear error.
//
// Bad input gets a clear error, never a crash or silent garbage.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "support/harness.hpp"

using namespace tinyloop;
using namespace tinyloop::test;

namespace {
bool mentions(const Status& s, const char* word) { return std::strstr(s.message(), word) != nullptr; }
}  // namespace

TEST_CASE("training rejects out-of-range tokens and targets, long sequences and big batches") {
  const TrainConfig cfg = small_config(2);
  TrainerHarness<float> h(cfg, Capacity{8, 2, 1});
  REQUIRE(h.status.is_ok());
  Rng rng(1);
  h.trainer.init_weights(rng);
  auto data = make_induction(1, 2, 8, 4);
  const std::vector<float> before(h.trainer.params(), h.trainer.params() + h.trainer.param_count());
  StepStats stats;

  data.tokens[5] = 4;
  Status s = h.trainer.train_step(data.view(), &stats);
  CHECK(s.code() == Error::token_out_of_range);
  CHECK(mentions(s, "token 4"));
  data.tokens[5] = -1;
  CHECK(h.trainer.train_step(data.view(), &stats).code() == Error::token_out_of_range);
  data.tokens[5] = 1;
  data.targets[3] = 9;
  CHECK(h.trainer.train_step(data.view(), &stats).code() == Error::target_out_of_range);
  data.targets[3] = -1;  // the model leaves negative labels out; the recipe's targets have none
  s = h.trainer.train_step(data.view(), &stats);
  CHECK(s.code() == Error::target_out_of_range);
  CHECK(mentions(s, "target -1 at sequence 0 position 3"));
  data.targets[3] = 0;

  const auto long_data = make_induction(1, 2, 9, 4);
  s = h.trainer.train_step(long_data.view(), &stats);
  CHECK(s.code() == Error::sequence_too_long);
  CHECK(mentions(s, "length 9"));
  const auto big_batch = make_induction(1, 3, 8, 4);
  CHECK(h.trainer.train_step(big_batch.view(), &stats).code() == Error::batch_too_large);
  CHECK(h.trainer.train_step(Batch{nullptr, nullptr, 2, 8}, &stats).code() == Error::bad_config);

  // Nothing of the rejected batches reached the weights.
  CHECK(std::memcmp(before.data(), h.trainer.params(), before.size() * sizeof(float)) == 0);
  CHECK(h.trainer.step() == 0);
}

TEST_CASE("a buffer smaller than the plan is refused") {
  const TrainConfig cfg = small_config(2);
  const Capacity cap{8, 2, 1};
  const std::size_t need = Trainer<float>::plan(cfg, cap).total;
  std::vector<unsigned char> small(need - 1);
  Trainer<float> tr;
  Status s = tr.init(cfg, cap, small.data(), small.size());
  CHECK(s.code() == Error::buffer_too_small);
  CHECK(mentions(s, "smaller than"));
  CHECK(tr.init(cfg, cap, nullptr, need).code() == Error::buffer_too_small);
  StepStats stats;
  const auto data = make_induction(1, 2, 8, 4);
  CHECK(tr.train_step(data.view(), &stats).code() == Error::not_initialized);

  Inference inf;
  std::vector<unsigned char> tiny(16);
  CHECK(inf.init(cfg.model, 100, tiny.data(), tiny.size()).code() == Error::buffer_too_small);
  std::int32_t tok[2] = {0, 1};
  CHECK(inf.run(tok, 2, InferOutputs{}).code() == Error::not_initialized);
}

TEST_CASE("inference rejects bad tokens and sequences over capacity") {
  const TrainConfig cfg = small_config(2);
  std::vector<unsigned char> buffer(Inference::plan(cfg.model, 10).total);
  Inference inf;
  REQUIRE(inf.init(cfg.model, 10, buffer.data(), buffer.size()).is_ok());
  std::int32_t tokens[11] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2};
  std::int32_t pred[11];
  InferOutputs out;
  out.predictions = pred;
  Status s = inf.run(tokens, 11, out);
  CHECK(s.code() == Error::sequence_too_long);
  CHECK(mentions(s, "capacity of 10"));
  tokens[2] = 7;
  s = inf.run(tokens, 5, out);
  CHECK(s.code() == Error::token_out_of_range);
  CHECK(mentions(s, "position 2"));
  CHECK(inf.run(tokens, 0, out).code() == Error::bad_config);
  std::vector<float> nan_params(inf.layout().total, 0.0f);
  nan_params[3] = NAN;
  CHECK(inf.load_params(nan_params.data(), nan_params.size()).code() == Error::non_finite);
  CHECK(inf.load_params(nan_params.data(), nan_params.size() - 1).code() == Error::bad_checkpoint);
}

TEST_CASE("invalid configurations are rejected with a message naming the field") {
  TrainConfig c = small_config();
  c.model.layers = 0;
  CHECK(mentions(validate(c), "loops"));
  c = small_config();
  c.loss.q = 1.0f;
  CHECK(mentions(validate(c), "q"));
  c = small_config();
  c.loss.lambda_p = -1;
  CHECK(mentions(validate(c), "lambda"));
  c = small_config();
  c.curriculum.min_len = 70;
  CHECK(mentions(validate(c), "curriculum"));
  c = small_config();
  c.task.alphabet = 6;  // vocab not synced
  CHECK(mentions(validate(c), "vocab"));
  c = small_config();
  c.model.width = 16;  // the recipe trains the looped block only
  CHECK(validate(c).code() == Error::unsupported);
  CHECK(mentions(validate(c), "looped block"));

  c = small_config();
  c.optim.lr = NAN;
  CHECK(mentions(validate(c), "lr"));
  c = small_config();
  c.model.init_scale = 0.0f;
  CHECK(mentions(validate(c), "init_scale"));
  c.model.init_scale = INFINITY;
  CHECK(mentions(validate(c), "init_scale"));
  c = small_config();
  c.loss.eta_final = NAN;
  CHECK(mentions(validate(c), "eta_final"));
}
