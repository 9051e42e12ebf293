#pragma once
// The retrieval study (SPEC §4.2, arXiv 2411.12118): one cell (task size, model shape, curriculum
// on or off, seed) trained on the engine's model, with accuracy per depth on a fixed
// held-out set over training. Built on the engine's public API; its command, `tinyloop reproduce
// retrieval`, is run_command (command.cpp).
#include <cstdint>
#include <functional>
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
  Positions positions = Positions::learned;  // learned, none, rope or alibi (positions_label)
  std::uint64_t seed = 1;  // initialisation and training data
  std::int64_t steps = 3000;
  int batch = 32;
  float lr = 3e-3f;
  int eval_every = 100;
  int eval_instances = 256;
  std::uint64_t eval_seed = 1234;
  double stop_at = 0;  // > 0: stop once the query accuracy reaches it at an evaluation
  // A path stem: the cell keeps its progress in STEM.tlc and STEM.csv at every evaluation and
  // continues from them when they exist (retrieval/progress.hpp). Empty: none.
  std::string progress;
  std::int64_t interrupt_at = -1;  // >= 0: return after the evaluation at this step, as a stopped run would (tests)
};

// "learned", "no", "RoPE" or "ALiBi": the positions of a cell, as reports and saved tables name them.
inline const char* positions_label(Positions p) {
  switch (p) {
    case Positions::learned: return "learned";
    case Positions::rope: return "RoPE";
    case Positions::alibi: return "ALiBi";
    default: return "no";
  }
}

// What one attention head does on the held-out set, as mean attention weights. From each
// position that holds a variable to resolve (the right side of a statement (u, v) with v a
// variable, and the query), with (v, w) the statement that defines v at positions (j, j + 1):
//   match    P[i][j]      the defining statement's left side (the same token: a look-up)
//   retrieve P[i][j + 1]  what v is defined as (the value or variable one hop on)
//   own      P[i][i - 1]  its own statement's left side (the query: the '?')
struct HeadRole {
  double match = 0, retrieve = 0, own = 0;
};

// Accuracy on the held-out set: every chain of depth K, every statement and the query scored.
struct EvalPoint {
  std::int64_t step = 0;
  std::vector<double> depth;  // accuracy at the statements of depth h = 1..K (index h - 1)
  double query = 0;           // at the query (depth K)
  double train_loss = 0;      // mean training loss since the previous point
  std::vector<HeadRole> heads;  // layer-major: index layer * heads + head (softmax attention only)
};

// The attention of every layer and head on the first held-out instance, after training.
struct AttentionMaps {
  int len = 0;
  std::vector<std::string> tokens;  // "3" (a value), "x12" (a variable), "?"
  std::vector<std::vector<float>> maps;  // layer-major, len x len each
};

