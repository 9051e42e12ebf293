// tinyloop sweep: a sweep spec -> one `tinyloop train` command per run (for GNU parallel or a
// Slurm array); tinyloop merge: the report table from the runs' eval.json files.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "report.hpp"
#include "retrieval/retrieval.hpp"
#include "results.hpp"
#include "sweep.hpp"
#include "tinyloop/platform/posix.hpp"
#include "train_options.hpp"

namespace tinyloop::cli {

namespace {

// A sweep spec is written by hand (the largest in docs/sweeps has 3 KB) and expands into one
// command per run, so both are capped: a larger file is refused unread, and a spec whose grids
// and seeds multiply past kMaxSweepRuns is refused before the runs are built.
constexpr std::size_t kMaxSweepSpecBytes = std::size_t(1) << 20;
constexpr std::size_t kMaxSweepRuns = 10000;

void check_run_count(std::size_t a, std::size_t b, const std::string& where) {
  if (b != 0 && a > kMaxSweepRuns / b)
    usage_error(where + "expands into more than " + std::to_string(kMaxSweepRuns) + " runs, the most a sweep may have");
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> w;
  std::istringstream in(line);
  std::string x;
  while (in >> x) w.push_back(x);
  return w;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) { out.push_back(cur); cur.clear(); }
    else cur += c;
  }
  out.push_back(cur);
  return out;
}

// `common` without the flags `own` sets (with their values), then `own`: a run's flag wins.
std::vector<std::string> override_flags(const std::vector<std::string>& common, const std::vector<std::string>& own) {
  auto takes_value = [](const std::string& flag) {
    for (const FlagSpec& f : train_spec().flags)
      if (flag == f.name) return f.metavar != nullptr;
    return false;
  };
  auto name_of = [](const std::string& tok) { return tok.substr(0, tok.find('=')); };
  std::vector<std::string> set;
  for (const std::string& t : own)
    if (t.rfind("--", 0) == 0) set.push_back(name_of(t));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < common.size(); ++i) {
    const std::string& t = common[i];
    const bool flag = t.rfind("--", 0) == 0;
    const bool drop = flag && std::find(set.begin(), set.end(), name_of(t)) != set.end();
    const bool value_follows = flag && t.find('=') == std::string::npos && takes_value(t) && i + 1 < common.size();
    if (!drop) {
      out.push_back(t);
      if (value_follows) out.push_back(common[i + 1]);
    }
    if (value_follows) ++i;
  }
  out.insert(out.end(), own.begin(), own.end());
  return out;
}

}  // namespace

std::string self_executable() {
  const std::string self = platform::executable_path();
  return self.empty() ? "tinyloop" : self;
}

std::vector<std::string> split_positionals(const CommandSpec& spec, const Args& args, Args* rest) {
  std::vector<std::string> pos;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("-", 0) != 0) { pos.push_back(a); continue; }
    rest->push_back(a);
    if (a.find('=') != std::string::npos) continue;
    for (const FlagSpec& f : spec.flags)
      if (a == f.name && f.metavar && i + 1 < args.size()) {
        rest->push_back(args[++i]);
        break;
      }
  }
  return pos;
}

