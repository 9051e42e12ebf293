// AdamW, global-norm clipping and the learning-rate schedule against PyTorch: torch.optim.AdamW
// with clip_grad_norm_ and the same warm-up and cosine rate (tools/reference/torch_reference.py
// golden-extra). From the golden weights, train_step on each of the case's batches must give the
// reference's rate, gradient norm (before clipping) and loss at every step, then its weights and
// both AdamW moments after the last step.
//
// Cases: optim_lam2026_small (warm-up 2 then cosine to 0.1 lr, clip 0.8, active on the first three
// of six steps, weight decay 0.1) and optim_alibi_noclip (the ALiBi slope's tensor, betas 0.8 and
// 0.99, eps 1e-6, no weight decay, no clip, constant rate).
//
// Tolerance, per value a (engine) against b (golden):
//   double engine: |a - b| <= 1e-10 + 1e-8 |b| (the rule of test_golden.cpp);
//   float engine:  |a - b| <= 5e-5 max(|b|, scale), scale = max |value| of that golden tensor.
// The float bound is five times the forward/backward one: each step feeds float gradients
// through m / sqrt(v), and the differences carry over into the next step's forward. Measured on
// x86-64 (portable build): 4.1e-6 of scale at worst (final.param.W2), moments 1.3e-6.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "support/golden_case.hpp"
#include "support/harness.hpp"
#include "tinyloop/config.hpp"
#include "tinyloop/trainer.hpp"

namespace {

using namespace tinyloop;
using namespace tinyloop::test;

template <class T>
Tolerance optim_tolerance();
template <>
Tolerance optim_tolerance<double>() { return golden_tolerance<double>(); }
template <>
Tolerance optim_tolerance<float>() { return {5e-5, 0.0, true}; }

// The case's optimizer settings and step count on top of its model and loss configuration.
TrainConfig optim_config_from(const GoldenFile& g, int batch, int len) {
  TrainConfig cfg = config_from(g, batch, len);
  auto as_float = [&](const char* key) { return static_cast<float>(g.scalar(key)); };
  OptimConfig& o = cfg.optim;
  o.lr = as_float("optim.lr");
  o.beta1 = as_float("optim.beta1");
  o.beta2 = as_float("optim.beta2");
  o.eps = as_float("optim.eps");
  o.weight_decay = as_float("optim.weight_decay");
  o.clip_norm = as_float("optim.clip_norm");
  o.warmup_steps = static_cast<int>(g.scalar("optim.warmup_steps"));
  o.schedule = g.scalar("optim.schedule") == 1.0 ? Schedule::cosine : Schedule::constant;
  o.min_lr_ratio = as_float("optim.min_lr_ratio");
  cfg.steps = static_cast<std::int64_t>(g.scalar("optim.steps"));
  const Status st = validate(cfg);
  REQUIRE_MESSAGE(st.is_ok(), st.message());
  return cfg;
}

// One flat array (parameters or a moment) against the golden tensors `prefix` + name.
template <class T>
void check_flat(const std::string& prefix, const T* flat, const ParamLayout& layout, const GoldenFile& g,
                const Tolerance& tol) {
  for (int p = 0; p < layout.count; ++p) {
    const ParamInfo& info = layout.info[p];
    const GoldenTensor& want = need(g, prefix + info.name);
    REQUIRE(want.data.size() == info.size());
    check_close(prefix + info.name, flat + info.offset, want.data.data(), info.size(), max_abs(want), tol);
    std::size_t nonzero = 0;
    for (std::size_t i = info.offset + info.size(); i < layout.end_of(p); ++i) nonzero += flat[i] != T(0);
    CHECK_MESSAGE(nonzero == 0, prefix << "padding after " << std::string(info.name) << " is not zero");
  }
}

template <class T>
void run_optim_case(const std::string& name) {
  INFO("optimizer golden " << name << ", Trainer<" << std::string(type_name<T>()) << ">");
  const Tolerance tol = optim_tolerance<T>();
  const GoldenFile g = load_case(name);
  const GoldenTensor& tokens = need(g, "tokens");
  REQUIRE(tokens.shape.size() == 3);
  const int steps = static_cast<int>(tokens.shape[0]);
  const int batch = static_cast<int>(tokens.shape[1]);
  const int len = static_cast<int>(tokens.shape[2]);
  const TrainConfig cfg = optim_config_from(g, batch, len);
  REQUIRE(cfg.steps == steps);

  TrainerHarness<T> h(cfg, Capacity{len, batch, 1});
  REQUIRE_MESSAGE(h.status.is_ok(), h.status.message());
  Trainer<T>& trainer = h.trainer;
  load_flat(g, "param.", trainer.layout(), trainer.params());

  const std::vector<std::int32_t> tok = as_int32(tokens), tgt = as_int32(need(g, "targets"));
  const GoldenTensor &lr = need(g, "step.lr"), &norm = need(g, "step.grad_norm"), &loss = need(g, "step.loss");
  const std::size_t per_step = std::size_t(batch) * std::size_t(len);
  for (int s = 0; s < steps; ++s) {
    INFO("step " << s);
    const Batch b{tok.data() + s * per_step, tgt.data() + s * per_step, batch, len};
    StepStats st;
    REQUIRE(trainer.train_step(b, &st).is_ok());
    REQUIRE_MESSAGE(!st.skipped, "step skipped: " << st.fault);
    check_scalar("lr", st.lr, lr.data[s], tol);
    check_scalar("grad_norm", st.grad_norm, norm.data[s], tol);
    check_scalar("loss.total", st.loss.total, loss.data[s], tol);
  }
  CHECK(trainer.step() == steps);
  check_flat("final.param.", trainer.params(), trainer.layout(), g, tol);
  check_flat("final.adam_m.", trainer.adam_m(), trainer.layout(), g, tol);
  check_flat("final.adam_v.", trainer.adam_v(), trainer.layout(), g, tol);
}

}  // namespace

TEST_CASE_TEMPLATE("optimizer golden optim_lam2026_small: warm-up, cosine rate, clip on and off, decay", T, float,
                   double) {
  run_optim_case<T>("optim_lam2026_small");
}

TEST_CASE_TEMPLATE("optimizer golden optim_alibi_noclip: other betas and eps, no decay, no clip, rho", T, float,
                   double) {
  run_optim_case<T>("optim_alibi_noclip");
}

TEST_CASE("optimizer golden files: the clip is active on some steps and not on others") {
  // Guards the case design: with every step clipped (or none), a wrong clip factor could hide.
  const GoldenFile g = load_case("optim_lam2026_small");
  const double clip = g.scalar("optim.clip_norm");
  int clipped = 0, unclipped = 0;
  for (double n : need(g, "step.grad_norm").data) (n > clip ? clipped : unclipped) += 1;
  CHECK(clipped > 0);
  CHECK(unclipped > 0);
  CHECK(g.scalar("optim.warmup_steps") > 0);
  CHECK(g.scalar("optim.warmup_steps") < g.scalar("optim.steps"));
}
