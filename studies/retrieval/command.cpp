// `tinyloop reproduce retrieval`: flags -> the retrieval study's options, then its report folder;
// the layers-vs-K table, its dispatch commands and their merge.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "args.hpp"
#include "retrieval/progress.hpp"
#include "retrieval/retrieval.hpp"
#include "text_format.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::study::retrieval {

namespace {

using cli::CommandSpec;
using cli::ParsedArgs;
using cli::runtime_error;
using cli::usage_error;

const CommandSpec& spec() {
  static const CommandSpec s{
      "reproduce retrieval",
      "tinyloop reproduce retrieval [--quick] [options]\n"
      "       tinyloop reproduce retrieval --table [--print-commands] [options]\n"
      "       tinyloop reproduce retrieval --merge DIR [--out DIR]",
      "the retrieval problem (SPEC §4.2): accuracy per chain depth over training, curriculum on and off; "
      "the layers needed against K",
      {
          {"--quick", nullptr, "small cell: K 4, 3 chains, 2 layers, 2 heads, width 32, 8000 steps, evaluated every "
                               "200, then a small table (K 2 and 4, up to 2 layers, seed 1, 2 chains, 2000 steps); "
                               "under 10 minutes on 2 cores"},
          {"--table", nullptr, "the layers-vs-K table instead of the curves: per K, seed and kind, cells of 1, 2, ... "
                               "layers until one reaches 95% at the query (curriculum on; 2 chains unless --chains)"},
          {"--Ks", "K,K,...", "table: chain depths (default 2,4,8,16)"},
          {"--max-layers", "L", "table: the most layers (or loops) a search tries (default 6)"},
          {"--seeds", "S,S,...", "table: seeds (default 1,2)"},
          {"--kinds", "WHICH", "table: stacked, looped or both (default both)"},
          {"--threads", "T", "table: searches run at once (default: the hardware threads)"},
          {"--cells-from", "DIR,DIR,...", "table: single-cell runs' report folders (curriculum on, the table's "
                                          "settings) counted as the cells they equal instead of training those "
                                          "again; runs of other searches are skipped"},
          {"--print-commands", nullptr, "table: print one command per search (for GNU parallel or a Slurm array) "
                                        "instead of running; merge their folders with --merge"},
          {"--merge", "DIR", "merge the table.csv files in DIR's subfolders (one per search) into DIR/table.md and "
                             "table.csv (or into --out)"},
          {"--K", "K", "largest chain depth (default 8; --quick 4)"},
          {"--chains", "M", "chains per instance (default 4; --quick 3)"},
          {"--values", "N", "value tokens (default 8)"},
          {"--variables", "N", "variable tokens (default 32)"},
          {"--layers", "L", "layers, or loops with --looped (default 4; --quick 2)"},
          {"--heads", "H", "heads per layer (default 2)"},
          {"--width", "D", "model width (default 64; --quick 32)"},
          {"--looped", nullptr, "one shared block run L times instead of L layers"},
          {"--positions", "KIND", "learned, none, rope or alibi (default learned; SPEC §4.2 names the first two)"},
          {"--curriculum", "WHICH", "on, off or both (default both)"},
          {"--steps", "N", "training steps (default 10000; --quick 8000; --table 60000, its --quick 2000)"},
          {"--batch", "N", "instances per step (default 32)"},
          {"--lr", "X", "peak learning rate (default 0.003; --table 0.001)"},
          {"--seed", "S", "initialisation and data seed (default 1)"},
          {"--eval-every", "N", "steps between evaluations (default 100; --quick 200; --table 1000, its --quick 250)"},
          {"--eval-instances", "N", "held-out instances (default 256)"},
          {"--eval-seed", "S", "seed of the held-out set (default 1234)"},
          {"--out", "DIR", "report folder (default runs/reproduce-retrieval); a run stopped part way continues "
                           "there when run again, each cell from its last evaluation (DIR/progress-*, removed "
                           "once the report is written); a table's finished cells from DIR/cells.csv, the "
                           "others from DIR/progress/"},
          {"--quiet", nullptr, "no progress lines"},
      },
      "Writes DIR/report.md (first step at >= 95% and final accuracy per depth and at the query, the\n"
      "emergence order), DIR/accuracy.csv (every evaluation point) and DIR/accuracy.svg (one curve per\n"
      "depth, one panel per curriculum setting); with --table (and --quick) DIR/table.md and\n"
      "DIR/table.csv (the smallest layers per K, seed and kind, and every cell trained)."};
  return s;
}

CellOptions parse(const ParsedArgs& a) {
  const bool quick = a.has("--quick");
  CellOptions o;
  o.task.max_depth = int(a.get_int("--K", quick ? 4 : 8, 1, 4096));
  o.task.chains = int(a.get_int("--chains", quick ? 3 : 4, 1, 4096));
  o.task.values = int(a.get_int("--values", 8, 2, 1 << 20));
  o.task.variables = int(a.get_int("--variables", 32, 1, 1 << 20));
  o.layers = int(a.get_int("--layers", quick ? 2 : 4, 1, kMaxBlocks));
  o.heads = int(a.get_int("--heads", 2, 1, 64));
  o.width = int(a.get_int("--width", quick ? 32 : 64, 1, 4096));
  o.looped = a.has("--looped");
  const std::string positions = a.get_choice("--positions", "learned", {"learned", "none", "rope", "alibi"});
  o.positions = positions == "learned" ? Positions::learned
                : positions == "rope"  ? Positions::rope
                : positions == "alibi" ? Positions::alibi
                                       : Positions::none;
  o.steps = a.get_int("--steps", quick ? 8000 : 10000, 1, 100000000);
  o.batch = int(a.get_int("--batch", 32, 1, 4096));
  o.lr = a.get_float("--lr", 0.003f, 0.0, 10.0, true);
  o.seed = a.get_u64("--seed", 1);
  o.eval_every = int(a.get_int("--eval-every", quick ? 200 : 100, 1, 100000000));
  o.eval_instances = int(a.get_int("--eval-instances", 256, 1, 10000000));
  o.eval_seed = a.get_u64("--eval-seed", 1234);
  const Status st = validate(o);
  if (!st) usage_error(st.message());
  return o;
}

TableOptions parse_table(const ParsedArgs& a, const CellOptions& cell, bool quick) {
  TableOptions t;
  t.base = cell;
  if (!a.has("--chains")) t.base.task.chains = 2;
  // The table's recipe (docs/RESULTS.md §10): at lr 0.003 no cell learned more than K = 2, and
  // that only with 5 layers for one seed of two; at lr 0.001 K = 2 takes 3 layers within 4,000
  // steps, and K = 4's query is still climbing at 60,000.
  if (!a.has("--lr")) t.base.lr = 0.001f;
  t.base.steps = a.get_int("--steps", quick ? 2000 : 60000, 1, 100000000);
  t.base.eval_every = int(a.get_int("--eval-every", quick ? 250 : 1000, 1, 100000000));
  const std::vector<int> Ks = a.get_int_list("--Ks", quick ? std::vector<int>{2, 4} : std::vector<int>{2, 4, 8, 16}, 1,
                                             4096);
  t.Ks = Ks;
  t.max_layers = int(a.get_int("--max-layers", quick ? 2 : 6, 1, kMaxBlocks));
  const std::vector<int> seeds = a.get_int_list("--seeds", quick ? std::vector<int>{1} : std::vector<int>{1, 2}, 0,
                                                1 << 30);
  t.seeds.assign(seeds.begin(), seeds.end());
  const std::string kinds = a.get_choice("--kinds", "both", {"stacked", "looped", "both"});
  t.stacked = kinds != "looped";
  t.looped = kinds != "stacked";
  t.threads = int(a.get_int("--threads", 0, 0, 1024));
  t.quiet = a.has("--quiet");
  for (int K : t.Ks) {
    CellOptions c = t.base;
    c.task.max_depth = K;
    const Status st = validate(c);
    if (!st) usage_error("--Ks " + std::to_string(K) + ": " + st.message());
  }
  return t;
}

// A file's text; a runtime error names the file.
std::string read_text(const std::string& path) {
  std::vector<std::uint8_t> bytes;
  const Status read = platform::read_file(path.c_str(), std::size_t(64) << 20, &bytes);
  if (!read) runtime_error(read.message());
  return std::string(bytes.begin(), bytes.end());
}

// The cells of a table.csv (or of a table's cells.csv); a runtime error names the file.
std::vector<TableCell> read_cells(const std::string& path) {
  const std::string text = read_text(path);
  try {
    return read_table_csv(text);
  } catch (const study::Failure& e) {
    runtime_error(path + ": " + e.what());
  }
}

// One argument list per search of the table (after `tinyloop reproduce`), each with its own
// --out folder under `out`.
std::vector<std::vector<std::string>> search_args(const std::vector<std::string>& args, const TableOptions& t,
                                                  const std::string& out) {
  std::vector<std::string> kept;
  const std::vector<std::string> dropped = {"--Ks", "--seeds", "--kinds", "--out", "--print-commands", "--threads"};
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string flag = args[i].substr(0, args[i].find('='));
    if (std::find(dropped.begin(), dropped.end(), flag) != dropped.end()) {
      if (args[i].find('=') == std::string::npos && flag != "--print-commands") ++i;  // its value
      continue;
    }
    kept.push_back(args[i]);
  }
  std::vector<std::vector<std::string>> searches;
  for (int K : t.Ks)
    for (std::uint64_t seed : t.seeds)
      for (bool looped : {false, true}) {
        if (!(looped ? t.looped : t.stacked)) continue;
        const std::string kind = looped ? "looped" : "stacked";
        std::vector<std::string> a = {"retrieval"};
        a.insert(a.end(), kept.begin(), kept.end());
        const std::string folder = out + "/K" + std::to_string(K) + "-" + kind + "-seed" + std::to_string(seed);
        a.insert(a.end(), {"--Ks", std::to_string(K), "--seeds", std::to_string(seed), "--kinds", kind, "--threads",
                           "1", "--out", folder});
        searches.push_back(a);
      }
  return searches;
}

