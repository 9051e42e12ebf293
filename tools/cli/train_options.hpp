#pragma once
// The flags of `tinyloop train` and the options they produce (validated).
#include <cstdint>
#include <string>
#include <vector>

#include "args.hpp"
#include "evaluation.hpp"
#include "tinyloop/config.hpp"

namespace tinyloop::cli {

constexpr std::int64_t kMaxSteps = std::int64_t(1) << 40;
constexpr int kMaxThreads = 1024;
constexpr int kMaxBatch = 1 << 16;
constexpr int kMaxLoopsFlag = 10000;
constexpr int kMaxAlphabet = 65536;
constexpr std::int64_t kDefaultLogEvery = 100;
constexpr std::int64_t kDefaultSaveEvery = 1000;
constexpr std::int64_t kDefaultMaxSkipped = 100;

struct TrainOptions {
  TrainConfig cfg;
  int threads = 1;
  std::string out;
  bool overwrite = false;
  EvalOptions eval;
  bool no_eval = false;
  std::int64_t log_every = kDefaultLogEvery;
  bool explicit_log_every = false;
  bool quiet = false;  // no progress line
  // Step count at which this invocation stops (the plan's cfg.steps unless --stop-at).
  std::int64_t stop_at = 0;
  bool explicit_stop_at = false;
  std::int64_t save_every = kDefaultSaveEvery;  // 0: only the final save
  bool keep_checkpoints = false;                // also DIR/model-step<k>.tlc at every save
  std::int64_t max_skipped = kDefaultMaxSkipped;  // consecutive skipped steps before giving up; 0: never
  std::string resume;                           // checkpoint to continue from; empty for a fresh run
  std::vector<std::string> warnings;            // flags outside their plausible range, one line each
};

// Fresh run (`resumed` == nullptr): preset_lam2026() changed by the flags, then
// validate(TrainConfig); a flag outside its plausible range (listed in `train --help`) adds a
// warning. Resumed run: the checkpoint's configuration `resumed`, which no flag
// may change (a flag that repeats the stored value is accepted); the default --out is the
// checkpoint's directory. Usage errors otherwise.
TrainOptions parse_train_options(const ParsedArgs& a, const TrainConfig* resumed = nullptr);

// The CLI's own limits (the flags' ranges) applied to a configuration read from a file, so a
// hand-made checkpoint cannot ask for a plan no flag could. Empty when fine, else the problem.
std::string check_cli_limits(const TrainConfig& cfg);

// The `tinyloop train` flags that turn configuration `base` into `cfg` (seed included when it
// differs), e.g. "--lr 0.003 --warmup 100 --schedule cosine". Empty when they are equal.
std::string config_flags(const TrainConfig& cfg, const TrainConfig& base);

// "dir/model.tlc" -> "dir", "model.tlc" -> ".", "/model.tlc" -> "/".
std::string directory_of(const std::string& path);

}  // namespace tinyloop::cli
