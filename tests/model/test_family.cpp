// The model family: finite-difference checks of every parameter element in double
// precision for each configuration in support/family_cases.hpp, planning, allocation-free
// steps, thread-count independence, configuration errors, and the ALiBi / RoPE schemes.
#include <doctest/doctest.h>

#include <algorithm>
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

// The batch of `fc` with sequence b of length len - b (at least 1) and nothing counted past it.
template <class T>
struct Ragged {
  FamilyData<T> data;
  std::vector<std::int32_t> lengths;
  Ragged(const FamilyCase& fc, std::uint64_t seed) : data(random_family_data<T>(fc.cfg, fc.batch, fc.len, seed)) {
    for (int b = 0; b < fc.batch; ++b) {
      lengths.push_back(std::max(1, fc.len - b));
      for (int i = lengths.back(); i < fc.len; ++i) {
        const std::size_t at = std::size_t(b) * fc.len + i;
        if (!data.labels.empty()) data.labels[at] = -1;
        if (!data.mask.empty()) data.mask[at] = 0;
      }
    }
  }
  ModelBatch<T> batch(const FamilyCase& fc, bool with_lengths) const {
    ModelBatch<T> b = data.batch(fc.batch, fc.len);
    if (with_lengths) b.lengths = lengths.data();
    return b;
  }
};

// Causal attention never reads a later position: skipping the padding trains the same weights,
// to the bit (the float SIMD kernels and the double ones).
template <class T>
void check_causal_lengths(const FamilyCase& fc) {
  const Capacity cap{fc.len, fc.batch, 1};
  BuiltModel<T> with(fc.cfg, cap), without(fc.cfg, cap);
  REQUIRE(with.status.is_ok());
  REQUIRE(without.status.is_ok());
  Rng r1(4), r2(4);
  with.m.init_weights(r1);
  without.m.init_weights(r2);
  const Ragged<T> r(fc, 6);
  for (int s = 0; s < 3; ++s) {
    ModelStats a, b;
    REQUIRE(with.m.train_step(r.batch(fc, true), 3, &a).is_ok());
    REQUIRE(without.m.train_step(r.batch(fc, false), 3, &b).is_ok());
    CHECK(a.loss == b.loss);
    CHECK(a.counted == b.counted);
  }
  bool same = true;
  for (std::size_t i = 0; i < with.m.param_count(); ++i) same &= with.m.params()[i] == without.m.params()[i];
  CHECK(same);
  for (int b = 0; b < fc.batch; ++b) {
    CHECK(with.m.length(b) == (fc.cfg.position_gated() ? fc.len : r.lengths[std::size_t(b)]));
    CHECK(without.m.length(b) == fc.len);
    const std::size_t rows = std::size_t(r.lengths[std::size_t(b)]) * fc.cfg.out_dim;
    CHECK(std::equal(with.m.outputs(b), with.m.outputs(b) + rows, without.m.outputs(b)));
  }
}

TEST_CASE("family: per-sequence lengths skip the padding and change nothing at the real positions") {
  {  // the retrieval study's shape: width 64 runs the float kernels over whole SIMD registers
    ModelSpec c;
    c.layers = 2; c.heads = 2; c.width = 64; c.positions = Positions::learned; c.max_len = 14;
    c.vocab_in = 41; c.out_dim = 41;
    check_causal_lengths<float>(FamilyCase{"retrieval_shape", c, 4, 14});
  }
  for (const FamilyCase& fc : family_cases()) {
    CAPTURE(fc.name);
    if (fc.cfg.causal) {
      check_causal_lengths<float>(fc);
      check_causal_lengths<double>(fc);
      continue;
    }
    // Without the causal mask, a sequence's positions read its padding unless it is skipped:
    // the batch's gradient is each sequence's alone, at its own length, weighted by its count.
    const Capacity cap{fc.len, fc.batch, 1};
    BuiltModel<double> with(fc.cfg, cap), alone(fc.cfg, cap);
    REQUIRE(with.status.is_ok());
    REQUIRE(alone.status.is_ok());
    perturb_weights(with.m, 4);
    perturb_weights(alone.m, 4);
    const Ragged<double> r(fc, 6);
    ModelStats all;
    REQUIRE(with.m.compute_gradients(r.batch(fc, true), &all).is_ok());
    std::vector<double> sum(with.m.param_count(), 0.0);
    for (int b = 0; b < fc.batch; ++b) {
      CHECK(with.m.length(b) == r.lengths[std::size_t(b)]);
      ModelBatch<double> one = r.data.batch(1, r.lengths[std::size_t(b)]);
      const std::size_t at = std::size_t(b) * fc.len;
      if (one.tokens) one.tokens += at;
      if (one.labels) one.labels += at;
      if (one.inputs) one.inputs += at * fc.cfg.in_dim;
      if (one.targets) one.targets += at * fc.cfg.out_dim;
      if (one.mask) one.mask += at;
      ModelStats st;
      REQUIRE(alone.m.compute_gradients(one, &st).is_ok());
      for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += double(st.counted) / double(all.counted) * alone.m.grads()[i];
    }
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < sum.size(); ++i) {
      worst = std::fmax(worst, std::fabs(with.m.grads()[i] - sum[i]));
      scale = std::fmax(scale, std::fabs(sum[i]));
    }
    CHECK(scale > 0);
    CHECK(worst <= 1e-12 * scale);
  }
}

TEST_CASE("family: bad per-sequence lengths are refused with the sequence named") {
  const FamilyCase fc = family_cases()[0];  // stacked softmax, causal
  BuiltModel<float> h(fc.cfg, Capacity{fc.len, fc.batch, 1});
  REQUIRE(h.status.is_ok());
  const auto data = random_family_data<float>(fc.cfg, fc.batch, fc.len, 2);
  ModelBatch<float> b = data.batch(fc.batch, fc.len);
  std::vector<std::int32_t> lengths(std::size_t(fc.batch), fc.len);
  b.lengths = lengths.data();
  CHECK(h.m.evaluate(b, nullptr).is_ok());
  lengths[1] = fc.len + 1;
  Status st = h.m.evaluate(b, nullptr);
  CHECK(st.code() == Error::sequence_too_long);
  CHECK(std::string(st.message()).find("sequence 1 has length 8") != std::string::npos);
  lengths[1] = 0;
  CHECK(h.m.evaluate(b, nullptr).code() == Error::sequence_too_long);
  lengths[1] = 2;  // random_family_data counts positions 2, 3, 5, 6 (every third one is not)
  st = h.m.evaluate(b, nullptr);
  CHECK(st.code() == Error::bad_config);
  CHECK(std::string(st.message()).find("sequence 1 counts position 2, past its length 2") != std::string::npos);

  // The d = 8 block computes the padding: without the causal mask, it would be read.
  ModelSpec c;
  c.looped = true; c.layers = 2; c.width = 8; c.heads = 1; c.out_proj = false; c.vocab_in = 4; c.out_dim = 5;
  c.ignore_class = 4; c.causal = false;
  REQUIRE(runs_d8_kernels(c));
  BuiltModel<float> d8(c, Capacity{6, 2, 1});
  REQUIRE(d8.status.is_ok());
  const auto d8data = random_family_data<float>(c, 2, 6, 3);
  ModelBatch<float> db = d8data.batch(2, 6);
  std::vector<std::int32_t> full(2, 6);
  db.lengths = full.data();
  st = d8.m.evaluate(db, nullptr);
  CHECK(st.code() == Error::bad_config);
  CHECK(std::string(st.message()).find("per-sequence lengths need causal attention") != std::string::npos);
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
