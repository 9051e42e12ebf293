#pragma once
// `tinyloop reproduce icar` and `tinyloop reproduce retrieval`: the studies that run
// on the model family (tinyloop/family.hpp). Reached from `tinyloop reproduce <study>`.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "args.hpp"

namespace tinyloop::cli {

struct IcarOptions {
  std::int64_t steps = 3000;
  int batch = 64;
  float lr = 0.01f;
  std::uint64_t seed = 1;
  int p = 4;
  int n = 50;
  int eval_sequences = 2048;
  int eval_batch = 64;
  std::uint64_t eval_seed = 1234;
  bool verbose = true;
  // (b) plain tokens, one linear multi-head layer with learned positions (commuting setting).
  std::int64_t plain_steps = 1500;
  int plain_heads = 4;
  float plain_lr = 0.01f;
  // (c) non-commuting setting, stacked softmax layers on augmented tokens.
  std::int64_t softmax_steps = 1000;
  int softmax_layers = 2;
  int softmax_heads = 2;
  int softmax_width = 16;
  float softmax_lr = 0.003f;
};

struct IcarReport {
  std::string markdown, csv, svg, summary;
  std::vector<std::pair<std::string, std::string>> files;  // further (name, text) files of (b) and (c)
};

// The whole study in memory (used by the command and by tests).
IcarReport reproduce_icar(const IcarOptions& o);

const CommandSpec& reproduce_icar_spec();
int run_reproduce_icar(const std::vector<std::string>& args);

// studies/retrieval (SPEC §4.2).
int run_reproduce_retrieval(const std::vector<std::string>& args);

}  // namespace tinyloop::cli
