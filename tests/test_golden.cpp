// The engine against the independent PyTorch reference (tools/reference/torch_reference.py).
//
// Every golden case holds a configuration, weights, one batch and what the reference computed
// in float64: logits, each loss term, the gradient of the total loss for every parameter and
// the attention probabilities of the first and last loop. Trainer<double> and Trainer<float>
// are loaded with the same weights and must reproduce all of it. The weights and the float
// configuration scalars in the golden files are float32-representable, so both engines start
// from exactly the numbers the reference used.
//
// Tolerance rule, per value a (engine) against b (golden):
//   double engine: |a - b| <= 1e-10 + 1e-8 * |b|
//   float engine:  |a - b| <= 1e-5 * max(|b|, scale), scale = max |value| of that golden tensor
//                  (for a scalar loss term scale = |b|, i.e. a 1e-5 relative bound).
// The golden cases are chosen so that no attention row has a near tie for its arg-max (relative
// gap >= 1e-4), so float rounding cannot move the gradient path of the potential term.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support/golden_file.hpp"
#include "tinyloop/config.hpp"
#include "tinyloop/params.hpp"
#include "tinyloop/trainer.hpp"

#ifndef TINYLOOP_GOLDEN_DIR
#error "TINYLOOP_GOLDEN_DIR must name the tests/golden directory"
#endif

