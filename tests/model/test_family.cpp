// The model family: finite-difference checks of every parameter element in double
// precision for each configuration in support/family_cases.hpp, planning, allocation-free
// steps, thread-count independence, configuration errors, and the ALiBi / RoPE schemes.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "alloc_counter.hpp"  // heap allocations of this process, counted
#include "support/family_cases.hpp"
#include "tinyloop/model.hpp"

using namespace tinyloop;
using namespace tinyloop::test;

namespace {

// Small random weights so that no LayerNorm or softmax saturates (LN gains near 1).
void perturb_weights(Model<double>& m, std::uint64_t seed) {
  Rng rng(seed);
  m.init_weights(rng);
  const ModelLayout& l = m.layout();
  for (int t = 0; t < l.count; ++t) {
    const LayoutTensor& ft = l.tensors[t];
    for (std::size_t i = 0; i < ft.size(); ++i) m.params()[ft.offset + i] += 0.1 * (2.0 * rng.uniform01_double() - 1.0);
  }
}

// Every parameter element of the case against central differences (double), from the weights
// of perturb_weights; returns the worst relative error and sets *checked to the count.
double check_every_gradient(const FamilyCase& fc, int* checked) {
  BuiltModel<double> h(fc.cfg, Capacity{fc.len, fc.batch, 1});
  REQUIRE(h.status.is_ok());
  perturb_weights(h.m, 11);
  const auto data = random_family_data<double>(fc.cfg, fc.batch, fc.len, 7);
  const auto batch = data.batch(fc.batch, fc.len);
  ModelStats st;
  REQUIRE(h.m.compute_gradients(batch, &st).is_ok());
  CHECK(st.counted > 0);
  const std::vector<double> analytic(h.m.grads(), h.m.grads() + h.m.param_count());
  const ModelLayout& l = h.m.layout();
  double worst = 0;
  *checked = 0;
  for (int t = 0; t < l.count; ++t) {
    const LayoutTensor& ft = l.tensors[t];
    for (std::size_t i = 0; i < ft.size(); ++i) {
      double* p = h.m.params() + ft.offset + i;
      const double keep = *p, eps = 1e-5;
      ModelStats plus, minus;
      *p = keep + eps;
      REQUIRE(h.m.evaluate(batch, &plus).is_ok());
      *p = keep - eps;
      REQUIRE(h.m.evaluate(batch, &minus).is_ok());
      *p = keep;
      const double numeric = (plus.loss - minus.loss) / (2 * eps);
      const double a = analytic[ft.offset + i];
      const double err = std::fabs(a - numeric) / std::fmax(1e-3, std::fabs(a) + std::fabs(numeric));
      if (err > worst) worst = err;
      if (err > 1e-6) {
        CAPTURE(ft.name);
        CAPTURE(i);
        CHECK(a == doctest::Approx(numeric).epsilon(1e-6));
      }
      ++*checked;
    }
  }
  return worst;
}

int element_count(const ModelSpec& c) {
  const ModelLayout l = ModelLayout::make(c);
  std::size_t s = 0;
  for (int t = 0; t < l.count; ++t) s += l.tensors[t].size();
  return int(s);
}

}  // namespace

TEST_CASE("family: every parameter matches central differences (double)") {
  for (const FamilyCase& fc : family_cases()) {
    CAPTURE(fc.name);
    int checked = 0;
    const double worst = check_every_gradient(fc, &checked);
    MESSAGE(fc.name << ": " << checked << " parameters, worst relative error " << worst);
    CHECK(checked == element_count(fc.cfg));
  }
}

