#pragma once
// The flags of `tinyloop train` and the options they produce (validated).
#include <cstdint>
#include <string>

#include "args.hpp"
#include "evaluation.hpp"
#include "tinyloop/config.hpp"

namespace tinyloop::cli {

constexpr std::int64_t kMaxSteps = std::int64_t(1) << 40;
constexpr int kMaxThreads = 1024;
constexpr int kMaxBatch = 1 << 16;
constexpr std::int64_t kDefaultLogEvery = 100;

struct TrainOptions {
  TrainConfig cfg;
  int threads = 1;
  std::string out;
  bool overwrite = false;
  EvalOptions eval;
  std::int64_t log_every = kDefaultLogEvery;
  bool explicit_log_every = false;
};

// preset_lam2026() changed by the flags, then validate(TrainConfig); usage errors otherwise.
TrainOptions parse_train_options(const ParsedArgs& a);

}  // namespace tinyloop::cli