namespace {

using tinyloop::test::GoldenFile;
using tinyloop::test::GoldenTensor;

// The tolerance rule above; T is the engine's scalar type.
template <class T>
bool within(double got, double want, double scale);

template <>
bool within<double>(double got, double want, double /*scale*/) {
  return std::fabs(got - want) <= 1e-10 + 1e-8 * std::fabs(want);
}

template <>
bool within<float>(double got, double want, double scale) {
  return std::fabs(got - want) <= 1e-5 * std::max(std::fabs(want), scale);
}

template <class T>
const char* type_name();
template <>
const char* type_name<float>() { return "float"; }
template <>
const char* type_name<double>() { return "double"; }

double max_abs(const GoldenTensor& g) {
  double m = 0;
  for (double v : g.data) m = std::max(m, std::fabs(v));
  return m;
}

// Compares `count` engine values with golden values under the rule for engine type T, looking
// only at the indices `valid(i)` accepts. One CHECK per tensor, naming the worst value.
template <class T, class V, class Valid>
void check_close(const std::string& what, const V* got, const double* want, std::size_t count,
                 double scale, Valid valid) {
  std::size_t bad = 0, checked = 0, worst = 0;
  double worst_err = -1;
  for (std::size_t i = 0; i < count; ++i) {
    if (!valid(i)) continue;
    ++checked;
    const double a = static_cast<double>(got[i]), b = want[i];
    const double err = std::isfinite(a) ? std::fabs(a - b) : HUGE_VAL;
    if (!std::isfinite(a) || !within<T>(a, b, scale)) ++bad;
    if (err > worst_err) worst_err = err, worst = i;
  }
  std::ostringstream msg;
  msg.precision(17);
  msg << type_name<T>() << " " << what << ": " << bad << " of " << checked
      << " values outside tolerance";
  if (checked > 0)
    msg << "; largest error " << worst_err << " at [" << worst << "]: engine "
        << static_cast<double>(got[worst]) << ", golden " << want[worst] << " (scale " << scale
        << ")";
  CHECK_MESSAGE(bad == 0, msg.str());
}

template <class T, class V>
void check_close(const std::string& what, const V* got, const double* want, std::size_t count,
                 double scale) {
  check_close<T>(what, got, want, count, scale, [](std::size_t) { return true; });
}

template <class T>
void check_scalar(const std::string& what, double got, double want) {
  check_close<T>(what, &got, &want, 1, std::fabs(want));
}

// A golden tensor that must exist; the test stops (REQUIRE) otherwise.
const GoldenTensor& need(const GoldenFile& g, const std::string& name) {
  const GoldenTensor* t = g.find(name);
  REQUIRE_MESSAGE(t != nullptr, "golden tensor " << name << " is missing");
  return *t;
}

GoldenFile load_case(const std::string& name) {
  GoldenFile g;
  std::string error;
  const std::string path = std::string(TINYLOOP_GOLDEN_DIR) + "/" + name + ".tlg";
  REQUIRE_MESSAGE(GoldenFile::load(path, &g, &error), error);
  return g;
}

tinyloop::TrainConfig config_from(const GoldenFile& g, int batch, int len) {
  auto as_int = [&](const char* key) { return static_cast<int>(std::lround(g.scalar(key))); };
  auto as_float = [&](const char* key) { return static_cast<float>(g.scalar(key)); };
  tinyloop::TrainConfig cfg = tinyloop::preset_lam2026();
  cfg.task.alphabet = as_int("config.vocab_in");
  cfg.task.hops = 1;
  tinyloop::sync_vocab_with_task(cfg);
  REQUIRE(cfg.model.vocab_out == as_int("config.vocab_out"));

  tinyloop::ModelConfig& m = cfg.model;
  m.loops = as_int("config.loops");
  const int positions = as_int("config.positions");
  REQUIRE(positions >= 0);
  REQUIRE(positions <= static_cast<int>(tinyloop::PositionKind::rope));
  m.positions = static_cast<tinyloop::PositionKind>(positions);
  m.pe_scale = as_float("config.pe_scale");
  if (positions >= static_cast<int>(tinyloop::PositionKind::alibi)) {  // SPEC 1.1 cases carry their settings
    m.alibi_rho = as_float("config.alibi_rho");
    m.rope_base = as_float("config.rope_base");
  }
  m.causal = as_int("config.causal") != 0;
  m.loop = as_int("config.loop") == 0 ? tinyloop::LoopKind::standard : tinyloop::LoopKind::hamiltonian;
  m.mu = as_float("config.mu");
  m.alpha = as_float("config.alpha");
  m.beta = 0.0f;

  tinyloop::LossConfig& l = cfg.loss;
  l.lambda_p = as_float("loss.lambda_p");
  l.lambda_k = as_float("loss.lambda_k");
  l.lambda_s = as_float("loss.lambda_s");
  l.q = as_float("loss.q");
  l.eta = as_float("loss.eta");

  // Only one batch of this shape is ever used; keep the curriculum inside the capacity.
  cfg.batch = batch;
  cfg.curriculum.min_len = cfg.curriculum.max_len = len;
  const tinyloop::Status st = tinyloop::validate(cfg);
  REQUIRE_MESSAGE(st.is_ok(), st.message());
  return cfg;
}

std::vector<std::int32_t> as_int32(const GoldenTensor& t) {
  std::vector<std::int32_t> out(t.data.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::int32_t>(std::lround(t.data[i]));
  return out;
}

template <class T>
void run_golden_case(const std::string& case_name) {
  const std::string label = "golden case " + case_name + ", Trainer<" + type_name<T>() + ">";
  INFO(label);
  const GoldenFile g = load_case(case_name);

  const GoldenTensor& tokens = need(g, "tokens");
  REQUIRE(tokens.shape.size() == 2);
  const int batch = static_cast<int>(tokens.shape[0]);
  const int len = static_cast<int>(tokens.shape[1]);
  const tinyloop::TrainConfig cfg = config_from(g, batch, len);
  const int vocab_out = cfg.model.vocab_out;

  // Engine in its own buffer, sized by the planner.
  tinyloop::Capacity cap;
  cap.max_len = len;
  cap.max_batch = batch;
  cap.workers = 1;
  std::vector<unsigned char> buffer(tinyloop::Trainer<T>::plan(cfg, cap).total);
  tinyloop::Trainer<T> trainer;
  const tinyloop::Status init = trainer.init(cfg, cap, buffer.data(), buffer.size());
  REQUIRE_MESSAGE(init.is_ok(), init.message());

  // Golden weights into the flat array; the padding between tensors stays 0.
  const tinyloop::ParamLayout& layout = trainer.layout();
  T* params = trainer.params();
  std::fill(params, params + trainer.param_count(), T(0));
  for (int p = 0; p < layout.count; ++p) {
    const tinyloop::ParamInfo& info = layout.info[p];
    const GoldenTensor& w = need(g, std::string("param.") + info.name);
    INFO("param " << std::string(info.name));
    const std::vector<std::size_t> shape =
        info.is_vector ? std::vector<std::size_t>{std::size_t(info.cols)}
                       : std::vector<std::size_t>{std::size_t(info.rows), std::size_t(info.cols)};
    REQUIRE(w.shape == shape);
    for (std::size_t i = 0; i < info.size(); ++i) params[info.offset + i] = static_cast<T>(w.data[i]);
  }

  const std::vector<std::int32_t> tok = as_int32(tokens);
  const std::vector<std::int32_t> tgt = as_int32(need(g, "targets"));
  tinyloop::Batch b;
  b.tokens = tok.data();
  b.targets = tgt.data();
  b.batch = batch;
  b.len = len;

  tinyloop::LossTerms loss;
  const tinyloop::Status st = trainer.compute_gradients(b, &loss);
  REQUIRE_MESSAGE(st.is_ok(), st.message());

  // Loss terms.
  check_scalar<T>("loss.ce", loss.ce, g.scalar("loss.ce"));
  check_scalar<T>("loss.kinetic", loss.kinetic, g.scalar("loss.kinetic"));
  check_scalar<T>("loss.potential", loss.potential, g.scalar("loss.potential"));
  check_scalar<T>("loss.tsallis", loss.tsallis, g.scalar("loss.tsallis"));
  check_scalar<T>("loss.entropy", loss.entropy, g.scalar("loss.entropy"));
  check_scalar<T>("loss.total", loss.total, g.scalar("loss.total"));

  // Logits, sequence by sequence (len x vocab_out each).
  const GoldenTensor& logits = need(g, "logits");
  const double logit_scale = max_abs(logits);
  const std::size_t per_seq = std::size_t(len) * std::size_t(vocab_out);
  REQUIRE(logits.data.size() == per_seq * std::size_t(batch));
  for (int s = 0; s < batch; ++s) {
    const T* got = trainer.logits(s);
    REQUIRE(got != nullptr);
    check_close<T>("logits(" + std::to_string(s) + ")", got, logits.data.data() + per_seq * s, per_seq,
                   logit_scale);
  }

  // Gradients at the parameter offsets; the gradient padding must be exactly 0 as well.
  const T* grads = trainer.grads();
  std::vector<T> first_grads(grads, grads + trainer.param_count());
  for (int p = 0; p < layout.count; ++p) {
    const tinyloop::ParamInfo& info = layout.info[p];
    const GoldenTensor& want = need(g, std::string("grad.") + info.name);
    REQUIRE(want.data.size() == info.size());
    check_close<T>(std::string("grad.") + info.name, grads + info.offset, want.data.data(), info.size(),
                   max_abs(want));
    std::size_t nonzero = 0;
    for (std::size_t i = info.offset + info.size(); i < layout.end_of(p); ++i) nonzero += grads[i] != T(0);
    CHECK_MESSAGE(nonzero == 0, "gradient padding after " << std::string(info.name) << " is not zero");
  }

  // Attention of the first and last loop, where the engine keeps it (only unmasked entries).
  const bool causal = cfg.model.causal;
  const int loops[2] = {1, cfg.model.loops};
  const char* names[2] = {"attention.first", "attention.last"};
  for (int k = 0; k < 2; ++k) {
    const GoldenTensor& want = need(g, names[k]);
    const std::size_t per_map = std::size_t(len) * std::size_t(len);
    REQUIRE(want.data.size() == per_map * std::size_t(batch));
    for (int s = 0; s < batch; ++s) {
      const T* got = trainer.attention(s, loops[k]);
      if (got == nullptr) {
        MESSAGE(std::string(names[k]) << ": engine did not keep attention probabilities; not compared");
        break;
      }
      auto unmasked = [&](std::size_t i) { return !causal || i % std::size_t(len) <= i / std::size_t(len); };
      check_close<T>(std::string(names[k]) + "(" + std::to_string(s) + ")", got,
                     want.data.data() + per_map * s, per_map, max_abs(want), unmasked);
    }
  }

  // A second call overwrites (does not accumulate) and, with one worker, repeats bit for bit.
  tinyloop::LossTerms again;
  REQUIRE(trainer.compute_gradients(b, &again).is_ok());
  CHECK(again.total == loss.total);
  std::size_t changed = 0;
  for (std::size_t i = 0; i < first_grads.size(); ++i) changed += grads[i] != first_grads[i];
  CHECK_MESSAGE(changed == 0, changed << " gradient entries changed on a repeated call");

  // The forward-only path gives the same loss terms.
  tinyloop::LossTerms eval;
  REQUIRE(trainer.evaluate_loss(b, &eval).is_ok());
  check_scalar<T>("evaluate_loss total", eval.total, g.scalar("loss.total"));
  check_scalar<T>("evaluate_loss ce", eval.ce, g.scalar("loss.ce"));
}

}  // namespace

TEST_CASE_TEMPLATE("golden lam2026_small: B 3, n 9, 4 loops, sinusoidal, causal", T, float, double) {
  run_golden_case<T>("lam2026_small");
}

TEST_CASE_TEMPLATE("golden variant: no positions, no mask, hamiltonian loop, eta above entropy", T,
                   float, double) {
  run_golden_case<T>("variant");
}

TEST_CASE_TEMPLATE("golden lam2026_full: B 2, n 16, 25 loops, lam2026 defaults", T, float, double) {
  run_golden_case<T>("lam2026_full");
}

TEST_CASE_TEMPLATE("golden alibi_small: learned recency slope, causal, every term", T, float, double) {
  run_golden_case<T>("alibi_small");
}

TEST_CASE_TEMPLATE("golden alibi_sinusoidal_nomask: ALiBi with sinusoids, no mask, eta above entropy", T, float,
                   double) {
  run_golden_case<T>("alibi_sinusoidal_nomask");
}

TEST_CASE_TEMPLATE("golden rope_small: rotary positions, base 100", T, float, double) {
  run_golden_case<T>("rope_small");
}

TEST_CASE("golden files: every case has the tensors the tests use") {
  // Relative-position cases add their two settings; ALiBi ones the parameter rho and its gradient.
  const std::pair<const char*, std::size_t> cases[] = {{"lam2026_small", 57},         {"variant", 57},
                                                       {"lam2026_full", 57},          {"alibi_small", 61},
                                                       {"alibi_sinusoidal_nomask", 61}, {"rope_small", 59}};
  for (const auto& [name, tensors] : cases) {
    INFO("case " << std::string(name));
    const GoldenFile g = load_case(name);
    CHECK(g.tensors().size() == tensors);
    for (const char* key : {"config.loops", "config.vocab_in", "config.vocab_out", "config.positions",
                            "config.pe_scale", "config.causal", "config.loop", "config.mu",
                            "config.alpha", "loss.lambda_p", "loss.lambda_k", "loss.lambda_s",
                            "loss.q", "loss.eta", "loss.ce", "loss.kinetic", "loss.potential",
                            "loss.tsallis", "loss.entropy", "loss.total"})
      CHECK_MESSAGE(std::isfinite(g.scalar(key)), std::string(key) << " missing or not a scalar");
    const double total = g.scalar("loss.ce") + g.scalar("loss.lambda_p") * g.scalar("loss.potential") +
                         g.scalar("loss.lambda_k") * g.scalar("loss.kinetic") +
                         g.scalar("loss.lambda_s") * g.scalar("loss.entropy");
    CHECK(std::fabs(total - g.scalar("loss.total")) <= 1e-12);
    CHECK(std::fabs(g.scalar("loss.entropy") - std::fabs(g.scalar("loss.tsallis") - g.scalar("loss.eta"))) <=
          1e-15);
  }
}