TEST_CASE("family: ALiBi slopes (rho) and RoPE match central differences (double)") {
  std::vector<FamilyCase> cases;
  {  // one shared rho per head, its gradient summed over the loops
    ModelSpec c;
    c.layers = 3; c.looped = true; c.heads = 2; c.width = 4; c.hidden = 8; c.positions = Positions::alibi;
    c.alibi_rho = 1.5f; c.vocab_in = 3; c.out_dim = 3;
    cases.push_back({"looped_alibi", c, 2, 6});
  }
  {  // ALiBi on vector inputs with a fixed attention scale, regression
    ModelSpec c;
    c.layers = 1; c.heads = 2; c.width = 4; c.mlp = false; c.attn_scale = 0.9f; c.positions = Positions::alibi;
    c.alibi_rho = -1.0f; c.input = InputKind::vectors; c.in_dim = 3; c.output = OutputKind::regression;
    c.out_dim = 2;
    cases.push_back({"alibi_regression", c, 2, 5});
  }
  {  // RoPE without the causal mask or LayerNorm, heads of width 2, the default base
    ModelSpec c;
    c.layers = 2; c.heads = 2; c.width = 4; c.layernorm = false; c.causal = false; c.positions = Positions::rope;
    c.vocab_in = 4; c.out_dim = 3;
    cases.push_back({"rope_nomask", c, 2, 6});
  }
  for (const FamilyCase& fc : cases) {
    CAPTURE(fc.name);
    const ModelLayout l = ModelLayout::make(fc.cfg);
    const int rho = l.find("L0.rho");
    CHECK((rho >= 0) == uses_alibi(fc.cfg.positions));
    if (rho >= 0) CHECK(l.tensors[rho].size() == std::size_t(fc.cfg.heads));
    int checked = 0;
    const double worst = check_every_gradient(fc, &checked);
    MESSAGE(fc.name << ": " << checked << " parameters, worst relative error " << worst);
    CHECK(checked == element_count(fc.cfg));
  }
}

TEST_CASE("family: position_gated attention composes with loops, pre-LN, the MLP and no mask (double)") {
  std::vector<FamilyCase> cases;
  {  // one shared block run twice: each loop's share of dS joins the one gate; residual, MLP, LN
    ModelSpec c;
    c.layers = 2; c.looped = true; c.heads = 2; c.width = 4; c.hidden = 6; c.attention = AttentionKind::position_gated;
    c.positions = Positions::learned; c.max_len = 6; c.vocab_in = 4; c.out_dim = 3;
    cases.push_back({"gated_looped", c, 2, 5});
  }
  {  // two stacked layers, each with its own gates, without the causal mask, head_dim = width given
    ModelSpec c;
    c.layers = 2; c.heads = 2; c.width = 3; c.head_dim = 3; c.mlp = false; c.causal = false; c.out_proj = false;
    c.attn_bias = true; c.attention = AttentionKind::position_gated; c.positions = Positions::learned;
    c.max_len = 5; c.input = InputKind::vectors; c.in_dim = 2; c.output = OutputKind::regression; c.out_dim = 2;
    cases.push_back({"gated_stacked_nomask", c, 3, 5});
  }
  for (const FamilyCase& fc : cases) {
    CAPTURE(fc.name);
    int checked = 0;
    const double worst = check_every_gradient(fc, &checked);
    MESSAGE(fc.name << ": " << checked << " parameters, worst relative error " << worst);
    CHECK(checked == element_count(fc.cfg));
  }
}

TEST_CASE("family: ALiBi starts at alibi_rho and its map is the softmax after the bias") {
  ModelSpec c;
  c.layers = 2; c.heads = 2; c.positions = Positions::alibi; c.alibi_rho = 30.0f;
  BuiltModel<double> h(c, Capacity{6, 1, 1});
  REQUIRE(h.status.is_ok());
  Rng rng(2);
  h.m.init_weights(rng);
  const ModelLayout& l = h.m.layout();
  for (int b = 0; b < 2; ++b)
    for (int hd = 0; hd < 2; ++hd) CHECK(h.m.params()[l.block[b].rho + hd] == 30.0);
  const auto data = random_family_data<double>(c, 1, 6, 3);
  REQUIRE(h.m.evaluate(data.batch(1, 6), nullptr).is_ok());
  // A slope of softplus(30) ~ 30 per step of distance leaves each query on itself.
  for (int layer = 0; layer < 2; ++layer)
    for (int hd = 0; hd < 2; ++hd) {
      const double* P = h.m.attention(0, layer, hd);
      for (int i = 0; i < 6; ++i) CHECK(P[i * 6 + i] > 0.999);
    }
}

