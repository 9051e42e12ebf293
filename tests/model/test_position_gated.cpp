// position_gated attention (tinyloop/model_spec.hpp), the ICAR authors' Fig. 7 layer: what
// validate() refuses, the layout, causality through both the tokens and the position table, the
// gate (one causal softmax per head for the whole batch) and thread-count independence with a
// real pool. Its gradients are checked by central differences in test_family.cpp and against
// PyTorch in test_family_golden.cpp (family_authors_gated).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "support/family_cases.hpp"
#include "tinyloop/model.hpp"
#include "tinyloop/platform/posix.hpp"

using namespace tinyloop;
using namespace tinyloop::test;

namespace {

ModelSpec authors_gated() {
  for (const FamilyCase& fc : family_cases())
    if (fc.name == "authors_gated") return fc.cfg;
  FAIL("family case authors_gated is missing");
  return ModelSpec{};
}

// The authors' size (E = 10, 64 heads, n = 50 states of p = 5 tiled twice).
ModelSpec authors_size() {
  ModelSpec c = authors_gated();
  c.width = 10;
  c.heads = 64;
  c.in_dim = 10;
  c.out_dim = 5;
  c.max_len = 50;
  return c;
}

std::string message_of(const ModelSpec& c) { return validate(c).message(); }

}  // namespace

TEST_CASE("position_gated: validate names what the kind needs") {
  ModelSpec c = authors_gated();
  REQUIRE(validate(c).is_ok());
  c.positions = Positions::none;
  CHECK(validate(c).code() == Error::bad_config);
  CHECK(message_of(c).find("positions = learned") != std::string::npos);
  c.positions = Positions::sinusoidal;
  CHECK(message_of(c).find("positions = learned") != std::string::npos);
  c = authors_gated();
  c.head_dim = 2;  // width 4
  CHECK(validate(c).code() == Error::bad_config);
  CHECK(message_of(c).find("head_dim must be 0 or width") != std::string::npos);
  c.head_dim = c.width;
  CHECK(validate(c).is_ok());
  c.attention = AttentionKind(3);
  CHECK(message_of(c) == "unknown attention kind 3");
  // Heads as wide as the stream: 64 heads of width 10 are the authors' model, while the
  // concatenating kinds keep at most 4 * width heads.
  CHECK(validate(authors_size()).is_ok());
  c = authors_size();
  c.attention = AttentionKind::linear;
  c.head_dim = 1;
  CHECK(validate(c).code() == Error::bad_config);
  c = authors_size();
  c.heads = 1025;
  CHECK(message_of(c) == "heads must be in [1, 1024], got 1025");
  c = authors_size();
  c.out_proj = false;  // the summed heads are `width` wide already
  CHECK(validate(c).is_ok());
}

TEST_CASE("position_gated: the table feeds the gates, heads are width wide and Wo is width x width") {
  const ModelSpec c = authors_size();
  const ModelLayout l = ModelLayout::make(c);
  auto shape = [&](const char* name) {
    const int t = l.find(name);
    REQUIRE_MESSAGE(t >= 0, name);
    return std::to_string(l.tensors[t].rows) + "x" + std::to_string(l.tensors[t].cols);
  };
  CHECK(c.head_width() == 10);
  CHECK(c.attention_width() == 10);
  CHECK(!c.adds_learned_positions());
  CHECK(shape("pos") == "50x10");
  CHECK(shape("L0.Wq") == "10x640");
  CHECK(shape("L0.bk") == "1x640");
  CHECK(shape("L0.Wo") == "10x10");
  CHECK(shape("L0.bo") == "1x10");
  CHECK(shape("Wout") == "10x5");
  CHECK(l.find("L0.ln1.gain") < 0);
  CHECK(l.find("lnf.gain") < 0);
  CHECK(l.find("L0.lna.gain") >= 0);
}

