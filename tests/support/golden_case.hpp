#pragma once
// Comparing the engine with the PyTorch golden cases (tools/reference/torch_reference.py): the
// tolerance rules, per-tensor checks that name the worst value, and loading a case's
// configuration and weights into a trainer. Test code only (doctest, allocation).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "support/golden_file.hpp"
#include "tinyloop/config.hpp"
#include "tinyloop/params.hpp"
#include "tinyloop/trainer.hpp"

#ifndef TINYLOOP_GOLDEN_DIR
#error "TINYLOOP_GOLDEN_DIR must name the tests/golden directory"
#endif

namespace tinyloop::test {

// |a - b| <= abs + rel * m, with m = max(|b|, scale) when `scaled`, else |b|. `scale` is the largest
// |value| of the golden tensor, so that entries near 0 of a large tensor are judged on its scale.
struct Tolerance {
  double rel;
  double abs;
  bool scaled;

  bool holds(double got, double want, double scale) const {
    const double m = scaled ? std::max(std::fabs(want), scale) : std::fabs(want);
    return std::fabs(got - want) <= abs + rel * m;
  }
};

// The rule of the forward/backward goldens: double 1e-10 + 1e-8 |b|; float 1e-5 max(|b|, scale).
template <class T>
Tolerance golden_tolerance();
template <>
inline Tolerance golden_tolerance<double>() { return {1e-8, 1e-10, false}; }
template <>
inline Tolerance golden_tolerance<float>() { return {1e-5, 0.0, true}; }

template <class T>
const char* type_name();
template <>
inline const char* type_name<float>() { return "float"; }
template <>
inline const char* type_name<double>() { return "double"; }

inline double max_abs(const GoldenTensor& g) {
  double m = 0;
  for (double v : g.data) m = std::max(m, std::fabs(v));
  return m;
}

// Compares `count` engine values with golden values, looking only at the indices `valid(i)`
// accepts. One CHECK per tensor, naming the worst value.
template <class V, class Valid>
void check_close(const std::string& what, const V* got, const double* want, std::size_t count, double scale,
                 const Tolerance& tol, Valid valid) {
  std::size_t bad = 0, checked = 0, worst = 0;
  double worst_err = -1;
  for (std::size_t i = 0; i < count; ++i) {
    if (!valid(i)) continue;
    ++checked;
    const double a = static_cast<double>(got[i]), b = want[i];
    const double err = std::isfinite(a) ? std::fabs(a - b) : HUGE_VAL;
    if (!std::isfinite(a) || !tol.holds(a, b, scale)) ++bad;
    if (err > worst_err) worst_err = err, worst = i;
  }
  std::ostringstream msg;
  msg.precision(17);
  msg << what << ": " << bad << " of " << checked << " values outside tolerance";
  if (checked > 0)
    msg << "; largest error " << worst_err << " at [" << worst << "]: engine " << static_cast<double>(got[worst])
        << ", golden " << want[worst] << " (scale " << scale << ")";
  CHECK_MESSAGE(bad == 0, msg.str());
}

template <class V>
void check_close(const std::string& what, const V* got, const double* want, std::size_t count, double scale,
                 const Tolerance& tol) {
  check_close(what, got, want, count, scale, tol, [](std::size_t) { return true; });
}

inline void check_scalar(const std::string& what, double got, double want, const Tolerance& tol) {
  check_close(what, &got, &want, 1, std::fabs(want), tol);
}

// A golden tensor that must exist; the test stops (REQUIRE) otherwise.
inline const GoldenTensor& need(const GoldenFile& g, const std::string& name) {
  const GoldenTensor* t = g.find(name);
  REQUIRE_MESSAGE(t != nullptr, "golden tensor " << name << " is missing");
  return *t;
}

inline GoldenFile load_case(const std::string& name) {
  GoldenFile g;
  std::string error;
  const std::string path = std::string(TINYLOOP_GOLDEN_DIR) + "/" + name + ".tlg";
  REQUIRE_MESSAGE(GoldenFile::load(path, &g, &error), error);
  return g;
}

// The case's model and loss configuration on the lam2026 preset, with one batch shape.
inline TrainConfig config_from(const GoldenFile& g, int batch, int len) {
  auto as_int = [&](const char* key) { return static_cast<int>(std::lround(g.scalar(key))); };
  auto as_float = [&](const char* key) { return static_cast<float>(g.scalar(key)); };
  TrainConfig cfg = preset_lam2026();
  cfg.task.alphabet = as_int("config.vocab_in");
  cfg.task.hops = 1;
  sync_vocab_with_task(cfg);
  REQUIRE(cfg.model.out_dim == as_int("config.vocab_out"));

  ModelSpec& m = cfg.model;
  m.layers = as_int("config.loops");
  const int positions = as_int("config.positions");
  REQUIRE(positions >= 0);
  REQUIRE(positions <= static_cast<int>(Positions::rope));
  m.positions = static_cast<Positions>(positions);
  m.pe_scale = as_float("config.pe_scale");
  if (g.has("config.alibi_rho")) {  // cases of SPEC 1.1 and later carry these settings
    m.alibi_rho = as_float("config.alibi_rho");
    m.rope_base = as_float("config.rope_base");
  }
  m.causal = as_int("config.causal") != 0;
  m.loop = as_int("config.loop") == 0 ? LoopKind::standard : LoopKind::hamiltonian;
  m.mu = as_float("config.mu");
  m.alpha = as_float("config.alpha");

  LossConfig& l = cfg.loss;
  l.lambda_p = as_float("loss.lambda_p");
  l.lambda_k = as_float("loss.lambda_k");
  l.lambda_s = as_float("loss.lambda_s");
  l.q = as_float("loss.q");
  l.eta = as_float("loss.eta");

  // Only batches of this shape are ever used; keep the curriculum inside the capacity.
  cfg.batch = batch;
  cfg.curriculum.min_len = cfg.curriculum.max_len = len;
  const Status st = validate(cfg);
  REQUIRE_MESSAGE(st.is_ok(), st.message());
  return cfg;
}

inline std::vector<std::int32_t> as_int32(const GoldenTensor& t) {
  std::vector<std::int32_t> out(t.data.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::int32_t>(std::lround(t.data[i]));
  return out;
}

// The shape a golden tensor of this parameter has: [cols] for a vector, else [rows, cols].
inline std::vector<std::size_t> golden_shape(const ParamInfo& info) {
  if (info.is_vector) return {std::size_t(info.cols)};
  return {std::size_t(info.rows), std::size_t(info.cols)};
}

// Golden tensors `prefix` + name into the flat array of `layout`; the padding between tensors is 0.
template <class T>
void load_flat(const GoldenFile& g, const std::string& prefix, const ParamLayout& layout, T* flat) {
  std::fill(flat, flat + layout.total, T(0));
  for (int p = 0; p < layout.count; ++p) {
    const ParamInfo& info = layout.info[p];
    const GoldenTensor& w = need(g, prefix + info.name);
    INFO("tensor " << prefix << std::string(info.name));
    REQUIRE(w.shape == golden_shape(info));
    for (std::size_t i = 0; i < info.size(); ++i) flat[info.offset + i] = static_cast<T>(w.data[i]);
  }
}

}  // namespace tinyloop::test
