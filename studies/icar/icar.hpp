#pragma once
// The ICAR study (in-context autoregressive learning, SPEC §4.3, arXiv 2402.05787) on the engine's
// model family: options, and one call that runs it and returns its report in memory.
//
// (a) a one-layer linear-attention transformer on augmented tokens e_t = (s_t, s_{t-1}) in the
// commuting and non-commuting settings, against one gradient-descent step and the zero predictor;
// (b) plain tokens with learned positions: head overlaps and trigonometric measures of the
// positions; (c) a stack of softmax layers in the non-commuting setting; (d) the authors' theory
// scripts (Figs 3 and 6) re-derived and compared with their closed forms (icar/theory.hpp); (e) the
// authors' augmented run (their Fig. 5): their model, data and optimiser, against one GD step; (f)
// their non-augmented run (their Fig. 7): positional softmax attention gating linear token scores.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/text.hpp"

namespace tinyloop::study::icar {

// One training step done, for a progress display (the study prints nothing itself).
struct StepNote {
  std::string name;  // which model: "commuting", "plain tokens, fixed s_1", ...
  std::int64_t done = 0, steps = 0;
  double loss = 0, seconds = 0;
};

struct Options {
  std::int64_t steps = 3000;
  int batch = 64;
  float lr = 0.01f;
  std::uint64_t seed = 1;
  int p = 4;
  int n = 50;
  int eval_sequences = 2048;
  int eval_batch = 64;
  std::uint64_t eval_seed = 1234;
  // (b) plain tokens, one linear multi-head layer with learned positions (commuting setting).
  std::int64_t plain_steps = 1500;  // 0 skips (b)
  int plain_heads = 4;
  float plain_lr = 0.01f;
  // (c) non-commuting setting, stacked softmax layers on augmented tokens.
  std::int64_t softmax_steps = 1000;  // 0 skips (c)
  int softmax_layers = 2;
  int softmax_heads = 2;
  int softmax_width = 16;
  float softmax_lr = 0.003f;
  // (d) the theory of Figs 3 and 6: orthogonal.py is also run from this many initial draws.
  int theory_seeds = 10;  // 0 skips (d)
  // (e) the authors' augmented run: augmented.py's sizes, data and Adam.
  int authors_seeds = 3;  // 0 skips (e)
  int authors_d = 5;
  int authors_n = 50;
  int authors_sequences = 16384;  // the fixed training set, walked in shuffled epochs
  int authors_test = 1024;
  int authors_batch = 1024;
  int authors_epochs = 200;
  float authors_lr = 0.01f;
  // (f) the authors' non-augmented run (their Fig. 7): their model (position_gated attention), data
  // and Adam (lr authors_lr, d authors_d, n authors_n, authors_test test sequences), at a size that
  // trains in minutes; theirs is 64 heads, batch 1024, 200 epochs over 16384 sequences.
  int gated_seeds = 3;  // 0 skips (f)
  int gated_heads = 16;
  int gated_sequences = 4096;
  int gated_batch = 256;
  int gated_epochs = 50;
  std::function<void(const StepNote&)> on_step;  // optional: called after every training step
};

// report.md, loss_vs_t.csv, loss_vs_t.svg, then the files of (b) and (c) when they ran; the
// summary has one line per trained model. Throws Failure when a model cannot be set up.
Report run(const Options& o);

// `tinyloop reproduce icar ARGS` (the words after "icar", command.cpp): its flags and --help, the
// training progress on stderr, then the report written to --out. Returns the exit code; throws
// cli::CliError (tools/args) on a usage or runtime error, and Failure when the study fails (the
// tinyloop command prints both as one error line). Built in every build: where the target has no
// BLAS/LAPACK (no run() above), it answers --help and refuses the rest with a runtime error.
int run_command(const std::vector<std::string>& args);

}  // namespace tinyloop::study::icar
