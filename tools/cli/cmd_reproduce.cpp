// tinyloop reproduce induction: N seeds of a recipe and of its twin (CE-only, or with the
// energy-entropy terms), the length table of each, and a report folder with Markdown, CSVs and
// SVG pictures.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "commands.hpp"
#include "evaluation.hpp"
#include "model_io.hpp"
#include "progress.hpp"
#include "recipes.hpp"
#include "reproduce_family.hpp"  // reproduce icar / retrieval
#include "report.hpp"
#include "results.hpp"
#include "svg.hpp"
#include "sweep.hpp"
#include "tinyloop/induction.hpp"
#include "tinyloop/platform/posix.hpp"
#include "train_options.hpp"

namespace tinyloop::cli {

namespace fs = std::filesystem;

namespace {

std::string f4(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4f", v);
  return b;
}
std::string pct1(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", 100.0 * v);
  return b;
}

// Loop list clipped to 1..loops, in order, without repeats.
std::vector<int> clip_loops(const std::vector<int>& want, int loops) {
  std::vector<int> out;
  for (int t : want)
    if (t >= 1 && t <= loops && std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  if (out.empty()) out.push_back(loops);
  return out;
}

struct Sequence {
  std::vector<std::int32_t> tokens, targets;
  std::vector<int> recent;  // most recent earlier j with x_j == x_i, -1 if none
};

// Sample `index` of the evaluation set at length n: Rng(seed, stream n) as evaluate_induction.
Sequence eval_sequence(const TrainConfig& cfg, int n, int index, std::uint64_t seed) {
  Sequence s;
  s.tokens.resize(n);
  s.targets.resize(n);
  std::vector<std::int32_t> prev(n), last(cfg.task.alphabet);
  Rng rng(seed, std::uint64_t(n));
  for (int k = 0; k <= index; ++k) induction_sample(rng, cfg.task.alphabet, s.tokens.data(), n);
  induction_targets(s.tokens.data(), n, cfg.task.alphabet, cfg.task.hops, s.targets.data(), last.data(), prev.data());
  s.recent.assign(n, -1);
  std::vector<int> seen(cfg.task.alphabet, -1);
  for (int i = 0; i < n; ++i) {
    s.recent[i] = seen[s.tokens[i]];
    seen[s.tokens[i]] = i;
  }
  return s;
}

// Attention mass of loop t on: the previous token, itself, the most recent earlier copy of
// x_i, the token after it (where the answer is), and every position after any earlier copy;
// means over query positions with a target. Also the per-loop readout accuracy.
struct MechanismRow {
  int len = 0, loop = 0;
  double prev = 0, self = 0, copy = 0, answer = 0, all_answers = 0, readout = 0;
  double peak = 0;  // largest weight of the row: how sharp the attention is
};

std::vector<MechanismRow> mechanism(const TrainConfig& cfg, const std::vector<float>& params, int n, int samples,
                                    std::vector<float>* first_attention) {
  const int L = cfg.model.loops;
  InferenceSession session(cfg.model, n, params.data(), params.size());
  std::vector<float> att(std::size_t(L) * n * n);
  std::vector<std::int32_t> per_loop(std::size_t(L) * n);
  std::vector<MechanismRow> rows(L);
  std::vector<double> count(L, 0.0);
  for (int k = 0; k < samples; ++k) {
    Sequence s = eval_sequence(cfg, n, k, kDefaultEvalSeed);
    InferOutputs out;
    out.attention = att.data();
    out.attention_loop = 0;
    out.per_loop_predictions = per_loop.data();
    Status st = session.engine().run(s.tokens.data(), n, out);
    if (!st) runtime_error(std::string("attention readout failed: ") + st.message());
    if (k == 0 && first_attention) *first_attention = att;
    for (int t = 0; t < L; ++t) {
      const float* P = att.data() + std::size_t(t) * n * n;
      MechanismRow& r = rows[t];
      for (int i = 1; i < n; ++i) {
        if (s.targets[i] == cfg.task.alphabet) continue;  // NONE
        const float* row = P + std::size_t(i) * n;
        r.peak += *std::max_element(row, row + i + 1);
        r.prev += row[i - 1];
        r.self += row[i];
        const int j = s.recent[i];
        if (j >= 0) {
          r.copy += row[j];
          r.answer += row[j + 1];
        }
        double all = 0;
        for (int m = 1; m < i; ++m)
          if (s.tokens[m - 1] == s.tokens[i]) all += row[m];
        r.all_answers += all;
        r.readout += per_loop[std::size_t(t) * n + i] == s.targets[i] ? 1.0 : 0.0;
        count[t] += 1;
      }
    }
  }
  for (int t = 0; t < L; ++t) {
    MechanismRow& r = rows[t];
    const double c = std::max(count[t], 1.0);
    r.len = n;
    r.loop = t + 1;
    r.prev /= c; r.self /= c; r.copy /= c; r.answer /= c; r.all_answers /= c; r.readout /= c; r.peak /= c;
  }
  return rows;
}

struct Group {
  std::string name, flags;  // flags on top of --preset
  bool twin = false;  // the comparison run (dashed in the figures)
};

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

int run_reproduce(const Args& args) {
  if (!args.empty() && args[0] == "icar") return run_reproduce_icar(Args(args.begin() + 1, args.end()));
  if (!args.empty() && args[0] == "retrieval") return run_reproduce_retrieval(Args(args.begin() + 1, args.end()));
  // Everything after "--" is passed on to every `tinyloop train` run.
  Args own(args.begin(), std::find(args.begin(), args.end(), std::string("--")));
  std::vector<std::string> extra_flags(own.size() < args.size() ? args.begin() + own.size() + 1 : args.end(),
                                       args.end());
  Args rest;
  std::vector<std::string> pos = split_positionals(reproduce_spec(), own, &rest);
  ParsedArgs a = ParsedArgs::parse(reproduce_spec(), rest);
  if (a.help_requested()) {
    std::fputs(format_help(reproduce_spec()).c_str(), stdout);
    return kExitOk;
  }
  if (pos.size() != 1 || pos[0] != "induction")
    usage_error("reproduce needs the task: 'tinyloop reproduce induction [options]'");
  const std::string recipe = a.get_choice("--recipe", default_recipe(), recipe_names());
  const int seeds = int(a.get_int("--seeds", 5, 1, 1000));
  const int first_seed = int(a.get_int("--first-seed", 1, 0, 1 << 30));
  const TrainConfig base = find_recipe(recipe)->make();
  const std::int64_t steps = a.get_int("--steps", base.steps, 1, kMaxSteps);
  const int hw = std::max(platform::hardware_threads(), 1);
  const int threads = int(a.get_int("--threads", hw, 1, kMaxThreads));
  const std::string out = a.get_string("--out", "runs/reproduce-" + recipe);
  std::string extra;
  for (const std::string& f : extra_flags) extra += (extra.empty() ? "" : " ") + f;
  const int eval_samples = int(a.get_int("--eval-samples", kDefaultEvalSamples, 1, 1000000));
  const double target = a.get_float("--target", 0.95f, 0.0, 1.0);
  const int curve_points = int(a.get_int("--curve-points", 8, 0, 1000));
  const int curve_samples = int(a.get_int("--curve-samples", 32, 1, 1000000));
  const int att_len = int(a.get_int("--attention-len", 32, 2, 4096));
  const std::vector<int> att_loops_want = a.get_int_list("--attention-loops", {1, 2, 3, 4, 6, 10, 25}, 1, kMaxLoopsFlag);
  const int mech_samples = int(a.get_int("--mechanism-samples", 16, 1, 100000));
  const bool quiet = a.has("--quiet");
  Progress progress(!quiet);

  std::vector<Group> groups = {{recipe, "", false}};
  const Twin twin = twin_of(base);
  if (!a.has("--no-twin")) groups.push_back({recipe + twin.suffix, twin.flags, true});

  Status made = platform::make_directories((out + "/runs").c_str());
  if (!made) runtime_error("--out: " + std::string(made.message()));
  const std::string bin = "tinyloop";  // as the commands are shown in the report
  std::vector<std::string> commands;

  // ---- training: one in-process `tinyloop train` per run ----
  RunClock clock(int(groups.size()) * seeds);
  for (const Group& g : groups) {
    for (int k = 0; k < seeds; ++k) {
      const int seed = first_seed + k;
      const std::string dir = out + "/runs/" + g.name + "/seed" + std::to_string(seed);
      std::vector<std::string> t = {"--preset", recipe};
      std::vector<std::string> more;
      for (const std::string* src : {&g.flags, static_cast<const std::string*>(&extra)}) {
        std::string w;
        for (char c : *src + " ") {
          if (c == ' ') { if (!w.empty()) t.push_back(w); w.clear(); }
          else w += c;
        }
      }
      t.insert(t.end(), {"--steps", std::to_string(steps), "--seed", std::to_string(seed), "--threads",
                         std::to_string(threads), "--eval-samples", std::to_string(eval_samples), "--out", dir,
                         "--overwrite"});
      if (k == 0 && curve_points > 0) {
        const std::int64_t every = std::max<std::int64_t>(1, steps / curve_points);
        t.insert(t.end(), {"--save-every", std::to_string(every), "--keep-checkpoints"});
      } else {
        t.insert(t.end(), {"--save-every", "0"});
      }
      commands.push_back(command_line(bin, "train", t));
      if (fs::exists(dir + "/eval.json") && fs::exists(dir + "/model.tlc")) {
        std::fprintf(stderr, "reproduce: kept %s (eval.json exists)\n", dir.c_str());
        clock.kept();
        continue;
      }
      const std::string position = clock.next();
      if (quiet) t.push_back("--quiet");
      else std::fprintf(stderr, "reproduce: %s: %s seed %d -> %s\n", position.c_str(), g.name.c_str(), seed, dir.c_str());
      const int rc = run_train(t);
      if (rc != kExitOk) return rc;
      clock.trained();
    }
  }

  // ---- accuracy over training (first seed, saved checkpoints) ----
  std::string curve_csv = "group,seed,step,len,token_accuracy\n";
  struct CurvePoint { std::string group; std::int64_t step; int len; double acc; };
  std::vector<CurvePoint> curve;
  if (curve_points > 0) {
    for (const Group& g : groups) {
      const std::string dir = out + "/runs/" + g.name + "/seed" + std::to_string(first_seed);
      const std::string cache = dir + "/eval_curve.csv";
      std::vector<CurvePoint> pts;
      if (fs::exists(cache)) {
        std::FILE* f = std::fopen(cache.c_str(), "r");
        char line[256];
        if (f) {
          std::fgets(line, sizeof line, f);
          long long st;
          int len;
          double acc;
          while (std::fscanf(f, "%lld,%d,%lf\n", &st, &len, &acc) == 3) pts.push_back({g.name, st, len, acc});
          std::fclose(f);
        }
      } else {
        std::vector<std::pair<std::int64_t, std::string>> cks;
        for (auto& e : fs::directory_iterator(dir)) {
          std::string n = e.path().filename().string();
          if (n.rfind("model-step", 0) == 0 && n.size() > 14)
            cks.push_back({std::atoll(n.c_str() + 10), e.path().string()});
        }
        std::sort(cks.begin(), cks.end());
        std::string text = "step,len,token_accuracy\n";
        for (auto& c : cks) {
          LoadedCheckpoint ck = load_checkpoint(c.second);
          EvalOptions eo;
          eo.lengths = {64, 1000};
          eo.samples = curve_samples;
          std::vector<LengthResult> r =
              run_length_eval(ck.header.config, ck.params.data(), ck.params.size(), eo, {}, {}, &progress);
          for (const LengthResult& x : r) {
            pts.push_back({g.name, c.first, x.result.len, x.result.token_accuracy});
            text += std::to_string(c.first) + "," + std::to_string(x.result.len) + "," +
                    format_g9(x.result.token_accuracy) + "\n";
          }
          progress.show("reproduce: accuracy curve " + g.name + " step " + std::to_string(c.first), true);
        }
        write_text_atomic(cache, text, "accuracy curve");
      }
      for (const CurvePoint& p : pts) {
        curve.push_back(p);
        curve_csv += p.group + "," + std::to_string(first_seed) + "," + std::to_string(p.step) + "," +
                     std::to_string(p.len) + "," + format_g9(p.acc) + "\n";
      }
    }
  }
  progress.finish(true);

  // ---- the table ----
  std::vector<RunResult> runs;
  for (const Group& g : groups)
    for (int k = 0; k < seeds; ++k)
      runs.push_back(read_run(out + "/runs/" + g.name + "/seed" + std::to_string(first_seed + k), g.name));
  std::vector<GroupSummary> summary = summarize(runs, target, 1000);
  write_text_atomic(out + "/results.csv", runs_csv(runs), "results CSV");
  write_text_atomic(out + "/summary.csv", summary_csv(summary), "summary CSV");
  write_text_atomic(out + "/accuracy_curve.csv", curve_csv, "accuracy curve CSV");

  // Loss curves of every run.
  std::string loss_csv = "group,seed,step,ce,potential,kinetic,tsallis,entropy,total,acc,len\n";
  for (const RunResult& r : runs)
    for (const LogRow& l : r.log)
      loss_csv += r.group + "," + std::to_string(r.cfg.seed) + "," + std::to_string(l.step) + "," + format_g9(l.ce) +
                  "," + format_g9(l.potential) + "," + format_g9(l.kinetic) + "," + format_g9(l.tsallis) + "," +
                  format_g9(l.entropy) + "," + format_g9(l.total) + "," + format_g9(l.acc) + "," +
                  std::to_string(l.len) + "\n";
  write_text_atomic(out + "/loss_curves.csv", loss_csv, "loss curves CSV");

  // Per-loop readout.
  std::string per_loop_csv = "group,seed,len,loop,token_accuracy\n";
  for (const RunResult& r : runs)
    for (const LengthAccuracy& l : r.lengths)
      for (std::size_t t = 0; t < l.per_loop.size(); ++t)
        per_loop_csv += r.group + "," + std::to_string(r.cfg.seed) + "," + std::to_string(l.len) + "," +
                        std::to_string(t + 1) + "," + format_g9(l.per_loop[t]) + "\n";
  write_text_atomic(out + "/per_loop.csv", per_loop_csv, "per-loop CSV");

  // ---- figures ----
  auto color_of = [&](const std::string& group) { return group == groups[0].name ? svg::palette(0) : svg::palette(1); };
  {
    svg::Figure fig("Training of " + recipe + " (solid) and " + recipe + twin.suffix + " (dashed), seeds " +
                        std::to_string(first_seed) + ".." + std::to_string(first_seed + seeds - 1),
                    3, 400, 270);
    struct Term { const char* title; double LogRow::*field; bool log; };
    const Term terms[] = {{"cross-entropy", &LogRow::ce, false},        {"kinetic K", &LogRow::kinetic, true},
                          {"potential U", &LogRow::potential, false},   {"Tsallis entropy S_q", &LogRow::tsallis, false},
                          {"training-batch accuracy", &LogRow::acc, false}};
    for (const Term& term : terms) {
      svg::LineChart c;
      c.title = term.title;
      c.x_label = "step";
      c.log_y = term.log;
      for (const RunResult& r : runs) {
        svg::Series s;
        s.label = r.group;
        s.color = color_of(r.group);
        s.dashed = r.group != groups[0].name;
        for (const LogRow& l : r.log) {
          s.x.push_back(double(l.step));
          s.y.push_back(l.*(term.field));
        }
        c.series.push_back(s);
      }
      fig.add(c);
    }
    svg::LineChart c;
    c.title = "token accuracy, seed " + std::to_string(first_seed);
    c.x_label = "step";
    c.y_min = 0;
    c.y_max = 1;
    for (const Group& g : groups)
      for (int len : {64, 1000}) {
        svg::Series s;
        s.label = g.name + " n=" + std::to_string(len);
        s.color = svg::palette((len == 1000 ? 2 : 0) + (g.twin ? 1 : 0));  // n = 64 keeps its group's colour
        s.dashed = g.twin;
        for (const CurvePoint& p : curve)
          if (p.group == g.name && p.len == len) {
            s.x.push_back(double(p.step));
            s.y.push_back(p.acc);
          }
        c.series.push_back(s);
      }
    fig.add(c);
    write_text_atomic(out + "/curves.svg", fig.render(), "curves.svg");
  }
  {
    svg::Figure fig("Readout applied after each loop, n = 1000 (" + std::to_string(eval_samples) + " sequences)", 1,
                    640, 360);
    svg::LineChart c;
    c.title = "per-loop token accuracy at n=1000";
    c.x_label = "loop t";
    c.y_label = "token accuracy";
    c.y_min = 0;
    c.y_max = 1;
    for (const RunResult& r : runs)
      for (const LengthAccuracy& l : r.lengths) {
        if (l.len != 1000) continue;
        svg::Series s;
        s.label = r.group;
        s.color = color_of(r.group);
        s.dashed = r.group != groups[0].name;
        for (std::size_t t = 0; t < l.per_loop.size(); ++t) {
          s.x.push_back(double(t + 1));
          s.y.push_back(l.per_loop[t]);
        }
        c.series.push_back(s);
      }
    fig.add(c);
    write_text_atomic(out + "/per_loop.svg", fig.render(), "per_loop.svg");
  }

  // Attention of one sequence and the mechanism statistics, first seed of each recipe.
  std::string mech_csv = "group,len,loop,prev,self,copy,answer,all_answers,peak,readout_accuracy\n";
  std::string mech_md;
  std::string att_csv = "group,loop,query,key,p\n";
  for (const Group& g : groups) {
    const RunResult& r = runs[std::size_t(&g - groups.data()) * std::size_t(seeds)];
    if (!r.have_cfg) continue;
    LoadedCheckpoint ck = load_checkpoint(r.dir + "/model.tlc");
    const TrainConfig& cfg = ck.header.config;
    const int L = cfg.model.loops;
    std::vector<float> first;
    mechanism(cfg, ck.params, att_len, 1, &first);
    const Sequence s = eval_sequence(cfg, att_len, 0, kDefaultEvalSeed);
    std::vector<int> loops = clip_loops(att_loops_want, L);
    if (!a.has("--attention-loops")) {
      loops.clear();
      for (int t = 1; t <= L; ++t)
        if (L <= 8 || t == L || std::find(att_loops_want.begin(), att_loops_want.end(), t) != att_loops_want.end())
          loops.push_back(t);
    }
    svg::Figure fig(g.name + " seed " + std::to_string(cfg.seed) + ": attention of one n=" + std::to_string(att_len) +
                        " sequence (evaluation seed 1234); row i = query, labels = tokens",
                    4, 300, 320);
    for (int t : loops) {
      svg::HeatMap m;
      m.rows = m.cols = att_len;
      m.values.assign(first.begin() + std::size_t(t - 1) * att_len * att_len,
                      first.begin() + std::size_t(t) * att_len * att_len);
      m.vmax = std::max(1e-6, double(*std::max_element(m.values.begin(), m.values.end())));
      char title[64];
      std::snprintf(title, sizeof title, "loop %d (white 0, dark %.2f)", t, m.vmax);
      m.title = title;
      for (int i = 0; i < att_len; ++i) {
        m.row_labels.push_back(std::to_string(s.tokens[i]));
        m.col_labels.push_back(std::to_string(s.tokens[i]));
      }
      fig.add(m);
    }
    write_text_atomic(out + "/attention-" + g.name + ".svg", fig.render(), "attention picture");
    for (int t = 1; t <= L; ++t)
      for (int i = 0; i < att_len; ++i)
        for (int j = 0; j <= i; ++j)
          att_csv += g.name + "," + std::to_string(t) + "," + std::to_string(i) + "," + std::to_string(j) + "," +
                     format_g9(first[(std::size_t(t - 1) * att_len + i) * att_len + j]) + "\n";
    for (int n : {64, 1000}) {
      std::vector<MechanismRow> rows = mechanism(cfg, ck.params, n, n == 64 ? mech_samples : 2, nullptr);
      if (n == 64) {
        mech_md += "\n**" + g.name + "** (seed " + std::to_string(cfg.seed) + ", n = 64, " +
                   std::to_string(mech_samples) + " sequences): mean attention mass per loop\n\n"
                   "| loop | previous token | itself | last copy of x_i | token after it (answer) | after any copy | "
                   "largest weight | readout acc |\n"
                   "|---:|---:|---:|---:|---:|---:|---:|---:|\n";
      }
      for (const MechanismRow& m : rows) {
        mech_csv += g.name + "," + std::to_string(n) + "," + std::to_string(m.loop) + "," + format_g9(m.prev) + "," +
                    format_g9(m.self) + "," + format_g9(m.copy) + "," + format_g9(m.answer) + "," +
                    format_g9(m.all_answers) + "," + format_g9(m.peak) + "," + format_g9(m.readout) + "\n";
        if (n == 64)
          mech_md += "| " + std::to_string(m.loop) + " | " + f4(m.prev) + " | " + f4(m.self) + " | " + f4(m.copy) +
                     " | " + f4(m.answer) + " | " + f4(m.all_answers) + " | " + f4(m.peak) + " | " + pct1(m.readout) +
                     "% |\n";
      }
    }
  }
  write_text_atomic(out + "/attention.csv", att_csv, "attention CSV");
  write_text_atomic(out + "/mechanism.csv", mech_csv, "mechanism CSV");

  // ---- report.md ----
  std::string md = "# tinyloop reproduce induction: " + recipe + "\n\n";
  md += "Recipe `" + recipe + "` (" + find_recipe(recipe)->summary + ")" +
        (extra.empty() ? "" : " with `" + extra + "`") + ", " + std::to_string(steps) + " steps, seeds " +
        std::to_string(first_seed) + ".." + std::to_string(first_seed + seeds - 1) +
        (groups.size() > 1 ? ", and " + twin.description + " (`" + twin.flags + "`)" : "") +
        ". Token accuracy (%) on positions with a target, " + std::to_string(eval_samples) +
        " sequences per length, evaluation seed 1234; mean (min-max) over seeds.\n\n";
  md += summary_markdown(summary, target, 1000);
  md += "\nTarget: >= " + pct1(target) + "% token accuracy at n = 1000. ";
  for (const GroupSummary& s : summary)
    md += s.group + ": " + std::to_string(s.success) + " of " + std::to_string(s.runs) + " seeds. ";
  md += "\n\n## Figures\n\n- `curves.svg`: loss terms (CE, kinetic, potential, Tsallis) and training accuracy over "
        "training for every run; token accuracy at n = 64 and 1000 over training (seed " +
        std::to_string(first_seed) + ", " + std::to_string(curve_samples) +
        " sequences per point).\n- `per_loop.svg`: the readout applied after each loop, n = 1000.\n";
  for (const Group& g : groups)
    md += "- `attention-" + g.name + ".svg`: attention of one n = " + std::to_string(att_len) +
          " sequence at the chosen loops (seed " + std::to_string(first_seed) + ").\n";
  md += "\nData: `results.csv` (every run and length), `summary.csv`, `loss_curves.csv`, `accuracy_curve.csv`, "
        "`per_loop.csv`, `attention.csv`, `mechanism.csv` (attention mass per loop at n = 64 and 1000).\n\n"
        "## Mechanism\n\nMass of each loop's attention on the previous token, on the query itself, on the most "
        "recent earlier copy of x_i, on the token after that copy (the position that holds the answer), and on "
        "the tokens after any earlier copy; largest weight = the row's largest attention weight (1: one-hot); "
        "readout = accuracy of the readout applied after that loop.\n";
  md += mech_md;
  std::string slopes;
  for (const RunResult& r : runs) {
    if (!r.have_cfg || !uses_alibi(r.cfg.model.positions)) continue;
    LoadedCheckpoint ck = load_checkpoint(r.dir + "/model.tlc");
    InferenceSession session(ck.header.config.model, 1, ck.params.data(), ck.params.size());
    char cell[64];
    std::snprintf(cell, sizeof cell, "| %s | %d | %.4f |\n", r.group.c_str(), int(r.cfg.seed),
                  double(session.engine().alibi_slope()));
    slopes += cell;
  }
  if (!slopes.empty())
    md += "\nLearned ALiBi slope m = softplus(rho) after training (scores lose m per token of distance; rho "
          "starts at --alibi-rho):\n\n| run | seed | slope |\n|---|---:|---:|\n" + slopes;
  md += "\n## Exact commands\n\nEquivalent to running, one after another:\n\n```sh\n";
  for (const std::string& c : commands) md += c + "\n";
  md += "```\n";
  write_text_atomic(out + "/report.md", md, "report");
  std::printf("%s\nwrote %s/report.md, curves.svg, per_loop.svg, attention-*.svg and CSVs\n",
              summary_markdown(summary, target, 1000).c_str(), out.c_str());
  return kExitOk;
}

}  // namespace tinyloop::cli
