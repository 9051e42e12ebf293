#include "evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <new>
#include <optional>

#include "args.hpp"
#include "model_io.hpp"
#include "report.hpp"
#include "tinyloop/induction.hpp"
#include "tinyloop/platform/posix.hpp"
#include "tinyloop/rng.hpp"

namespace tinyloop::cli {

namespace {

// What an evaluation's progress line needs: the inference cost of every length and the speed
// of the last length measured. The cost model fits long sequences best, so before a long
// length that only short ones precede, a short run measures the speed (measure_inference_speed).
struct EvalClock {
  std::vector<double> cost;  // per length: samples x inference_cost
  double speed = 0;          // cost units per second; 0: unknown
  int speed_len = 0;         // the length it was measured at

  void measured(int len, double units_per_second) {
    if (!(units_per_second > 0) || !std::isfinite(units_per_second)) return;
    speed = units_per_second;
    speed_len = len;
  }
  bool needs_probe(int len) const { return len >= kSpeedProbeFrom && speed_len < kSpeedProbeTokens; }
  std::string text(const EvalOptions& opt, std::size_t k, double elapsed) const {
    double left = 0;
    for (std::size_t j = k; j < cost.size(); ++j) left += cost[j];
    const double eta = speed > 0 ? std::max(0.0, left / speed - elapsed) : -1.0;
    char line[160];
    std::snprintf(line, sizeof line, "eval: n = %d (%zu/%zu), %d sequences: %s  ETA %s", opt.lengths[k], k + 1,
                  opt.lengths.size(), opt.samples, text::format_duration(elapsed).c_str(),
                  text::format_duration(eta).c_str());
    return line;
  }
};

}  // namespace

double inference_cost(double n, int loops) { return double(loops) * n * (n / 2.0 + 100.0); }

double measure_inference_speed(Inference& engine, const std::int32_t* tokens, int len) {
  if (len < kSpeedProbeFrom) return 0.0;
  const double t0 = platform::now_seconds();
  Status s = engine.run(tokens, kSpeedProbeTokens, InferOutputs{});
  const double seconds = platform::now_seconds() - t0;
  if (!s || seconds <= 0) return 0.0;
  return inference_cost(kSpeedProbeTokens, engine.config().layers) / seconds;
}

std::vector<LengthResult> run_length_eval(const TrainConfig& cfg, const float* params, std::size_t count,
                                          const EvalOptions& opt,
                                          const std::function<void(const LengthResult&)>& on_result,
                                          const std::function<bool()>& stop, Progress* progress) {
  std::vector<LengthResult> rows;
  if (opt.lengths.empty()) return rows;
  const int max_len = *std::max_element(opt.lengths.begin(), opt.lengths.end());
  ModelSpec model = cfg.model;
  if (opt.loops > 0) model.layers = opt.loops;
  const int loops = model.layers;
  InferenceSession session(model, max_len, params, count);

  const int scratch_loops = opt.per_loop ? loops : 0;
  std::vector<std::int32_t> ints;
  try {
    ints.assign(static_cast<std::size_t>(eval_scratch_ints(max_len, cfg.task.alphabet, scratch_loops)), 0);
  } catch (const std::bad_alloc&) {
    runtime_error("cannot allocate the evaluation scratch for length " + std::to_string(max_len));
  }
  std::vector<double> per_loop(static_cast<std::size_t>(loops), 0.0);
  const bool show = progress && progress->enabled();
  EvalClock clock;
  for (int len : opt.lengths) clock.cost.push_back(opt.samples * inference_cost(len, loops));

  for (std::size_t k = 0; k < opt.lengths.size(); ++k) {
    const int len = opt.lengths[k];
    if (stop && stop()) break;
    EvalScratch scratch = bind_eval_scratch(ints.data(), len, cfg.task.alphabet, scratch_loops);
    if (!opt.per_loop) scratch.per_loop = nullptr;
    if (show && clock.needs_probe(len)) {
      Rng rng(opt.seed, 0);  // any valid tokens time the same; the scratch is overwritten next
      induction_sample(rng, cfg.task.alphabet, scratch.tokens, kSpeedProbeTokens);
      clock.measured(kSpeedProbeTokens, measure_inference_speed(session.engine(), scratch.tokens, len));
    }
    LengthResult row;
    const double t0 = platform::now_seconds();
    Status s;
    {
      std::optional<ProgressTicker> ticker;
      if (show) ticker.emplace(*progress, [&](double elapsed) { return clock.text(opt, k, elapsed); });
      s = evaluate_induction(session.engine(), cfg.task, len, opt.samples, opt.seed, scratch, &row.result,
                             opt.per_loop ? per_loop.data() : nullptr);
    }
    if (!s) runtime_error("evaluation at length " + std::to_string(len) + " failed: " + s.message());
    clock.measured(len, clock.cost[k] / (platform::now_seconds() - t0));
    if (opt.per_loop) row.per_loop = per_loop;
    rows.push_back(row);
    if (show) progress->clear();  // the next length's line comes back a second into it
    if (on_result) on_result(rows.back());
  }
  if (show) progress->finish(false);
  return rows;
}

void print_eval_header(std::FILE* out) {
  std::fprintf(out, "%7s  %9s  %8s  %10s\n", "len", "token_acc", "seq_acc", "positions");
  std::fflush(out);  // ahead of the progress line on stderr
}

void print_eval_row(std::FILE* out, const LengthResult& r) {
  std::fprintf(out, "%7d  %8.2f%%  %7.2f%%  %10lld\n", r.result.len, 100.0 * r.result.token_accuracy,
               100.0 * r.result.sequence_accuracy, static_cast<long long>(r.result.positions));
  std::fflush(out);
}

void print_per_loop_table(std::FILE* out, const std::vector<LengthResult>& rows) {
  if (rows.empty() || rows.front().per_loop.empty()) return;
  std::fprintf(out, "\nper-loop readout token accuracy (%%), readout applied after loop t:\n");
  std::fprintf(out, "%5s", "loop");
  for (const LengthResult& r : rows) std::fprintf(out, "  %7d", r.result.len);
  std::fprintf(out, "\n");
  const std::size_t loops = rows.front().per_loop.size();
  for (std::size_t t = 0; t < loops; ++t) {
    std::fprintf(out, "%5zu", t + 1);
    for (const LengthResult& r : rows)
      std::fprintf(out, "  %7.2f", t < r.per_loop.size() ? 100.0 * r.per_loop[t] : 0.0);
    std::fprintf(out, "\n");
  }
  std::fflush(out);
}

std::string eval_json(const std::string& checkpoint, const EvalOptions& opt,
                      const std::vector<LengthResult>& rows) {
  JsonWriter j(2);
  j.begin_object();
  j.key("checkpoint").value(checkpoint);
  j.key("seed").value(opt.seed);
  j.key("samples").value(opt.samples);
  if (opt.loops > 0) j.key("loops").value(opt.loops);
  j.key("results").begin_array();
  for (const LengthResult& r : rows) {
    j.begin_object();
    j.key("len").value(r.result.len);
    j.key("token_accuracy").value(r.result.token_accuracy);
    j.key("sequence_accuracy").value(r.result.sequence_accuracy);
    j.key("positions").value(static_cast<std::int64_t>(r.result.positions));
    if (!r.per_loop.empty()) {
      j.key("per_loop").begin_array();
      for (double a : r.per_loop) j.value(a);
      j.end_array();
    }
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.finish();
}

}  // namespace tinyloop::cli
