// The one model runs the paper's looped block on the d = 8 kernels and every other shape on the
// generic ones. The two are written independently, so each checks the other: the block forced
// onto the generic kernels (generic_kernels) must give the same outputs, loss, accuracy and gradients, for every position scheme,
// with and without the causal mask, with uncounted positions and an ignored class. Also: what
// only the d = 8 kernels run (energy-entropy terms, the Hamiltonian loop) is refused elsewhere.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "support/family_cases.hpp"
#include "tinyloop/model.hpp"
#include "tinyloop/params.hpp"

using namespace tinyloop;
using namespace tinyloop::test;

namespace {

struct Built {
  std::vector<unsigned char> buffer;
  Model<double> m;
  Status status;
  Built(const ModelSpec& c, const Capacity& cap) {
    buffer.resize(Model<double>::plan(c, cap).total);
    status = m.init(c, OptimConfig{}, cap, buffer.data(), buffer.size());
  }
};

ModelSpec block(Positions positions, bool causal) {
  ModelSpec m = paper_block();
  m.layers = 3;
  m.vocab_in = 5;
  m.out_dim = 6;
  m.ignore_class = 5;  // NONE
  m.positions = positions;
  m.causal = causal;
  m.pe_scale = 0.7f;
  m.alibi_rho = 0.3f;
  return m;
}

double relative(double a, double b) { return std::fabs(a - b) / std::fmax(1e-6, std::fmax(std::fabs(a), std::fabs(b))); }

}  // namespace

TEST_CASE("model: the d = 8 kernels and the generic kernels agree on the looped block") {
  const Positions schemes[] = {Positions::sinusoidal, Positions::none, Positions::alibi,
                                  Positions::alibi_sinusoidal, Positions::rope};
  for (Positions scheme : schemes)
    for (bool causal : {true, false}) {
      CAPTURE(int(scheme));
      CAPTURE(causal);
      const ModelSpec fast = block(scheme, causal);
      ModelSpec generic = fast;
      generic.generic_kernels = true;
      REQUIRE(runs_d8_kernels(fast));
      REQUIRE_FALSE(runs_d8_kernels(generic));
      const int B = 3, n = 9;
      Capacity cap{n, B, 1};
      cap.keep_attention = true;  // the attention maps are compared too
      Built a(fast, cap), b(generic, cap);
      REQUIRE(a.status.is_ok());
      REQUIRE(b.status.is_ok());
      REQUIRE(a.m.param_count() == b.m.param_count());
      Rng rng(17);
      a.m.init_weights(rng);
      for (std::size_t i = 0; i < a.m.param_count(); ++i) {
        a.m.params()[i] += 0.2 * (2.0 * rng.uniform01_double() - 1.0) * (a.m.params()[i] != 0.0 ? 1.0 : 0.0);
        b.m.params()[i] = a.m.params()[i];
      }
      auto data = random_family_data<double>(fast, B, n, 5);  // every third label is -1
      data.mask.assign(std::size_t(B) * n, 1);
      data.mask[4] = 0;
      for (std::size_t i = 0; i < data.labels.size(); i += 4)
        if (data.labels[i] >= 0) data.labels[i] = fast.ignore_class;
      const ModelBatch<double> batch = data.batch(B, n);
      ModelStats sa, sb;
      REQUIRE(a.m.compute_gradients(batch, &sa).is_ok());
      REQUIRE(b.m.compute_gradients(batch, &sb).is_ok());
      CHECK(sa.counted == sb.counted);
      CHECK(relative(sa.terms.ce, sb.terms.ce) < 1e-12);
      CHECK(sa.accuracy == sb.accuracy);
      double worst_out = 0, worst_grad = 0;
      for (int s = 0; s < B; ++s)
        for (int e = 0; e < n * fast.out_dim; ++e)
          worst_out = std::fmax(worst_out, std::fabs(a.m.outputs(s)[e] - b.m.outputs(s)[e]));
      for (std::size_t i = 0; i < a.m.param_count(); ++i)
        worst_grad = std::fmax(worst_grad, relative(a.m.grads()[i], b.m.grads()[i]) *
                                               (std::fabs(a.m.grads()[i]) > 1e-9 ? 1.0 : 0.0));
      CHECK(worst_out < 1e-12);
      CHECK(worst_grad < 1e-9);
      for (int layer = 0; layer < fast.layers; ++layer) {
        const double* pa = a.m.attention(0, layer, 0);
        const double* pb = b.m.attention(0, layer, 0);
        REQUIRE(pa != nullptr);
        REQUIRE(pb != nullptr);
        for (int i = 0; i < n; ++i)
          for (int j = 0; j <= (causal ? i : n - 1); ++j) CHECK(std::fabs(pa[i * n + j] - pb[i * n + j]) < 1e-12);
      }
    }
}

