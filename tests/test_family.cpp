// The model family (issue 7): finite-difference checks of every parameter element in double
// precision for each configuration in support/family_cases.hpp, planning, allocation-free
// steps, thread-count independence and configuration errors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "alloc_counter.hpp"  // heap allocations of this process, counted
#include "support/family_cases.hpp"
#include "tinyloop/family.hpp"

using namespace tinyloop;
using namespace tinyloop::family;
using namespace tinyloop::test;

namespace {

template <class T>
struct Model {
  std::vector<unsigned char> buffer;
  FamilyModel<T> m;
  Status status;
  Model(const FamilyConfig& c, const FamilyCapacity& cap, const OptimConfig& o = OptimConfig{}) {
    const MemoryPlan p = FamilyModel<T>::plan(c, cap);
    buffer.resize(p.total);
    status = m.init(c, o, cap, buffer.data(), buffer.size());
  }
};

// Small random weights so that no LayerNorm or softmax saturates (LN gains near 1).
void perturb_weights(FamilyModel<double>& m, std::uint64_t seed) {
  Rng rng(seed);
  m.init_weights(rng);
  const FamilyLayout& l = m.layout();
  for (int t = 0; t < l.count; ++t) {
    const FamilyTensor& ft = l.tensors[t];
    for (std::size_t i = 0; i < ft.size(); ++i) m.params()[ft.offset + i] += 0.1 * (2.0 * rng.uniform01_double() - 1.0);
  }
}

}  // namespace

TEST_CASE("family: every parameter matches central differences (double)") {
  for (const FamilyCase& fc : family_cases()) {
    CAPTURE(fc.name);
    Model<double> h(fc.cfg, FamilyCapacity{fc.len, fc.batch, 1});
    REQUIRE(h.status.is_ok());
    perturb_weights(h.m, 11);
    const auto data = random_family_data<double>(fc.cfg, fc.batch, fc.len, 7);
    const auto batch = data.batch(fc.batch, fc.len);
    FamilyStats st;
    REQUIRE(h.m.compute_gradients(batch, &st).is_ok());
    CHECK(st.counted > 0);
    const std::vector<double> analytic(h.m.grads(), h.m.grads() + h.m.param_count());
    const FamilyLayout& l = h.m.layout();
    double worst = 0;
    int checked = 0;
    for (int t = 0; t < l.count; ++t) {
      const FamilyTensor& ft = l.tensors[t];
      for (std::size_t i = 0; i < ft.size(); ++i) {
        double* p = h.m.params() + ft.offset + i;
        const double keep = *p, eps = 1e-5;
        FamilyStats plus, minus;
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
        ++checked;
      }
    }
    MESSAGE(fc.name << ": " << checked << " parameters, worst relative error " << worst);
    CHECK(checked == [&] { std::size_t s = 0; for (int t = 0; t < l.count; ++t) s += l.tensors[t].size(); return int(s); }());
  }
}

TEST_CASE("family: steps allocate nothing and shorter batches fit the plan") {
  for (const FamilyCase& fc : family_cases()) {
    CAPTURE(fc.name);
    Model<float> h(fc.cfg, FamilyCapacity{fc.len, fc.batch, 1});
    REQUIRE(h.status.is_ok());
    Rng rng(3);
    h.m.init_weights(rng);
    const auto data = random_family_data<float>(fc.cfg, fc.batch, fc.len, 5);
    const long before = alloc_counter::allocations();
    double first = 0, last = 0;
    bool ok = true;
    const auto full = data.batch(fc.batch, fc.len), shorter = data.batch(fc.batch, fc.len - 1);
    for (int s = 0; s < 30; ++s) {
      FamilyStats st;
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
  const FamilyCapacity cap{fc.len, fc.batch, 2};
  const MemoryPlan p = FamilyModel<float>::plan(fc.cfg, cap);
  CHECK(p.total > 0);
  CHECK(p.params + p.grads + p.optimizer + p.activations + p.scratch <= p.total);
  std::vector<unsigned char> small(p.total - 1);
  FamilyModel<float> m;
  const Status s = m.init(fc.cfg, OptimConfig{}, cap, small.data(), small.size());
  CHECK(s.code() == Error::buffer_too_small);
}

TEST_CASE("family: gradients do not depend on the thread count") {
  struct TwoWorkers final : ParallelFor {
    int workers() const override { return 2; }
    void run(int tasks, TaskFn fn, void* ctx) override {  // reversed order, alternating workers
      for (int t = tasks - 1; t >= 0; --t) fn(ctx, t, t % 2);
    }
  } pool;
  for (const FamilyCase& fc : family_cases()) {
    CAPTURE(fc.name);
    Model<float> a(fc.cfg, FamilyCapacity{fc.len, fc.batch, 1});
    Model<float> b(fc.cfg, FamilyCapacity{fc.len, fc.batch, 2});
    REQUIRE(a.status.is_ok());
    REQUIRE(b.status.is_ok());
    b.m.set_parallel(&pool);
    Rng r1(9), r2(9);
    a.m.init_weights(r1);
    b.m.init_weights(r2);
    const auto data = random_family_data<float>(fc.cfg, fc.batch, fc.len, 4);
    for (int s = 0; s < 3; ++s) {
      FamilyStats sa, sb;
      REQUIRE(a.m.train_step(data.batch(fc.batch, fc.len), 3, &sa).is_ok());
      REQUIRE(b.m.train_step(data.batch(fc.batch, fc.len), 3, &sb).is_ok());
    }
    bool same = true;
    for (std::size_t i = 0; i < a.m.param_count(); ++i) same &= a.m.params()[i] == b.m.params()[i];
    CHECK(same);
  }
}

TEST_CASE("family: invalid configurations and batches are named") {
  FamilyConfig c;
  c.width = 6;
  c.heads = 4;
  CHECK(validate(c).code() == Error::bad_config);
  c = FamilyConfig{};
  c.out_proj = false;
  c.heads = 2;
  c.head_dim = 3;
  CHECK(validate(c).code() == Error::bad_config);
  c = FamilyConfig{};
  c.input = InputKind::vectors;
  c.input_proj = false;
  c.in_dim = 5;
  CHECK(validate(c).code() == Error::bad_config);
  c = FamilyConfig{};
  c.positions = Positions::learned;
  c.max_len = 4;
  CHECK(FamilyModel<float>::plan(c, FamilyCapacity{8, 1, 1}).total == 0);

  const FamilyCase fc = family_cases()[0];
  Model<float> h(fc.cfg, FamilyCapacity{fc.len, fc.batch, 1});
  REQUIRE(h.status.is_ok());
  auto data = random_family_data<float>(fc.cfg, fc.batch, fc.len, 1);
  data.tokens[3] = 99;
  CHECK(h.m.evaluate(data.batch(fc.batch, fc.len), nullptr).code() == Error::token_out_of_range);
  CHECK(h.m.evaluate(data.batch(fc.batch, fc.len + 1), nullptr).code() == Error::sequence_too_long);
}