TEST_CASE("family: steps allocate nothing and shorter batches fit the plan") {
  for (const FamilyCase& fc : family_cases()) {
    CAPTURE(fc.name);
    BuiltModel<float> h(fc.cfg, Capacity{fc.len, fc.batch, 1});
    REQUIRE(h.status.is_ok());
    Rng rng(3);
    h.m.init_weights(rng);
    const auto data = random_family_data<float>(fc.cfg, fc.batch, fc.len, 5);
    const long before = alloc_counter::allocations();
    double first = 0, last = 0;
    bool ok = true;
    const auto full = data.batch(fc.batch, fc.len), shorter = data.batch(fc.batch, fc.len - 1);
    for (int s = 0; s < 30; ++s) {
      ModelStats st;
      ok &= h.m.train_step(s % 2 ? full : shorter, 30, &st).is_ok() && !st.skipped;
      if (s == 1) first = st.loss;
      if (s == 29) last = st.loss;
    }
    const long after = alloc_counter::allocations();
    CHECK(ok);
    CHECK(after == before);
    CHECK(last < first);  // AdamW at lr 1e-3 on a fixed batch goes down
  }
}

TEST_CASE("family: the plan adds up and a small buffer is refused") {
  const FamilyCase fc = family_cases()[0];
  const Capacity cap{fc.len, fc.batch, 2};
  const MemoryPlan p = Model<float>::plan(fc.cfg, cap);
  CHECK(p.total > 0);
  CHECK(p.params + p.grads + p.optimizer + p.activations + p.scratch <= p.total);
  std::vector<unsigned char> small(p.total - 1);
  Model<float> m;
  const Status s = m.init(fc.cfg, OptimConfig{}, cap, small.data(), small.size());
  CHECK(s.code() == Error::buffer_too_small);
}

namespace {

struct TwoWorkers final : ParallelFor {
  int workers() const override { return 2; }
  void run(int tasks, TaskFn fn, void* ctx) override {  // reversed order, alternating workers
    for (int t = tasks - 1; t >= 0; --t) fn(ctx, t, t % 2);
  }
};

}  // namespace

TEST_CASE("family: gradients do not depend on the thread count") {
  TwoWorkers pool;
  for (const FamilyCase& fc : family_cases()) {
    CAPTURE(fc.name);
    BuiltModel<float> a(fc.cfg, Capacity{fc.len, fc.batch, 1});
    BuiltModel<float> b(fc.cfg, Capacity{fc.len, fc.batch, 2});
    REQUIRE(a.status.is_ok());
    REQUIRE(b.status.is_ok());
    b.m.set_parallel(&pool);
    Rng r1(9), r2(9);
    a.m.init_weights(r1);
    b.m.init_weights(r2);
    const auto data = random_family_data<float>(fc.cfg, fc.batch, fc.len, 4);
    for (int s = 0; s < 3; ++s) {
      ModelStats sa, sb;
      REQUIRE(a.m.train_step(data.batch(fc.batch, fc.len), 3, &sa).is_ok());
      REQUIRE(b.m.train_step(data.batch(fc.batch, fc.len), 3, &sb).is_ok());
    }
    bool same = true;
    for (std::size_t i = 0; i < a.m.param_count(); ++i) same &= a.m.params()[i] == b.m.params()[i];
    CHECK(same);
  }
}

// A model too large for a gradient slot per sequence (optim/gradient_slots.hpp): sequences share
// slots, and the batch's gradient is still the count-weighted sum of each sequence's own,
// whatever the thread count.
TEST_CASE("family: sequences sharing gradient slots sum to the batch's gradient") {
  ModelSpec c;
  c.layers = 2; c.heads = 2; c.width = 64; c.vocab_in = 41; c.out_dim = 41;
  const int batch = 20, len = 6;
  const Capacity cap{len, batch, 2};
  const std::size_t count = BuiltModel<double>(c, Capacity{len, 1, 1}).m.param_count();
  const MemoryPlan p = Model<double>::plan(c, cap);
  CHECK(p.grads < (1 + std::size_t(batch)) * count * sizeof(double));  // fewer slots than sequences
  CHECK(p.grads >= (1 + 8) * count * sizeof(double));                  // but at least eight

  BuiltModel<double> whole(c, cap), one(c, Capacity{len, 1, 1});
  REQUIRE(whole.status.is_ok());
  REQUIRE(one.status.is_ok());
  Rng r1(5), r2(5);
  whole.m.init_weights(r1);
  one.m.init_weights(r2);
  const auto data = random_family_data<double>(c, batch, len, 8);
  ModelStats all;
  REQUIRE(whole.m.compute_gradients(data.batch(batch, len), &all).is_ok());
  std::vector<double> sum(count, 0.0);
  for (int b = 0; b < batch; ++b) {
    ModelBatch<double> sb = data.batch(1, len);
    sb.tokens += b * len;
    sb.labels += b * len;
    ModelStats st;
    REQUIRE(one.m.compute_gradients(sb, &st).is_ok());
    const double weight = double(st.counted) / double(all.counted);
    for (std::size_t i = 0; i < count; ++i) sum[i] += weight * one.m.grads()[i];
  }
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < count; ++i) {
    worst = std::fmax(worst, std::fabs(whole.m.grads()[i] - sum[i]));
    scale = std::fmax(scale, std::fabs(sum[i]));
  }
  CHECK(scale > 0);
  CHECK(worst <= 1e-12 * scale);

  TwoWorkers pool;
  BuiltModel<double> two(c, cap);
  REQUIRE(two.status.is_ok());
  Rng r3(5);
  two.m.init_weights(r3);
  two.m.set_parallel(&pool);
  REQUIRE(two.m.compute_gradients(data.batch(batch, len), &all).is_ok());
  bool same = true;
  for (std::size_t i = 0; i < count; ++i) same &= two.m.grads()[i] == whole.m.grads()[i];
  CHECK(same);
}

