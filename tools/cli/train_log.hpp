#pragma once
// Training progress: interval means of the step statistics, the progress line and
// train_log.csv. Only a progress line being shown and the CSV text allocate.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "progress.hpp"
#include "tinyloop/status.hpp"
#include "tinyloop/trainer.hpp"

namespace tinyloop::cli {

struct LogRow {
  std::int64_t step = 0;  // steps completed
  double ce = 0, potential = 0, kinetic = 0, tsallis = 0, entropy = 0, total = 0;
  double grad_norm = 0, lr = 0, acc = 0;
  int len = 0;  // the curriculum's longest length at this step
};

// Means over the steps of one interval; skipped steps (non-finite loss or gradient) are
// counted but left out of the means.
class StatsWindow {
 public:
  void add(const StepStats& s);
  std::int64_t steps() const { return steps_; }
  // lr and len are the latest values; the loss terms, gradient norm and accuracy are means
  // (NaN when every step of the interval was skipped).
  LogRow row(std::int64_t step, double lr, int len) const;
  void reset() { *this = StatsWindow(); }

 private:
  std::int64_t steps_ = 0;
  std::int64_t used_ = 0;
  LogRow sum_;
};

// Expected tokens x loops of the steps [from, to) of a run: batch x loops x the mean length the
// curriculum draws at each step, (min_len + longest) / 2. The lengths grow over the ramp, so
// steps are not equal work.
double expected_work(const TrainConfig& cfg, std::int64_t from, std::int64_t to);

// The progress line of a training run, through a Progress (progress.hpp):
// step 1200/20000  loss 0.8123  acc 0.71  len 40  4100 steps/s  ETA 4s  (ce 0.7 U 0.31 K 2.1 S 0.44)
// The loss terms come last, so a narrow terminal cuts them first; they are means over the steps
// since the last line. The rate is over the last half-minute; the ETA is the expected work left
// (expected_work) at the recent work rate.
class TrainProgress {
 public:
  TrainProgress(const TrainConfig& cfg, std::int64_t start, std::int64_t stop, bool enabled);
  // After each step: its statistics and the length of its batch.
  void add(const StepStats& s, int len);
  // Shows the line for `done` steps when it is due, or at once with `force`. `row` replaces the
  // means when no step was added since the last line.
  void report(std::int64_t done, double lr, int longest, std::int64_t skipped, const char* last_fault, bool force,
              const LogRow& row);
  Progress& display() { return display_; }

 private:
  const TrainConfig& cfg_;
  std::int64_t stop_;
  double work_ = 0;  // tokens x loops done in this invocation
  WorkRate steps_rate_, work_rate_;
  StatsWindow window_;
  Progress display_;
};

// Header: step,ce,potential,kinetic,tsallis,entropy,total,grad_norm,lr,acc,len
// `earlier` (a resumed run): the header and rows of the log so far, put in front of `rows`.
std::string train_log_csv(const std::vector<LogRow>& rows, const std::string& earlier = std::string());
const char* train_log_header();  // the header line, "\n" included

// The most the train_log.csv of a run at `step` can hold: the header and at most one row per
// step, each shorter than kMaxLogRowBytes (train_log_csv writes at most 176 characters a row).
constexpr std::size_t kMaxLogRowBytes = 256;
std::size_t max_train_log_bytes(std::int64_t step);

// The text of the train_log.csv at `path` of a run at `step`. Error::buffer_too_small, with a
// message naming the limit ("larger than the N bytes ..."), when it is longer than
// max_train_log_bytes(step).
Status read_train_log_file(const std::string& path, std::int64_t step, std::string* text);

// The part of an existing train_log.csv a run resumed at `step` continues: the header and
// every row up to `step` (later rows belong to a future the resumed run replaces). Empty
// when `text` is not a tinyloop training log.
std::string train_log_prefix(const std::string& text, std::int64_t step);

}  // namespace tinyloop::cli
