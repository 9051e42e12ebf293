#pragma once
// Inside the induction study (not its interface): the groups and their runs, the accuracy curve,
// the figures and CSVs of the finished runs, and the attention mechanism per loop.
#include <string>
#include <vector>

#include "induction/induction.hpp"

namespace tinyloop::study::induction {

struct Group {
  std::string name, flags;  // flags on top of --preset
  bool twin = false;        // the comparison run (dashed in the figures)
};
std::vector<Group> groups_of(const Options& o);
std::vector<TrainingRun> plan(const Options& o, const std::vector<Group>& groups);
std::string run_dir(const Options& o, const std::string& group, int seed);

// Token accuracy at n = 64 and 1000 over training, from the first seed's saved checkpoints
// (cached in each run's eval_curve.csv).
struct CurvePoint {
  std::string group;
  std::int64_t step;
  int len;
  double acc;
};
std::vector<CurvePoint> accuracy_curve(const Options& o, const std::vector<Group>& groups, Lab& lab);
std::string curve_csv(const std::vector<CurvePoint>& curve, int seed);

// loss_curves.csv, per_loop.csv, curves.svg and per_loop.svg.
std::vector<File> run_figures(const Options& o, const std::vector<Group>& groups, const std::vector<Run>& runs,
                              const std::vector<CurvePoint>& curve);

// attention-<group>.svg, attention.csv, mechanism.csv and the mechanism tables of report.md, from
// the first seed of each group.
struct Mechanism {
  std::vector<File> files;
  std::string markdown;
};
Mechanism mechanism(const Options& o, const std::vector<Group>& groups, const std::vector<Run>& runs, Lab& lab);

// The loaded model's ALiBi slope (0 for other position schemes).
double alibi_slope(const Weights& w);

}  // namespace tinyloop::study::induction