TEST_CASE("family: invalid configurations and batches are named") {
  ModelSpec c;
  c.width = 6;
  c.heads = 4;
  CHECK(validate(c).code() == Error::bad_config);
  c = ModelSpec{};
  c.out_proj = false;
  c.heads = 2;
  c.head_dim = 3;
  CHECK(validate(c).code() == Error::bad_config);
  c = ModelSpec{};
  c.input = InputKind::vectors;
  c.input_proj = false;
  c.in_dim = 5;
  CHECK(validate(c).code() == Error::bad_config);
  c = ModelSpec{};
  c.positions = Positions::learned;
  c.max_len = 4;
  CHECK(Model<float>::plan(c, Capacity{8, 1, 1}).total == 0);
  c = ModelSpec{};
  c.positions = Positions::rope;
  c.width = 6;
  c.heads = 2;  // heads of width 3: RoPE rotates pairs
  CHECK(validate(c).code() == Error::bad_config);
  c.head_dim = 4;
  CHECK(validate(c).is_ok());
  c.rope_base = 1.0f;
  CHECK(validate(c).code() == Error::bad_config);
  c = ModelSpec{};
  c.positions = Positions::alibi;
  c.alibi_rho = 31.0f;
  CHECK(validate(c).code() == Error::bad_config);
  c.alibi_rho = NAN;
  CHECK(validate(c).code() == Error::bad_config);
  c.alibi_rho = -30.0f;
  CHECK(validate(c).is_ok());
  for (Positions p : {Positions::alibi, Positions::alibi_sinusoidal, Positions::rope}) {
    c = ModelSpec{};
    c.positions = p;
    c.attention = AttentionKind::linear;
    const Status s = validate(c);
    CHECK(s.code() == Error::bad_config);
    CHECK(std::string(s.message()).find("softmax") != std::string::npos);
  }
  c = ModelSpec{};
  c.positions = Positions(6);
  CHECK(validate(c).code() == Error::bad_config);
  c = ModelSpec{};
  c.ignore_class = c.out_dim;  // not a class
  CHECK(validate(c).code() == Error::bad_config);
  c.ignore_class = -2;
  CHECK(validate(c).code() == Error::bad_config);
  c.ignore_class = c.out_dim - 1;
  CHECK(validate(c).is_ok());
  c.init_scale = 0.0f;
  CHECK(validate(c).code() == Error::bad_config);
  c = ModelSpec{};
  c.loop = LoopKind(7);
  CHECK(validate(c).code() == Error::bad_config);

  const FamilyCase fc = family_cases()[0];
  BuiltModel<float> h(fc.cfg, Capacity{fc.len, fc.batch, 1});
  REQUIRE(h.status.is_ok());
  auto data = random_family_data<float>(fc.cfg, fc.batch, fc.len, 1);
  data.tokens[3] = 99;
  CHECK(h.m.evaluate(data.batch(fc.batch, fc.len), nullptr).code() == Error::token_out_of_range);
  CHECK(h.m.evaluate(data.batch(fc.batch, fc.len + 1), nullptr).code() == Error::sequence_too_long);
}