TEST_CASE("model: the looped block's layout is the checkpoint's ParamLayout") {
  for (Positions scheme : {Positions::sinusoidal, Positions::alibi}) {
    ModelSpec m = paper_block();
    m.positions = scheme;
    const ModelLayout f = ModelLayout::make(m);
    const ParamLayout p = ParamLayout::make(m);
    REQUIRE(f.count == p.count);
    CHECK(f.total == p.total);
    for (int i = 0; i < p.count; ++i) {
      CAPTURE(p.info[i].name);
      CHECK(f.tensors[i].offset == p.info[i].offset);
      CHECK(f.tensors[i].rows == p.info[i].rows);
      CHECK(f.tensors[i].cols == p.info[i].cols);
    }
  }
}

TEST_CASE("model: the paper's block is the looped block whatever its loops, positions, vocabulary and loop") {
  for (Positions scheme : {Positions::sinusoidal, Positions::none, Positions::alibi, Positions::alibi_sinusoidal,
                           Positions::rope})
    for (LoopKind loop : {LoopKind::standard, LoopKind::hamiltonian}) {
      ModelSpec m = paper_block();
      m.layers = 7;
      m.vocab_in = 6;
      m.out_dim = 7;
      m.ignore_class = 6;
      m.positions = scheme;
      m.pe_scale = 0.3f;
      m.causal = false;
      m.loop = loop;
      CAPTURE(int(scheme));
      CHECK(validate(m).is_ok());
      CHECK(is_looped_block(m));
      CHECK(runs_d8_kernels(m));
      m.generic_kernels = true;  // the same model on the other kernels
      CHECK(is_looped_block(m));
      CHECK_FALSE(runs_d8_kernels(m));
    }
  // Each of these makes another shape, which checkpoint version 4 holds and the generic kernels run.
  const ModelSpec paper = paper_block();
  ModelSpec other = paper;
  other.positions = Positions::learned;
  CHECK_FALSE(is_looped_block(other));
  other = paper;
  other.heads = 2;
  CHECK_FALSE(is_looped_block(other));
  other = paper;
  other.out_proj = true;
  CHECK_FALSE(is_looped_block(other));
  other = paper;
  other.looped = false;
  CHECK_FALSE(is_looped_block(other));
  other = paper;
  other.ignore_class = -1;  // every class counted: not the block's NONE
  CHECK_FALSE(is_looped_block(other));
}

TEST_CASE("model: energy-entropy terms and the Hamiltonian loop are refused off the d = 8 kernels") {
  ModelSpec stacked;  // 2 layers, width 8, one head, with Wo: the generic kernels
  stacked.heads = 2;
  REQUIRE_FALSE(runs_d8_kernels(stacked));
  const Capacity cap{8, 2, 1};
  std::vector<unsigned char> buffer(Model<float>::plan(stacked, cap).total);
  Model<float> m;
  LossConfig energy = cross_entropy_only();
  energy.lambda_p = 0.1f;
  const Status s = m.init(stacked, OptimConfig{}, energy, 100, cap, buffer.data(), buffer.size());
  CHECK(s.code() == Error::unsupported);
  CHECK(std::string(s.message()).find("energy-entropy") != std::string::npos);
  CHECK(m.init(stacked, OptimConfig{}, cross_entropy_only(), 100, cap, buffer.data(), buffer.size()).is_ok());

  ModelSpec hamiltonian = stacked;
  hamiltonian.loop = LoopKind::hamiltonian;
  const Status h = validate(hamiltonian);
  CHECK(h.code() == Error::unsupported);
  CHECK(std::string(h.message()).find("hamiltonian") != std::string::npos);
  ModelSpec paper = paper_block();
  paper.loop = LoopKind::hamiltonian;
  CHECK(validate(paper).is_ok());
}
