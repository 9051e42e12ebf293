// The model family against the independent PyTorch reference (tools/reference/family_reference.py):
// each golden file holds a configuration, weights, a batch, and PyTorch's outputs, loss, every
// gradient and every attention map (and position_gated attention's gates). The double engine must
// match to 1e-9, the float one to 1e-5.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "support/golden_file.hpp"
#include "support/position_codes.hpp"
#include "tinyloop/model.hpp"

using namespace tinyloop;
using namespace tinyloop::test;

namespace {

const char* const kCases[] = {"family_stacked_softmax",      "family_looped_learned", "family_linear_icar",
                              "family_linear_multihead_mlp", "family_stacked_nomlp",  "family_stacked_alibi",
                              "family_looped_rope",          "family_alibi_sinusoidal_nomask",
                              "family_authors_augmented",    "family_stacked_bias_branch_norm",
                              "family_authors_gated"};

ModelSpec config_of(const GoldenFile& g) {
  auto i = [&](const char* k) { return int(g.scalar(std::string("cfg.") + k)); };
  auto f = [&](const char* k) { return float(g.scalar(std::string("cfg.") + k)); };
  ModelSpec c;
  c.layers = i("layers");
  c.looped = i("looped") != 0;
  c.heads = i("heads");
  c.width = i("width");
  c.head_dim = i("head_dim");
  c.mlp = i("mlp") != 0;
  c.hidden = i("hidden");
  c.layernorm = i("layernorm") != 0;
  c.attention = AttentionKind(i("attention"));
  c.attn_scale = f("attn_scale");
  c.causal = i("causal") != 0;
  c.out_proj = i("out_proj") != 0;
  c.residual = i("residual") != 0;
  c.positions = test::kPositionsByCode[i("positions")];
  c.pe_scale = f("pe_scale");
  c.max_len = i("max_len");
  c.input = InputKind(i("input"));
  c.vocab_in = i("vocab_in");
  c.in_dim = i("in_dim");
  c.input_proj = i("input_proj") != 0;
  c.output = OutputKind(i("output"));
  c.out_dim = i("out_dim");
  c.readout_bias = i("readout_bias") != 0;
  if (g.find("cfg.alibi_rho")) c.alibi_rho = f("alibi_rho");  // only the cases with ALiBi or RoPE hold them
  if (g.find("cfg.rope_base")) c.rope_base = f("rope_base");
  if (g.find("cfg.attn_bias")) c.attn_bias = i("attn_bias") != 0;  // only the cases that use them
  if (g.find("cfg.branch_norm")) c.branch_norm = i("branch_norm") != 0;
  return c;
}

// Worst |a - b| / max(1, |b|) over a tensor.
template <class T>
double worst_error(const T* engine, const std::vector<double>& ref) {
  double w = 0;
  for (std::size_t i = 0; i < ref.size(); ++i)
    w = std::fmax(w, std::fabs(double(engine[i]) - ref[i]) / std::fmax(1.0, std::fabs(ref[i])));
  return w;
}

template <class T>
void check_case(const std::string& name, double tol) {
  CAPTURE(name);
  GoldenFile g;
  std::string err;
  REQUIRE_MESSAGE(GoldenFile::load(std::string(TINYLOOP_GOLDEN_DIR) + "/" + name + ".tlg", &g, &err), err);
  const ModelSpec c = config_of(g);
  REQUIRE(validate(c).is_ok());
  const GoldenTensor* out = g.find("outputs");
  REQUIRE(out != nullptr);
  const int B = int(out->dim(0)), n = int(out->dim(1));
  const Capacity cap{n, B, 1};
  std::vector<unsigned char> buffer(Model<T>::plan(c, cap).total);
  Model<T> m;
  REQUIRE(m.init(c, OptimConfig{}, cap, buffer.data(), buffer.size()).is_ok());
  const ModelLayout& l = m.layout();
  int params = 0;
  for (int t = 0; t < l.count; ++t) {
    const GoldenTensor* p = g.find(std::string("param.") + l.tensors[t].name);
    REQUIRE_MESSAGE(p != nullptr, l.tensors[t].name);
    REQUIRE(p->size() == l.tensors[t].size());
    for (std::size_t i = 0; i < p->size(); ++i) m.params()[l.tensors[t].offset + i] = T(p->data[i]);
    ++params;
  }
  // Every parameter PyTorch has, the engine has too.
  int golden_params = 0;
  for (const GoldenTensor& t : g.tensors()) golden_params += t.name.rfind("param.", 0) == 0 ? 1 : 0;
  CHECK(golden_params == params);

  std::vector<std::int32_t> tokens, labels;
  std::vector<T> inputs, targets;
  std::vector<std::uint8_t> mask;
  ModelBatch<T> batch;
  batch.batch = B;
  batch.len = n;
  if (const GoldenTensor* t = g.find("tokens")) {
    for (double v : t->data) tokens.push_back(std::int32_t(v));
    batch.tokens = tokens.data();
  }
  if (const GoldenTensor* t = g.find("inputs")) {
    for (double v : t->data) inputs.push_back(T(v));
    batch.inputs = inputs.data();
  }
  if (const GoldenTensor* t = g.find("labels")) {
    for (double v : t->data) labels.push_back(std::int32_t(v));
    batch.labels = labels.data();
  }
  if (const GoldenTensor* t = g.find("targets")) {
    for (double v : t->data) targets.push_back(T(v));
    batch.targets = targets.data();
  }
  if (const GoldenTensor* t = g.find("mask")) {
    for (double v : t->data) mask.push_back(std::uint8_t(v != 0));
    batch.mask = mask.data();
  }
  ModelStats st;
  REQUIRE(m.compute_gradients(batch, &st).is_ok());
  CHECK(std::fabs(st.loss - g.scalar("loss")) <= tol * std::fmax(1.0, std::fabs(g.scalar("loss"))));

  const int O = c.out_dim;
  double w_out = 0;
  for (int b = 0; b < B; ++b) {
    std::vector<double> ref(out->data.begin() + std::size_t(b) * n * O, out->data.begin() + std::size_t(b + 1) * n * O);
    w_out = std::fmax(w_out, worst_error(m.outputs(b), ref));
  }
  CHECK(w_out <= tol);

  double w_grad = 0;
  for (int t = 0; t < l.count; ++t) {
    const GoldenTensor* gr = g.find(std::string("grad.") + l.tensors[t].name);
    REQUIRE(gr != nullptr);
    const double e = worst_error(m.grads() + l.tensors[t].offset, gr->data);
    if (e > tol) {
      CAPTURE(l.tensors[t].name);
      CHECK(e <= tol);
    }
    w_grad = std::fmax(w_grad, e);
  }

  double w_att = 0;
  for (int layer = 0; layer < c.layers; ++layer) {
    const GoldenTensor* a = g.find("attention.L" + std::to_string(layer));
    REQUIRE(a != nullptr);
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < c.heads; ++h) {
        const std::size_t off = (std::size_t(b) * c.heads + h) * n * n;
        std::vector<double> ref(a->data.begin() + off, a->data.begin() + off + std::size_t(n) * n);
        w_att = std::fmax(w_att, worst_error(m.attention(b, layer, h), ref));
      }
  }
  CHECK(w_att <= tol);
  for (int layer = 0; layer < c.layers; ++layer)  // position_gated: the batch's gates S_h
    if (const GoldenTensor* s = g.find("gate.L" + std::to_string(layer))) {
      REQUIRE(s->size() == std::size_t(c.heads) * n * n);
      for (int h = 0; h < c.heads; ++h) {
        const std::size_t off = std::size_t(h) * n * n;
        std::vector<double> ref(s->data.begin() + off, s->data.begin() + off + std::size_t(n) * n);
        w_att = std::fmax(w_att, worst_error(m.position_gate(layer, h), ref));
      }
      CHECK(w_att <= tol);
    }
  MESSAGE(name << " (" << std::string(sizeof(T) == 8 ? "double" : "float") << "): outputs " << w_out << ", gradients "
               << w_grad << ", attention " << w_att);
}

}  // namespace

TEST_CASE("family goldens: double engine matches PyTorch float64") {
  for (const char* name : kCases) check_case<double>(name, 1e-9);
}

TEST_CASE("family goldens: float engine matches PyTorch float64") {
  for (const char* name : kCases) check_case<float>(name, 1e-5);
}
