#pragma once
// Finished runs read back from disk (DIR/model.tlc, DIR/eval.json, DIR/train_log.csv) and the
// report built from them: shared by `tinyloop merge` and `tinyloop reproduce`.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tinyloop/config.hpp"
#include "train_log.hpp"

namespace tinyloop::cli {

struct LengthAccuracy {
  int len = 0;
  double token = 0, sequence = 0;
  std::vector<double> per_loop;  // may be empty
};

struct RunResult {
  std::string dir;    // the run's output directory
  std::string group;  // recipe label: the parent folder's name for ".../NAME/seed<S>", else the folder's
  TrainConfig cfg;
  bool have_cfg = false;
  std::int64_t step = 0;
  int samples = 0;
  std::vector<LengthAccuracy> lengths;
  std::vector<LogRow> log;
  // accuracy at `len`; NaN when not evaluated
  double token_at(int len) const;
  // share of sequences with every target right at `len`; NaN when not evaluated
  double sequence_at(int len) const;
};

// Every run under each of `roots` (any folder holding an eval.json), sorted by path. A bad
// eval.json is a runtime error naming the file.
std::vector<RunResult> collect_runs(const std::vector<std::string>& roots);
RunResult read_run(const std::string& dir, const std::string& group);

// train_log.csv rows of a run planned to `step` (empty when missing or not a regular file); a
// file over max_train_log_bytes(step) is a runtime error naming the limit. read_run reads it
// only beside a checkpoint, whose step and plan bound it.
std::vector<LogRow> read_train_log(const std::string& path, std::int64_t step);

struct GroupSummary {
  std::string group, flags;
  std::vector<std::uint64_t> seeds;
  std::int64_t steps = 0;
  std::vector<int> lengths;
  std::vector<double> mean, min, max;  // per length, token accuracy
  double seq_mean = NAN, seq_min = NAN, seq_max = NAN;  // fully correct sequences at target_len
  int success = 0;                     // runs with accuracy >= target at target_len
  int runs = 0;
};
std::vector<GroupSummary> summarize(const std::vector<RunResult>& runs, double target, int target_len);

// Markdown table: recipe | flags | seeds | steps | n=.. mean (min-max) | sequences all right at
// target_len | success. Accuracies above 99% get two decimals.
std::string summary_markdown(const std::vector<GroupSummary>& g, double target, int target_len);
// CSV: group,seed,steps,len,token_accuracy,sequence_accuracy,dir (one row per run and length)
std::string runs_csv(const std::vector<RunResult>& runs);
// CSV: group,len,mean,min,max,runs,success
std::string summary_csv(const std::vector<GroupSummary>& g);

}  // namespace tinyloop::cli
