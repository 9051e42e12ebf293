#pragma once
// The length-generalisation table (SPEC §5), shared by `eval` and the end of `train`.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "progress.hpp"
#include "tinyloop/config.hpp"
#include "tinyloop/evaluate.hpp"

namespace tinyloop::cli {

// The fixed evaluation seed: every length n draws its samples from Rng(seed, stream = n), so
// tables from different runs and checkpoints are computed on the same sequences.
constexpr std::uint64_t kDefaultEvalSeed = 1234;
constexpr int kDefaultEvalSamples = 256;
inline std::vector<int> default_eval_lengths() { return {64, 100, 200, 500, 1000}; }
// Longest sequence the CLI evaluates or infers (attention work grows as n^2 per loop).
constexpr int kMaxSequenceLength = 1 << 20;

struct EvalOptions {
  std::vector<int> lengths;
  int samples = kDefaultEvalSamples;
  std::uint64_t seed = kDefaultEvalSeed;
  bool per_loop = false;
  int loops = 0;  // loops of the block at evaluation; 0: as trained (the weights are shared, so any count runs)
};

struct LengthResult {
  EvalResult result;
  std::vector<double> per_loop;  // token accuracy of the readout after loop t (t = 1..L); empty unless asked
};

// Runs evaluate_induction for every length with one Inference planned for the longest.
// `on_result` (optional) sees each row as soon as it is computed; `stop` (optional) is polled
// between lengths and ends the run early (the rows so far are returned). `progress` (optional)
// shows the length being measured and an ETA; its line is erased at the end, and on_result
// runs with it out of the way.
std::vector<LengthResult> run_length_eval(const TrainConfig& cfg, const float* params, std::size_t count,
                                          const EvalOptions& opt,
                                          const std::function<void(const LengthResult&)>& on_result = {},
                                          const std::function<bool()>& stop = {}, Progress* progress = nullptr);

// Estimated cost of the streaming inference over n tokens with `loops` loops, in arbitrary
// units: per loop, the per-token work (projections, MLP, norms) is worth about 100 query-key
// pairs of the attention, which grows as n^2 / 2 (measured on x86-64 at n = 256..16384).
double inference_cost(double n, int loops);

// Inference cost units (inference_cost) per second of `engine`, timed on the first
// kSpeedProbeTokens of a sequence of `len` tokens, when it has at least kSpeedProbeFrom (0 for
// a shorter one, which is over before an ETA matters): the speed an ETA starts from.
constexpr int kSpeedProbeTokens = 1024;
constexpr int kSpeedProbeFrom = 2 * kSpeedProbeTokens;
double measure_inference_speed(Inference& engine, const std::int32_t* tokens, int len);

// `len  token_acc  seq_acc  positions` (accuracies in percent).
void print_eval_header(std::FILE* out);
void print_eval_row(std::FILE* out, const LengthResult& r);
// A loop x length table of per-loop readout accuracy (percent); nothing when not computed.
void print_per_loop_table(std::FILE* out, const std::vector<LengthResult>& rows);

// {"checkpoint":..., "seed":..., "samples":..., "results":[{"len":.., "token_accuracy":..,
//  "sequence_accuracy":.., "positions":.., "per_loop":[...]}]}; accuracies are fractions.
std::string eval_json(const std::string& checkpoint, const EvalOptions& opt,
                      const std::vector<LengthResult>& rows);

}  // namespace tinyloop::cli