// Every table.csv in the subfolders of `dir` (one per dispatched search, or per run: a run resumed
// with more layers repeats the cells it kept, and those count once), merged.
std::vector<TableCell> merged_cells(const std::string& dir) {
  std::vector<std::string> files;
  auto add = [&](const std::string& folder) {
    const std::string path = folder + "/table.csv";
    if (platform::is_regular_file(path.c_str())) files.push_back(path);
  };
  std::vector<platform::DirectoryEntry> entries;
  const Status listed = platform::list_directory(dir.c_str(), &entries);
  if (!listed) runtime_error(listed.message());
  for (const platform::DirectoryEntry& e : entries)
    if (e.directory) add(dir + "/" + e.name);
  if (files.empty()) runtime_error("no table.csv in the subfolders of '" + dir + "'");
  std::vector<TableCell> cells;
  for (const std::string& f : files) {
    try {
      add_cells(&cells, read_cells(f));
    } catch (const study::Failure& e) {
      runtime_error(f + ": " + e.what());
    }
  }
  return cells;
}

// What every cell of a run depends on besides its K, layers, kind and seed, resolved.
std::string shared_settings(const CellOptions& c) {
  return "steps " + std::to_string(c.steps) + ", eval every " + std::to_string(c.eval_every) + ", " +
         std::to_string(c.eval_instances) + " held-out instances (seed " + std::to_string(c.eval_seed) + "), " +
         std::to_string(c.task.chains) + " chains, " + std::to_string(c.task.values) + " values, " +
         std::to_string(c.task.variables) + " variables, width " + std::to_string(c.width) + ", " +
         std::to_string(c.heads) + " heads, " + positions_label(c.positions) +
         " positions, batch " + std::to_string(c.batch) + ", lr " + text::format_g(c.lr, 6);
}