struct CellResult {
  CellOptions options;
  std::vector<EvalPoint> curve;
  AttentionMaps attention;
  double seconds = 0;
  long params = 0;
  std::string checkpoint;  // the trained model with its AdamW state (format version 4), as bytes
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

// report.md, accuracy.csv and accuracy.svg of runs that share a task size (curriculum on/off),
// and each run's trained model (model-curriculum-on.tlc, ...); `command` is the command line
// shown in report.md.
Report make_report(const std::vector<CellResult>& runs, const std::string& command);

// The study: `base` trained with the curriculum on and/or off, the cells in parallel (one
// thread each), and their report.
struct Options {
  CellOptions base;
  bool curriculum_on = true, curriculum_off = true;
  bool quiet = false;   // no progress lines
  std::string command;  // shown in report.md
  // A path stem: each cell keeps its progress at cell_progress(progress, on) and continues from
  // it (CellOptions::progress). Empty: none.
  std::string progress;
};
Report run(const Options& o);
// The progress stem of a run's curriculum-on or -off cell: STEM-curriculum-on or -off.
std::string cell_progress(const std::string& stem, bool curriculum_on);

// One trained cell of the table.
struct TableCell {
  int K = 0;
  bool looped = false;
  int layers = 0;
  std::uint64_t seed = 0;
  double query = 0;            // query accuracy at the last evaluation
  std::int64_t reached = -1;   // first evaluated step at the level, -1: never
  std::int64_t steps = 0;      // steps trained (early stop included)
  double seconds = 0;
  long params = 0;
};

// The layers-vs-K table (issue: the smallest number of layers that reaches `level` at the query,
// against log2 K). For every K, seed and model kind (stacked layers; the looped block with loops
// in place of layers) a search trains cells of 1, 2, ... max_layers layers, each stopped early at
// the level, and stops at the first that reaches it. The searches run in parallel, one thread
// each; a search is the unit to dispatch elsewhere (one --Ks, --seeds-from and --kinds each).
struct TableOptions {
  CellOptions base;             // task sizes, width, heads, steps, lr...; curriculum on
  std::vector<int> Ks = {2, 4, 8, 16};
  int max_layers = 6;
  std::vector<std::uint64_t> seeds = {1, 2};
  bool stacked = true, looped = true;
  double level = 0.95;
  int threads = 0;  // 0: the hardware threads
  bool quiet = false;
  std::string command;
  // Resuming: cells an earlier run with the same settings finished, which are not trained again.
  std::vector<TableCell> done;
  // Called as each cell is finished or taken from `done`, one call at a time (from the searches'
  // threads): where a caller saves the cells so far.
  std::function<void(const TableCell&)> on_cell;
  // A folder (existing) where each cell in training keeps its progress (CellOptions::progress,
  // PROGRESS_DIR/K8-stacked-L3-seed1), removed once on_cell has the cell. Empty: none.
  std::string progress_dir;
};

Report run_table(const TableOptions& o);
// The table's cell for a cell trained with options `o` and evaluated along `curve`: the curve
// up to its first evaluation at `level`, where a search's cell stops, or all of it when none
// reaches the level. A longer run of the same cell (without the stop) gives the same cell.
TableCell table_cell(const CellOptions& o, const std::vector<EvalPoint>& curve, double level, double seconds,
                     long params);

// A single-cell run's report folder read back (what make_report wrote): the arguments of its
// command (the words after "tinyloop reproduce retrieval"), its curriculum-on cell's training
// seconds and parameters, and that cell's curve from accuracy.csv (step and query; the query
// recovered exactly as a count of `eval_instances`). Throws Failure naming what is missing or
// malformed; the curve's model columns must be those of `o` (the options its command gives).
struct RunRecord {
  std::vector<std::string> args;
  double seconds = 0;
  long params = 0;
};
RunRecord read_run_report(const std::string& report_md);
std::vector<EvalPoint> read_run_curve(const std::string& accuracy_csv, const CellOptions& o);
// table.md, table.csv of cells (from one run, or merged from several table.csv files).
// A search that reached no level reads ">N", N being the most layers that search tried.
Report table_report(const std::vector<TableCell>& cells, double level, const std::string& command);
// Adds `more` to `cells`, one cell per K, kind, layers and seed: a cell already there with the
// same result is skipped (a resumed run's table.csv repeats the cells it did not train again), one
// with another result is a Failure naming the cell.
void add_cells(std::vector<TableCell>* cells, const std::vector<TableCell>& more);
// The cells as table.csv holds them (one line each, after a header).
std::string table_csv(const std::vector<TableCell>& cells);
// Parses a table.csv written by table_report; throws Failure with the line on a malformed one.
std::vector<TableCell> read_table_csv(const std::string& text);

// `tinyloop reproduce retrieval ARGS` (the words after "retrieval"): its flags and --help, then the
// curves, the table (or the commands of its searches) or a merge of searches, written to --out.
// Returns the exit code; throws cli::CliError (tools/args) on a usage or runtime error, and Failure
// when the study fails (the tinyloop command prints both as one error line).
int run_command(const std::vector<std::string>& args);

// The layers-vs-K table's searches, one argument list of `tinyloop reproduce` each ("retrieval",
// the table's flags, then the search's --Ks, --seeds, --kinds, --threads 1 and its own --out
// folder under the table's), from the table's flags (--table is implied): what --print-commands
// prints and what a `reproduce retrieval` line of a sweep spec expands into. Bad flags throw
// cli::CliError, as run_command does.
std::vector<std::vector<std::string>> table_searches(const std::vector<std::string>& args);

}  // namespace tinyloop::study::retrieval
