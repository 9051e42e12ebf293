#pragma once
// The retrieval study (SPEC §4.2, arXiv 2411.12118): one cell (task size, model shape, curriculum
// on or off, seed) trained on the engine's model, with accuracy per depth on a fixed
// held-out set over training. Built on the engine's public API; reached by
// `tinyloop reproduce retrieval`.
#include <cstdint>
#include <string>
#include <vector>

#include "common/text.hpp"
#include "tinyloop/model.hpp"
#include "tinyloop/retrieval.hpp"

namespace tinyloop::study::retrieval {

struct CellOptions {
  tinyloop::retrieval::RetrievalTask task;  // sizes and the curriculum switch of the training data
  int layers = 2;
  int heads = 2;
  int width = 32;
  bool looped = false;
  Positions positions = Positions::learned;
  std::uint64_t seed = 1;  // initialisation and training data
  std::int64_t steps = 3000;
  int batch = 32;
  float lr = 3e-3f;
  int eval_every = 100;
  int eval_instances = 256;
  std::uint64_t eval_seed = 1234;
};

// Accuracy on the held-out set: every chain of depth K, every statement and the query scored.
struct EvalPoint {
  std::int64_t step = 0;
  std::vector<double> depth;  // accuracy at the statements of depth h = 1..K (index h - 1)
  double query = 0;           // at the query (depth K)
  double train_loss = 0;      // mean training loss since the previous point
};

struct CellResult {
  CellOptions options;
  std::vector<EvalPoint> curve;
  double seconds = 0;
  long params = 0;
};

// Whether the cell's task and model can be built (the message names what is wrong).
Status validate(const CellOptions& o);

// The held-out task of a cell: the same sizes, every chain of depth K, every statement counted.
tinyloop::retrieval::RetrievalTask eval_task(const tinyloop::retrieval::RetrievalTask& train);

// Trains one cell; `label` names it in the progress lines on stderr (empty: silent). Throws
// Failure when the cell cannot be set up (validate() first).
CellResult train_cell(const CellOptions& o, const std::string& label);

// The first evaluated step at which accuracy reaches `level` (-1: never), per depth and at the query.
std::int64_t first_step_at(const CellResult& r, int depth, double level);  // depth 0: the query

// report.md, accuracy.csv and accuracy.svg of runs that share a task size (curriculum on/off);
// `command` is the command line shown in report.md.
Report make_report(const std::vector<CellResult>& runs, const std::string& command);

// The study: `base` trained with the curriculum on and/or off, the cells in parallel (one
// thread each), and their report.
struct Options {
  CellOptions base;
  bool curriculum_on = true, curriculum_off = true;
  bool quiet = false;   // no progress lines
  std::string command;  // shown in report.md
};
Report run(const Options& o);

}  // namespace tinyloop::study::retrieval
