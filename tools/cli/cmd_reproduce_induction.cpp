// `tinyloop reproduce induction`: flags -> the induction study's options (studies/induction), and
// its Lab: the study's training runs are `tinyloop train` in process, read back by the results
// table that `merge` builds.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "commands.hpp"
#include "evaluation.hpp"
#include "induction/induction.hpp"
#include "model_io.hpp"
#include "progress.hpp"
#include "recipes.hpp"
#include "results.hpp"
#include "sweep.hpp"
#include "tinyloop/platform/posix.hpp"
#include "train_options.hpp"

namespace tinyloop::cli {

namespace fs = std::filesystem;
namespace sd = tinyloop::study::induction;

namespace {

// The study's view of the product: training runs, checkpoints, length evaluation, results table.
class CliLab final : public sd::Lab {
 public:
  explicit CliLab(bool quiet) : quiet_(quiet), progress_(!quiet) {}
  int exit_code() const { return exit_code_; }

  bool train(const std::vector<sd::TrainingRun>& runs) override {
    RunClock clock(int(runs.size()));
    for (const sd::TrainingRun& r : runs) {
      if (fs::exists(r.dir + "/eval.json") && fs::exists(r.dir + "/model.tlc")) {
        std::fprintf(stderr, "reproduce: kept %s (eval.json exists)\n", r.dir.c_str());
        clock.kept();
        continue;
      }
      const std::string position = clock.next();
      std::vector<std::string> args = r.args;
      if (quiet_) args.push_back("--quiet");
      else std::fprintf(stderr, "reproduce: %s: %s seed %d -> %s\n", position.c_str(), r.group.c_str(), r.seed, r.dir.c_str());
      exit_code_ = run_train(args);
      if (exit_code_ != kExitOk) return false;
      clock.trained();
    }
    return true;
  }

  std::string command(const std::vector<std::string>& args) override { return command_line("tinyloop", "train", args); }

  std::vector<std::pair<std::int64_t, std::string>> checkpoints(const std::string& dir) override {
    std::vector<std::pair<std::int64_t, std::string>> cks;
    for (auto& e : fs::directory_iterator(dir)) {
      const std::string n = e.path().filename().string();
      if (n.rfind("model-step", 0) == 0 && n.size() > 14) cks.push_back({std::atoll(n.c_str() + 10), e.path().string()});
    }
    std::sort(cks.begin(), cks.end());
    return cks;
  }

  sd::Weights load(const std::string& checkpoint) override {
    LoadedCheckpoint ck = load_checkpoint(checkpoint);
    return {ck.header.config, std::move(ck.params)};
  }

  std::vector<double> accuracy(const sd::Weights& w, const std::vector<int>& lengths, int samples) override {
    EvalOptions eo;
    eo.lengths = lengths;
    eo.samples = samples;
    std::vector<double> acc;
    for (const LengthResult& x : run_length_eval(w.cfg, w.params.data(), w.params.size(), eo, {}, {}, &progress_))
      acc.push_back(x.result.token_accuracy);
    return acc;
  }

  void show(const std::string& line) override { progress_.show(line, true); }
  void shown() override { progress_.finish(true); }

  sd::Finished read(const std::vector<std::pair<std::string, std::string>>& dirs, double target) override {
    std::vector<RunResult> runs;
    for (const auto& d : dirs) runs.push_back(read_run(d.first, d.second));
    const std::vector<GroupSummary> summary = summarize(runs, target, 1000);
    sd::Finished f;
    f.table_markdown = summary_markdown(summary, target, 1000);
    f.runs_csv = runs_csv(runs);
    f.summary_csv = summary_csv(summary);
    for (const GroupSummary& s : summary) f.counts.push_back({s.group, s.success, s.runs});
    for (const RunResult& r : runs) f.runs.push_back(study_run(r));
    return f;
  }

 private:
  static sd::Run study_run(const RunResult& r) {
    sd::Run s;
    s.dir = r.dir;
    s.group = r.group;
    s.have_cfg = r.have_cfg;
    s.cfg = r.cfg;
    for (const LogRow& l : r.log)
      s.log.push_back({l.step, l.ce, l.potential, l.kinetic, l.tsallis, l.entropy, l.total, l.acc, l.len});
    for (const LengthAccuracy& l : r.lengths) s.lengths.push_back({l.len, l.per_loop});
    return s;
  }