namespace {

// A run (or one combination of a grid) before its seeds are applied.
struct PendingRun {
  std::string name;
  std::vector<std::string> flags;
};

// What the lines of a spec say, before the runs are built.
struct SweepLines {
  std::string out = "runs/sweep";
  std::vector<std::string> seeds = {"1"}, common;
  std::vector<PendingRun> pending;
  std::vector<SweepRun> searches;  // from `reproduce` lines: a study table's searches
};

std::vector<std::string> parse_seeds(const std::vector<std::string>& rest, const std::string& at) {
  if (rest.size() != 1) usage_error(at + "'seeds' takes a comma-separated list, e.g. 'seeds 1,2,3'");
  std::vector<std::string> seeds = split(rest[0], ',');
  for (const std::string& s : seeds)
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
      usage_error(at + "seed '" + s + "' is not a non-negative integer");
  return seeds;
}

// grid NAME [fixed flags] --flag v1,v2 ...: every value list with a comma multiplies.
std::vector<PendingRun> expand_grid(const std::vector<std::string>& rest, const std::string& at) {
  if (rest.empty()) usage_error(at + "'grid' needs a name");
  std::vector<PendingRun> combos = {{rest[0], {}}};
  for (std::size_t i = 1; i < rest.size(); ++i) {
    const std::string& tok = rest[i];
    const bool is_value = tok.rfind("--", 0) != 0;
    if (!(is_value && tok.find(',') != std::string::npos && i > 1)) {
      for (PendingRun& c : combos) c.flags.push_back(tok);
      continue;
    }
    const std::vector<std::string> values = split(tok, ',');
    check_run_count(combos.size(), values.size(), at);
    std::vector<PendingRun> next;
    std::string flag = rest[i - 1];
    while (!flag.empty() && flag[0] == '-') flag.erase(0, 1);
    for (const PendingRun& c : combos)
      for (const std::string& v : values) {
        PendingRun p = c;
        p.name += "_" + flag + v;
        p.flags.push_back(v);
        next.push_back(p);
      }
    combos = next;
  }
  return combos;
}

// One line of a spec (comment removed, split into words), into `lines`.
void parse_spec_line(const std::vector<std::string>& w, const std::string& at, SweepLines* lines) {
  const std::string& key = w[0];
  const std::vector<std::string> rest(w.begin() + 1, w.end());
  if (key == "out") {
    if (rest.size() != 1) usage_error(at + "'out' takes one directory");
    lines->out = rest[0];
  } else if (key == "seeds") {
    lines->seeds = parse_seeds(rest, at);
  } else if (key == "common") {
    lines->common.insert(lines->common.end(), rest.begin(), rest.end());
  } else if (key == "run") {
    if (rest.empty()) usage_error(at + "'run' needs a name");
    lines->pending.push_back({rest[0], std::vector<std::string>(rest.begin() + 1, rest.end())});
  } else if (key == "grid") {
    const std::vector<PendingRun> combos = expand_grid(rest, at);
    check_run_count(lines->pending.size() + combos.size(), 1, at);
    lines->pending.insert(lines->pending.end(), combos.begin(), combos.end());
  } else if (key == "reproduce") {
    // A study table split into its searches (its own seeds and --out; `out`, `seeds` and
    // `common` are train lines' settings). Only the retrieval table dispatches by search.
    if (rest.empty() || rest[0] != "retrieval")
      usage_error(at + "'reproduce' takes the study whose table splits into searches: 'reproduce retrieval FLAGS...'");
    try {
      for (std::vector<std::string>& args :
           study::retrieval::table_searches(std::vector<std::string>(rest.begin() + 1, rest.end()))) {
        SweepRun r;
        r.subcommand = "reproduce";
        r.args = std::move(args);
        lines->searches.push_back(r);
      }
    } catch (const CliError& e) {
      usage_error(at + "reproduce retrieval: " + e.message);
    }
    check_run_count(lines->pending.size() + lines->searches.size(), 1, at);
  } else {
    usage_error(at + "unknown line '" + key + "' (expected out, seeds, common, run, grid or reproduce)");
  }
}

// Every pending run once per seed, its flags checked now so that a typo fails here and not on
// the cluster.
std::vector<SweepRun> build_runs(const SweepLines& lines, const std::string& where) {
  check_run_count(lines.pending.size(), lines.seeds.size(), where + ": ");
  std::vector<SweepRun> runs;
  for (const PendingRun& p : lines.pending) {
    if (p.name.find_first_of("/ \t") != std::string::npos) usage_error(where + ": run name '" + p.name + "' has a '/' or blank");
    for (const std::string& s : lines.seeds) {
      SweepRun r;
      r.name = p.name;
      r.seed = s;
      r.dir = lines.out + "/" + p.name + "/seed" + s;
      r.args = override_flags(lines.common, p.flags);
      r.args.insert(r.args.end(), {"--seed", s, "--out", r.dir});
      ParsedArgs parsed = ParsedArgs::parse(train_spec(), r.args);
      (void)parse_train_options(parsed, nullptr);
      runs.push_back(r);
    }
  }
  runs.insert(runs.end(), lines.searches.begin(), lines.searches.end());
  if (runs.empty()) usage_error(where + ": no 'run', 'grid' or 'reproduce' line");
  return runs;
}

}  // namespace

std::vector<SweepRun> parse_sweep(const std::string& text, const std::string& where) {
  SweepLines lines;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    const std::vector<std::string> w = words(line);
    if (!w.empty()) parse_spec_line(w, where + ":" + std::to_string(number) + ": ", &lines);
  }
  return build_runs(lines, where);
}

std::string command_line(const std::string& bin, const std::string& sub, const std::vector<std::string>& args) {
  std::string s = text::shell_quote(bin) + " " + sub;
  for (const std::string& a : args) s += " " + text::shell_quote(a);
  return s;
}