// What a table's cells depend on (a resumed table must have the same); the Ks, seeds, kinds and
// layer counts are each cell's own.
std::string cell_settings(const TableOptions& t) { return shared_settings(t.base) + ", level " + text::format_g9(t.level); }

// What a single-cell run's progress depends on (a continued run must have the same); the
// curriculum is not in it, each setting's cell keeping its own progress.
std::string run_settings(const CellOptions& c) {
  return "K " + std::to_string(c.task.max_depth) + ", " + std::to_string(c.layers) + (c.looped ? " loops" : " layers") +
         ", seed " + std::to_string(c.seed) + ", " + shared_settings(c);
}

// "lr 0.003 (the table: lr 0.001)" for each item of two settings strings that differs, `owner`
// naming the second's ("the table").
std::string settings_differ(const std::string& theirs, const std::string& mine, const std::string& owner) {
  const std::vector<std::string> a = text::split(theirs, ", "), b = text::split(mine, ", ");
  if (a.size() != b.size()) return theirs + " (" + owner + ": " + mine + ")";
  std::string differ;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) differ += (differ.empty() ? "" : ", ") + a[i] + " (" + owner + ": " + b[i] + ")";
  return differ;
}

// What differs between the settings saved at `path` (one line, save_settings) and `settings`, as
// settings_differ words it; "" when they are the same; the read failure when the file cannot be read.
std::string saved_settings_differ(const std::string& path, const std::string& settings, const std::string& owner) {
  std::vector<std::uint8_t> bytes;
  const Status read = platform::read_file(path.c_str(), 4096, &bytes);
  if (!read) return read.message();
  std::string theirs(bytes.begin(), bytes.end());
  if (!theirs.empty() && theirs.back() == '\n') theirs.pop_back();
  return theirs == settings ? std::string() : settings_differ(theirs, settings, owner);
}