TEST_CASE("position_gated: no output depends on a later input or a later row of the table") {
  const ModelSpec c = authors_gated();
  const int n = 6, later = 4;
  BuiltModel<double> h(c, Capacity{n, 1, 1});
  REQUIRE(h.status.is_ok());
  Rng rng(4);
  h.m.init_weights(rng);
  auto data = random_family_data<double>(c, 1, n, 8);
  const auto batch = data.batch(1, n);
  REQUIRE(h.m.evaluate(batch, nullptr).is_ok());
  const int O = c.out_dim;
  const std::vector<double> before(h.m.outputs(0), h.m.outputs(0) + n * O);
  auto unchanged_before_later = [&](const char* what) {
    CAPTURE(what);
    REQUIRE(h.m.evaluate(batch, nullptr).is_ok());
    const double* y = h.m.outputs(0);
    for (int e = 0; e < later * O; ++e) CHECK(y[e] == before[std::size_t(e)]);
    double moved = 0;
    for (int e = later * O; e < n * O; ++e) moved = std::fmax(moved, std::fabs(y[e] - before[std::size_t(e)]));
    CHECK(moved > 1e-6);
  };
  for (int k = 0; k < c.in_dim; ++k) data.inputs[std::size_t(later) * c.in_dim + k] += 0.5;
  unchanged_before_later("input");
  for (int k = 0; k < c.in_dim; ++k) data.inputs[std::size_t(later) * c.in_dim + k] -= 0.5;
  REQUIRE(h.m.evaluate(batch, nullptr).is_ok());
  double* pos = h.m.params() + h.m.layout().pos;
  for (int k = 0; k < c.width; ++k) pos[std::size_t(later) * c.width + k] += 0.5;
  unchanged_before_later("position table");
}

TEST_CASE("position_gated: each head's gate is a causal softmax, the same for every sequence") {
  ModelSpec c = authors_gated();
  const int n = 6, B = 3;
  BuiltModel<double> h(c, Capacity{n, B, 1});
  REQUIRE(h.status.is_ok());
  Rng rng(6);
  h.m.init_weights(rng);
  const auto data = random_family_data<double>(c, B, n, 2);
  REQUIRE(h.m.evaluate(data.batch(B, n), nullptr).is_ok());
  for (int hd = 0; hd < c.heads; ++hd) {
    const double* S = h.m.position_gate(0, hd);
    REQUIRE(S != nullptr);
    for (int i = 0; i < n; ++i) {
      double sum = 0;
      for (int j = 0; j <= i; ++j) sum += S[i * n + j];
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-12));
      for (int j = i + 1; j < n; ++j) CHECK(S[i * n + j] == 0.0);
      for (int b = 0; b < B; ++b)  // the map T . S is zero wherever the gate is
        for (int j = i + 1; j < n; ++j) CHECK(h.m.attention(b, 0, hd)[i * n + j] == 0.0);
    }
  }
  CHECK(h.m.position_gate(0, c.heads) == nullptr);
  CHECK(h.m.position_gate(1, 0) == nullptr);
  ModelSpec linear = c;
  linear.attention = AttentionKind::linear;
  linear.heads = 1;
  BuiltModel<double> other(linear, Capacity{n, B, 1});
  REQUIRE(other.status.is_ok());
  CHECK(other.m.position_gate(0, 0) == nullptr);
}

TEST_CASE("position_gated: training is bit-identical on 1 and 2 workers") {
  ModelSpec c = authors_gated();
  c.heads = 4;
  const int n = 7, B = 8;
  c.max_len = n;
  auto train = [&](int workers) {
    BuiltModel<float> h(c, Capacity{n, B, workers});
    REQUIRE(h.status.is_ok());
    platform::ThreadPool pool(workers);
    h.m.set_parallel(&pool);
    Rng rng(12);
    h.m.init_weights(rng);
    for (int s = 0; s < 4; ++s) {
      const auto data = random_family_data<float>(c, B, n, 30 + std::uint64_t(s));
      ModelStats st;
      REQUIRE(h.m.train_step(data.batch(B, n), 4, &st).is_ok());
      REQUIRE(!st.skipped);
    }
    return std::vector<float>(h.m.params(), h.m.params() + h.m.param_count());
  };
  const std::vector<float> one = train(1), two = train(2);
  REQUIRE(one.size() == two.size());
  bool same = true;
  for (std::size_t i = 0; i < one.size(); ++i) same &= one[i] == two[i];
  CHECK(same);
}
