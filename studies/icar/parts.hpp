#pragma once
// Inside the ICAR study (not its interface): the one training loop and evaluation pass that every
// model of parts (a), (b) and (c) goes through, and the three parts' entry points.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "icar/icar.hpp"
#include "tinyloop/model.hpp"
#include "tinyloop/icar.hpp"

namespace tinyloop::study::icar {

namespace task = tinyloop::icar;  // the engine's ICAR task generator

// The task of the study's seed: its Q drawn from Rng(seed, 0x7a5c), so every part of a setting
// sees the same Q.
task::IcarTask make_task(const Options& o, task::Setting setting, bool fixed_start);

enum class Tokens { augmented, plain };  // e_t = (s_t, s_{t-1}), or s_t alone

// How one model is trained: its token kind, steps, learning rate, the streams of Rng(seed, ...)
// its initial weights and its training data come from, and its name in progress notes.
struct TrainSpec {
  Tokens tokens = Tokens::augmented;
  std::int64_t steps = 0;
  float lr = 0;
  std::uint64_t init_stream = 0, data_stream = 0;
  std::string name;
};

// A trained model, its initial weights, its training-data generator where training left it, and
// its evaluation MSE per position i (0-based; mean over the evaluation sequences and components).
struct Trained {
  std::vector<unsigned char> buffer;
  Model<float> m;
  std::vector<double> init_params;
  Rng data;
  double seconds = 0;
  std::vector<double> curve;
};

std::unique_ptr<Trained> train(const ModelSpec& cfg, const task::IcarTask& t, const TrainSpec& spec,
                               const Options& o);

// The evaluation sequences of a setting, drawn again from Rng(eval_seed, 0xe7a1 + setting) in
// chunks of eval_batch: fn(count, states, augmented inputs, targets) per chunk.
template <class Fn>
void for_eval_chunks(const task::IcarTask& t, const Options& o, Fn&& fn) {
  const std::size_t rows = std::size_t(o.eval_batch) * t.n;
  std::vector<float> states(rows * t.p), inputs(rows * 2 * t.p), targets(rows * t.p);
  std::vector<std::uint8_t> mask(rows);
  Rng rng(o.eval_seed, 0xe7a1 + int(t.setting));
  for (int seen = 0; seen < o.eval_sequences;) {
    const int count = std::min(o.eval_batch, o.eval_sequences - seen);
    task::icar_batch<float>(t, rng, count, states.data(), inputs.data(), targets.data(), mask.data());
    fn(count, states.data(), inputs.data(), targets.data());
    seen += count;
  }
}

// Adds to curve[i], for positions i in [from, to), the squared error of one sequence's outputs y
// against its targets (both n x p), averaged over the p components.
void add_position_errors(const float* y, const float* targets, int p, int from, int to, std::vector<double>& curve);

// Mean of a per-position curve over the loss positions i = 1..n-2.
double curve_mean(const std::vector<double>& c, int n);
// The t (1-based) shown in the report's tables: 2, 3, .., 40 and n - 1, those in 2..n-1.
std::vector<int> table_positions(int n);

// Part (a): one setting of the linear layer on augmented tokens against one GD step.
struct Curves {
  std::string setting;
  std::vector<double> model, gd, zero;  // per position i (0-based), mean over sequences and components
  double eta = 0;
  double model_mean = 0, gd_mean = 0, zero_mean = 0;
  double train_seconds = 0;
  std::string structure;  // markdown lines
};
Curves run_setting(task::Setting setting, const Options& o);

// One row of the report's point-by-point table: a claim of the paper, whether this run
// reproduces it, and the numbers that decide.
struct Claim {
  std::string figure, claim, status, measured;
};

// Part (b), plain tokens: its report section and files. `zero` is part (a)'s commuting curve.
struct Part {
  std::string markdown, summary;
  std::vector<File> files;
  std::vector<Claim> claims;
};
Part run_plain_part(const Options& o, const Curves& commuting);

// Part (c), the softmax stack next to part (a)'s non-commuting linear layer.
Part run_softmax_part(const Options& o, const Curves& noncommuting);

// Part (d), the authors' theory scripts (Figs 3 and 6) at their settings.
Part run_theory_part(const Options& o);

// Part (e), the authors' augmented run (their Fig. 5) against one GD step.
Part run_authors_part(const Options& o);

// Part (f), the authors' non-augmented run (their Fig. 7): positional attention on plain tokens.
Part run_gated_part(const Options& o);

}  // namespace tinyloop::study::icar