// `settings` saved at `path` as one line, for saved_settings_differ to compare a later run with.
void save_settings(const std::string& path, const std::string& settings, const std::string& what) {
  const std::string line = settings + "\n";
  const Status kept = platform::write_file_atomic(path.c_str(), line.data(), line.size());
  if (!kept) runtime_error(what + " not saved: " + kept.message());
}

// The single-cell runs in `dirs` (their report.md and accuracy.csv) as the table cells they
// equal: a cell trains the same steps with or without the search's stop at the level, so the
// run's curve up to its first evaluation at the level is that cell (table_cell). A run trained
// with other settings than the table's, or that is no single curriculum-on cell, is refused;
// one of a search this table does not run (its K, seed, kind, or more layers) is skipped.
std::vector<TableCell> cells_of_runs(const std::vector<std::string>& dirs, const TableOptions& t) {
  std::vector<TableCell> cells;
  for (const std::string& dir : dirs) {
    try {
      const RunRecord run = read_run_report(read_text(dir + "/report.md"));
      const ParsedArgs a = ParsedArgs::parse(spec(), run.args);
      for (const char* other : {"--table", "--quick", "--merge"})
        if (a.has(other)) fail(std::string("its command has ") + other + ": not a single-cell run");
      if (a.get_choice("--curriculum", "both", {"on", "off", "both"}) == "off") fail("its run has no curriculum-on cell");
      TableOptions theirs = t;
      theirs.base = parse(a);
      theirs.base.task.curriculum = true;
      const CellOptions& c = theirs.base;
      const std::string differ = settings_differ(cell_settings(theirs), cell_settings(t), "the table");
      if (!differ.empty()) fail("trained with other settings than this table's: " + differ);
      const bool searched = std::find(t.Ks.begin(), t.Ks.end(), c.task.max_depth) != t.Ks.end() &&
                            std::find(t.seeds.begin(), t.seeds.end(), c.seed) != t.seeds.end() &&
                            (c.looped ? t.looped : t.stacked) && c.layers <= t.max_layers;
      const std::string name = "K " + std::to_string(c.task.max_depth) + (c.looped ? " looped " : " stacked ") +
                               std::to_string(c.layers) + (c.looped ? " loops" : " layers") + " seed " +
                               std::to_string(c.seed);
      if (!searched) {
        std::fprintf(stderr, "--cells-from: %s (%s) is not a cell of this table's searches: skipped\n", dir.c_str(),
                     name.c_str());
        continue;
      }
      const std::vector<EvalPoint> curve = read_run_curve(read_text(dir + "/accuracy.csv"), c);
      add_cells(&cells, {table_cell(c, curve, t.level, run.seconds, run.params)});
      std::fprintf(stderr, "--cells-from: %s counted as the cell %s\n", dir.c_str(), name.c_str());
    } catch (const study::Failure& e) {
      runtime_error("--cells-from " + dir + ": " + e.what());
    } catch (const cli::CliError& e) {  // its files unreadable, or its command's flags refused
      runtime_error("--cells-from " + dir + ": " + e.message);
    }
  }
  return cells;
}

