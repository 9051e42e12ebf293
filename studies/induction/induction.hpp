#pragma once
// The induction study: N seeds of a recipe and of its twin, the length table of each, the attention
// mechanism per loop, and a report (Markdown, CSVs, SVG pictures) returned in memory.
//
// The training runs themselves are the product's (`tinyloop train`, its checkpoints, eval.json and
// train_log.csv): the study asks for them through a Lab, which its caller implements (the CLI,
// tools/cli/cmd_reproduce_induction.cpp), so the study links the engine and the platform only.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/text.hpp"
#include "tinyloop/config.hpp"

namespace tinyloop::study::induction {

struct Options {
  std::string recipe, recipe_summary;  // a --preset of train, and where it comes from
  TrainConfig base;                    // its configuration
  bool twin = true;                    // train the twin too
  std::string twin_suffix, twin_flags, twin_description;  // "-ce", its train flags, one phrase
  int seeds = 5, first_seed = 1;
  std::int64_t steps = 0;
  int threads = 1;                        // of each training run
  std::string out;                        // report folder; runs in out/runs/<group>/seed<S>
  std::vector<std::string> extra_flags;   // passed on to every training run
  int eval_samples = 256;                 // sequences per evaluation length
  double target = 0.95;                   // token accuracy at n = 1000 that counts as a success
  int curve_points = 8, curve_samples = 32;  // accuracy over training (first seed); 0 points: none
  int attention_len = 32;
  std::vector<int> attention_loops = {1, 2, 3, 4, 6, 10, 25};
  bool attention_loops_given = false;     // false: every loop up to 8 loops, else these and the last
  int mechanism_samples = 16;
  bool quiet = false;                     // no progress lines from the training runs
};

// One training run of the study: `tinyloop train` with `args`, writing into `dir`.
struct TrainingRun {
  std::string group, dir;
  int seed = 0;
  std::vector<std::string> args;
};

// A finished run as the product reads it back.
struct LossRow {
  std::int64_t step = 0;
  double ce = 0, potential = 0, kinetic = 0, tsallis = 0, entropy = 0, total = 0, acc = 0;
  int len = 0;
};
struct LengthRow {
  int len = 0;
  std::vector<double> per_loop;  // token accuracy of the readout after each loop (may be empty)
};
struct Run {
  std::string dir, group;
  bool have_cfg = false;  // model.tlc was read
  TrainConfig cfg;
  std::vector<LossRow> log;
  std::vector<LengthRow> lengths;
};
// The finished runs and the product's table of them (the `merge` table and CSVs).
struct GroupCount {
  std::string group;
  int success = 0, runs = 0;
};
struct Finished {
  std::vector<Run> runs;
  std::string table_markdown, runs_csv, summary_csv;
  std::vector<GroupCount> counts;
};
struct Weights {
  TrainConfig cfg;
  std::vector<float> params;
};

class Lab {
 public:
  virtual ~Lab() = default;
  // Trains, in order, each run whose folder holds no finished run yet, showing where it stands;
  // false when one did not finish (the Lab keeps its exit code).
  virtual bool train(const std::vector<TrainingRun>& runs) = 0;
  // The command line of one training run, as report.md shows it.
  virtual std::string command(const std::vector<std::string>& args) = 0;
  // The checkpoints a run saved on the way: (step, path), by step.
  virtual std::vector<std::pair<std::int64_t, std::string>> checkpoints(const std::string& dir) = 0;
  virtual Weights load(const std::string& checkpoint) = 0;
  // Token accuracy at each length on the fixed evaluation set (seed 1234).
  virtual std::vector<double> accuracy(const Weights& w, const std::vector<int>& lengths, int samples) = 0;
  // A progress line (shown at once), and the end of such lines.
  virtual void show(const std::string& line) = 0;
  virtual void shown() = 0;
  // The finished runs (dir, group) and their table; `target` at n = 1000 counts a success.
  virtual Finished read(const std::vector<std::pair<std::string, std::string>>& runs, double target) = 0;
};

// The study; nullopt when a training run did not finish. The report's summary is the table.
std::optional<Report> run(const Options& o, Lab& lab);

}  // namespace tinyloop::study::induction