const CommandSpec& sweep_spec() {
  static const CommandSpec spec{
      "sweep",
      "tinyloop sweep SPEC [--bin PATH]",
      "print one 'tinyloop train' command per run of a sweep spec",
      {
          {"--bin", "PATH", "the tinyloop executable the commands call (default: this one's absolute path)"},
          {"--count", nullptr, "print only the number of runs (for a Slurm --array=0-(N-1))"},
      },
      "SPEC is a text file of lines ('#' starts a comment):\n"
      "  out DIR                  runs write DIR/NAME/seed<S>/ (default runs/sweep)\n"
      "  seeds 1,2,3              seeds of every run (default 1)\n"
      "  common FLAGS...          train flags of every run (e.g. --steps 2000 --threads 1); a\n"
      "                           run's own flag replaces the common one\n"
      "  run NAME FLAGS...        one configuration\n"
      "  grid NAME --lr 1e-3,3e-3 --loops 8,25   one run per combination (NAME_lr1e-3_loops8, ...)\n"
      "  reproduce retrieval FLAGS...   the retrieval study's layers-vs-K table (the flags of\n"
      "                           'tinyloop reproduce retrieval --table'), one command per search,\n"
      "                           each into its own folder under the table's --out; merge them\n"
      "                           with 'tinyloop reproduce retrieval --merge DIR'\n"
      "Every command is checked against 'tinyloop train' before anything is printed. Each run\n"
      "writes model.tlc, train_log.csv and its JSON result, eval.json; 'tinyloop merge DIR' then\n"
      "builds the table. Each run shows its own progress on stderr: in place on a terminal, a line\n"
      "every few seconds in a pipe or log file; 'common --quiet' silences it. On one machine:\n"
      "tinyloop sweep s.txt | parallel -j4. On Slurm:\n"
      "  sbatch --array=0-$(($(tinyloop sweep s.txt --count)-1)) --wrap \\\n"
      "    'eval \"$(tinyloop sweep s.txt | sed -n $((SLURM_ARRAY_TASK_ID+1))p)\"'"};
  return spec;
}

int run_sweep(const Args& args) {
  Args rest;
  std::vector<std::string> pos = split_positionals(sweep_spec(), args, &rest);
  ParsedArgs a = ParsedArgs::parse(sweep_spec(), rest);
  if (a.help_requested()) {
    std::fputs(format_help(sweep_spec()).c_str(), stdout);
    return kExitOk;
  }
  if (pos.size() != 1) usage_error("sweep takes one SPEC file; try 'tinyloop sweep --help'");
  std::vector<std::uint8_t> spec;
  const Status s = platform::read_file(pos[0].c_str(), kMaxSweepSpecBytes, &spec);
  if (s.code() == Error::buffer_too_small)
    runtime_error("sweep spec '" + pos[0] + "' is larger than " + std::to_string(kMaxSweepSpecBytes >> 20) +
                  " MiB, the most a sweep spec may hold");
  if (!s) runtime_error("cannot read sweep spec '" + pos[0] + "': " + s.message());
  std::vector<SweepRun> runs = parse_sweep(std::string(spec.begin(), spec.end()), pos[0]);
  if (a.has("--count")) {
    std::printf("%zu\n", runs.size());
    return kExitOk;
  }
  const std::string bin = a.get_string("--bin", self_executable());
  for (const SweepRun& r : runs) std::printf("%s\n", command_line(bin, r.subcommand, r.args).c_str());
  return kExitOk;
}

const CommandSpec& merge_spec() {
  static const CommandSpec spec{
      "merge",
      "tinyloop merge DIR... [options]",
      "build the report table from finished runs (their eval.json files)",
      {
          {"--target", "X", "token accuracy that counts as a success (default 0.95)"},
          {"--target-len", "N", "length the target applies to (default 1000)"},
          {"--out", "FILE", "write the Markdown table to FILE instead of stdout"},
          {"--csv", "FILE", "also write every number: one row per run and length"},
          {"--summary-csv", "FILE", "also write mean, min and max per recipe and length"},
      },
      "Every folder under DIR holding an eval.json is a run. Runs in .../NAME/seed<S>/ are grouped\n"
      "under NAME (else the folder's own name); the flags column is read from each model.tlc."};
  return spec;
}

int run_merge(const Args& args) {
  Args rest;
  std::vector<std::string> pos = split_positionals(merge_spec(), args, &rest);
  ParsedArgs a = ParsedArgs::parse(merge_spec(), rest);
  if (a.help_requested()) {
    std::fputs(format_help(merge_spec()).c_str(), stdout);
    return kExitOk;
  }
  if (pos.empty()) usage_error("merge needs at least one run directory; try 'tinyloop merge --help'");
  const double target = a.get_float("--target", 0.95f, 0.0, 1.0);
  const int target_len = int(a.get_int("--target-len", 1000, 1, kMaxSequenceLength));
  std::vector<RunResult> runs = collect_runs(pos);
  if (runs.empty()) runtime_error("no eval.json found under the given directories");
  std::vector<GroupSummary> g = summarize(runs, target, target_len);
  std::string md = summary_markdown(g, target, target_len);
  if (a.has("--out")) write_text_atomic(a.get_string("--out", ""), md, "merged table");
  else std::fputs(md.c_str(), stdout);
  if (a.has("--csv")) write_text_atomic(a.get_string("--csv", ""), runs_csv(runs), "runs CSV");
  if (a.has("--summary-csv")) write_text_atomic(a.get_string("--summary-csv", ""), summary_csv(g), "summary CSV");
  return kExitOk;
}

}  // namespace tinyloop::cli