// A table trained in `out` saves each finished cell to out/cells.csv (with out/cells.settings), so
// that a run stopped part way can be started again with the same command: the cells it finished
// are not trained again, and those it was training continue from their last evaluation
// (out/progress). Another table's cells in the same folder are refused. The `counted` cells
// (--cells-from) join the finished ones, and cells.csv keeps every cell it had.
void resume_cells(const std::string& out, const std::vector<TableCell>& counted, TableOptions* t) {
  const std::string cells_path = out + "/cells.csv", settings_path = out + "/cells.settings";
  const std::string settings = cell_settings(*t);
  if (platform::exists(cells_path.c_str())) {
    const std::string differ = saved_settings_differ(settings_path, settings, "this table");
    if (!differ.empty()) usage_error("'" + out + "' holds the cells of another table: " + differ + "; use another --out");
    t->done = read_cells(cells_path);
    std::fprintf(stderr, "resuming: the %zu cells in %s are not trained again\n", t->done.size(), cells_path.c_str());
  }
  try {
    add_cells(&t->done, counted);
  } catch (const study::Failure& e) {
    runtime_error(std::string("--cells-from and ") + cells_path + ": " + e.what());
  }
  t->progress_dir = out + "/progress";
  const Status made = platform::make_directories(t->progress_dir.c_str());
  if (!made) runtime_error("--out: " + std::string(made.message()));
  save_settings(settings_path, settings, "the table's settings");
  auto saved = std::make_shared<std::vector<TableCell>>(t->done);
  auto save = [saved, cells_path] {
    const std::string csv = table_csv(*saved);
    const Status s = platform::write_file_atomic(cells_path.c_str(), csv.data(), csv.size());
    if (!s) std::fprintf(stderr, "tinyloop: warning: %s not saved: %s\n", cells_path.c_str(), s.message());
  };
  if (!counted.empty()) save();
  t->on_cell = [saved, save](const TableCell& c) {
    add_cells(saved.get(), {c});
    save();
  };
}

// A single-cell run in `out` keeps each cell's progress at every evaluation (out/progress-
// curriculum-on.tlc and .csv, and -off), so that a run stopped part way continues there when the
// same command is run again; out/progress.settings holds what the progress depends on, and
// another run's progress is refused. Returns the progress stem.
std::string keep_run_progress(const std::string& out, const CellOptions& c) {
  const std::string stem = out + "/progress", settings_path = stem + ".settings";
  const std::string settings = run_settings(c);
  if (platform::exists(settings_path.c_str())) {
    const std::string differ = saved_settings_differ(settings_path, settings, "this run");
    if (!differ.empty())
      usage_error("'" + out + "' holds the progress of another run: " + differ + "; use another --out, or remove " +
                  stem + "*");
  }
  const Status made = platform::make_directories(out.c_str());
  if (!made) runtime_error("--out: " + std::string(made.message()));
  save_settings(settings_path, settings, "the run's settings");
  return stem;
}