  bool quiet_;
  Progress progress_;
  int exit_code_ = kExitOk;
};

sd::Options parse(const ParsedArgs& a, const std::vector<std::string>& extra_flags) {
  sd::Options o;
  o.recipe = a.get_choice("--recipe", default_recipe(), recipe_names());
  o.recipe_summary = find_recipe(o.recipe)->summary;
  o.base = find_recipe(o.recipe)->make();
  const Twin twin = twin_of(o.base);
  o.twin = !a.has("--no-twin");
  o.twin_suffix = twin.suffix;
  o.twin_flags = twin.flags;
  o.twin_description = twin.description;
  o.seeds = int(a.get_int("--seeds", 5, 1, 1000));
  o.first_seed = int(a.get_int("--first-seed", 1, 0, 1 << 30));
  o.steps = a.get_int("--steps", o.base.steps, 1, kMaxSteps);
  o.threads = int(a.get_int("--threads", std::max(platform::hardware_threads(), 1), 1, kMaxThreads));
  o.out = a.get_string("--out", "runs/reproduce-" + o.recipe);
  o.extra_flags = extra_flags;
  o.eval_samples = int(a.get_int("--eval-samples", kDefaultEvalSamples, 1, 1000000));
  o.target = a.get_float("--target", 0.95f, 0.0, 1.0);
  o.curve_points = int(a.get_int("--curve-points", 8, 0, 1000));
  o.curve_samples = int(a.get_int("--curve-samples", 32, 1, 1000000));
  o.attention_len = int(a.get_int("--attention-len", 32, 2, 4096));
  o.attention_loops = a.get_int_list("--attention-loops", o.attention_loops, 1, kMaxLoopsFlag);
  o.attention_loops_given = a.has("--attention-loops");
  o.mechanism_samples = int(a.get_int("--mechanism-samples", 16, 1, 100000));
  o.quiet = a.has("--quiet");
  return o;
}

}  // namespace

const CommandSpec& reproduce_spec() {
  static const CommandSpec spec{
      "reproduce",
      "tinyloop reproduce induction [options] [-- TRAIN FLAGS...]\n"
      "       tinyloop reproduce icar [options]   (in-context autoregressive learning; see 'reproduce icar --help')\n"
      "       tinyloop reproduce retrieval [--quick] [options]   (the retrieval problem; see 'reproduce retrieval --help')",
      "train N seeds of a recipe and its twin (CE-only, or energy-entropy for a CE-only recipe); write a "
      "report with tables and SVG pictures",
      {
          {"--recipe", "NAME", "the recipe (a --preset of train): tinyloop-alibi, lam2026 or tinyloop-induction "
                               "(default tinyloop-alibi)"},
          {"--seeds", "N", "seeds 1..N of each recipe (default 5)"},
          {"--first-seed", "S", "first seed (default 1)"},
          {"--steps", "N", "training steps of every run (default: the recipe's)"},
          {"--threads", "T", "threads of each training run (default: all cores)"},
          {"--out", "DIR", "report folder (default runs/reproduce-<recipe>)"},
          {"--eval-samples", "N", "sequences per evaluation length (default 256)"},
          {"--no-twin", nullptr, "skip the twin"},
          {"--target", "X", "token accuracy at n=1000 that counts as a success (default 0.95)"},
          {"--curve-points", "N", "checkpoints of the first seed evaluated at n=64 and n=1000 for the "
                                  "accuracy-over-training curve (default 8; 0: none)"},
          {"--curve-samples", "N", "sequences per length for that curve (default 32)"},
          {"--attention-len", "N", "length of the sequence drawn in attention.svg (default 32)"},
          {"--attention-loops", "T,T,...", "loops drawn in attention.svg (default: every loop up to 8 loops, "
                                           "else 1,2,3,4,6,10,25 and the last)"},
          {"--mechanism-samples", "N", "sequences (n=64) for the attention statistics (default 16)"},
          {"--quiet", nullptr, "no progress lines (each run's, and which run is next); errors are still printed"},
      },
      "Flags after '--' go to every training run of both recipes, e.g. '-- --loops 12 --lr 0.003'.\n"
      "The twin of a recipe with energy-entropy terms is its CE-only twin (<recipe>-ce, all lambdas 0);\n"
      "that of a CE-only recipe adds the paper's terms (<recipe>-ee: lambda-p 0.1, -k 0.001, -s 0.02).\n"
      "Runs go to DIR/runs/<recipe>/seed<S>/ and DIR/runs/<recipe>-ce/seed<S>/ (or -ee); a run whose\n"
      "eval.json exists is kept, so an interrupted reproduce continues where it stopped (delete a\n"
      "run folder to redo it). DIR/report.md holds the table (mean, min and max token accuracy per\n"
      "length and recipe, success count), the exact commands and the figures: curves.svg (loss\n"
      "terms and accuracy over training), per_loop.svg (readout after each loop at n=1000),\n"
      "attention.svg (one sequence, chosen loops), with CSVs of every number beside them."};
  return spec;
}

int run_reproduce_induction(const std::vector<std::string>& args) {
  // Everything after "--" is passed on to every `tinyloop train` run.
  Args own(args.begin(), std::find(args.begin(), args.end(), std::string("--")));
  const std::vector<std::string> extra(own.size() < args.size() ? args.begin() + own.size() + 1 : args.end(),
                                       args.end());
  Args rest;
  const std::vector<std::string> pos = split_positionals(reproduce_spec(), own, &rest);
  ParsedArgs a = ParsedArgs::parse(reproduce_spec(), rest);
  if (a.help_requested()) {
    std::fputs(format_help(reproduce_spec()).c_str(), stdout);
    return kExitOk;
  }
  if (pos.size() != 1 || pos[0] != "induction")
    usage_error("reproduce needs the task: 'tinyloop reproduce induction [options]'");
  const sd::Options o = parse(a, extra);
  const Status made = platform::make_directories((o.out + "/runs").c_str());
  if (!made) runtime_error("--out: " + std::string(made.message()));
  CliLab lab(o.quiet);
  const std::optional<study::Report> r = sd::run(o, lab);
  if (!r) return lab.exit_code();
  study::write_report(o.out, *r);
  std::printf("%s\nwrote %s/report.md, curves.svg, per_loop.svg, attention-*.svg and CSVs\n", r->summary.c_str(),
              o.out.c_str());
  return kExitOk;
}

}  // namespace tinyloop::cli