// Once the report is written: the progress files of keep_run_progress, removed.
void remove_run_progress(const std::string& stem) {
  for (bool on : {true, false}) remove_progress(cell_progress(stem, on));
  const std::string settings = stem + ".settings";
  if (platform::exists(settings.c_str())) platform::remove_file(settings.c_str());
}

std::string command_line(const std::vector<std::string>& args) {
  std::string s = "tinyloop reproduce retrieval";
  for (const std::string& x : args) s += " " + x;
  return s;
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  ParsedArgs a = ParsedArgs::parse(spec(), args);
  if (a.help_requested()) {
    std::fputs(cli::format_help(spec()).c_str(), stdout);
    return cli::kExitOk;
  }
  if (a.has("--merge")) {
    const std::string dir = a.get_string("--merge", "");
    const std::string out = a.get_string("--out", dir);
    const std::vector<TableCell> cells = merged_cells(dir);
    const study::Report rep = table_report(cells, 0.95, command_line(args));
    study::write_report(out, rep);
    std::fputs(rep.summary.c_str(), stdout);
    std::fputs(study::wrote_line(out, rep).c_str(), stdout);
    return cli::kExitOk;
  }
  const bool quick = a.has("--quick"), table = a.has("--table");
  if (!(table || quick) && a.has("--cells-from")) usage_error("--cells-from counts runs as the cells of a --table");
  const CellOptions cell = parse(a);
  const std::string out = a.get_string("--out", "runs/reproduce-retrieval");
  study::Report rep;
  std::string run_progress;  // a single run's progress stem, removed once its report is written
  if (!table) {
    Options o;
    o.base = cell;
    const std::string which = a.get_choice("--curriculum", "both", {"on", "off", "both"});
    o.curriculum_on = which != "off";
    o.curriculum_off = which != "on";
    o.quiet = a.has("--quiet");
    o.command = command_line(args);
    o.progress = run_progress = keep_run_progress(out, o.base);
    rep = run(o);
  }
  if (table || quick) {
    TableOptions t = parse_table(a, cell, quick);
    t.command = command_line(args);
    if (a.has("--print-commands")) {
      for (const std::vector<std::string>& search : search_args(args, t, out)) {
        std::string line = "tinyloop reproduce";
        for (const std::string& x : search) line += " " + text::shell_quote(x);
        std::printf("%s\n", line.c_str());
      }
      return cli::kExitOk;
    }
    resume_cells(out, cells_of_runs(a.get_string_list("--cells-from", {}), t), &t);
    const study::Report tab = run_table(t);
    rep.files.insert(rep.files.end(), tab.files.begin(), tab.files.end());
    rep.summary += tab.summary;
  }
  study::write_report(out, rep);
  if (!run_progress.empty()) remove_run_progress(run_progress);
  std::fputs(rep.summary.c_str(), stdout);
  std::fputs(study::wrote_line(out, rep).c_str(), stdout);
  return cli::kExitOk;
}

std::vector<std::vector<std::string>> table_searches(const std::vector<std::string>& args) {
  std::vector<std::string> table = args;
  if (std::find(table.begin(), table.end(), "--table") == table.end()) table.insert(table.begin(), "--table");
  const ParsedArgs a = ParsedArgs::parse(spec(), table);
  for (const char* other : {"--merge", "--quick", "--print-commands"})
    if (a.has(other)) usage_error(std::string("a table's searches take no ") + other);
  if (a.help_requested()) usage_error("a table's searches take no --help");
  TableOptions t = parse_table(a, parse(a), false);
  return search_args(table, t, a.get_string("--out", "runs/reproduce-retrieval"));
}

}  // namespace tinyloop::study::retrieval
