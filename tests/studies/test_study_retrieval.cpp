// The retrieval study's layers-vs-K table (studies/retrieval): the smallest layers per search,
// the CSV round trip that merging dispatched searches relies on, refused CSVs, and a tiny run.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "args.hpp"
#include "retrieval/retrieval.hpp"
#include "support/temp_dir.hpp"
#include "tinyloop/platform/posix.hpp"

using namespace tinyloop;
namespace sr = tinyloop::study::retrieval;

namespace {

sr::TableCell cell(int K, bool looped, int layers, std::uint64_t seed, std::int64_t reached) {
  sr::TableCell c;
  c.K = K;
  c.looped = looped;
  c.layers = layers;
  c.seed = seed;
  c.query = reached >= 0 ? 0.97 : 0.5;
  c.reached = reached;
  c.steps = 100;
  c.seconds = 1.5;
  c.params = 1234;
  return c;
}

const std::string* file(const study::Report& r, const std::string& name) { return r.find(name); }

// A cell that trains in a fraction of a second: K = 2, 2 chains, width 16, 40 steps.
sr::CellOptions small_cell() {
  sr::CellOptions o;
  o.task.max_depth = 2;
  o.task.chains = 2;
  o.layers = 1;
  o.heads = 2;
  o.width = 16;
  o.batch = 8;
  o.steps = 40;
  o.eval_every = 10;
  o.eval_instances = 16;
  return o;
}

bool exists(const std::string& path) { return platform::exists(path.c_str()); }

}  // namespace

TEST_CASE("retrieval table: smallest layers per seed and kind, '>N' when none reached, '-' when not run") {
  const std::vector<sr::TableCell> cells = {cell(2, false, 1, 1, -1), cell(2, false, 2, 1, 300),
                                            cell(2, false, 1, 2, 200), cell(4, false, 1, 1, -1),
                                            cell(4, false, 2, 1, -1),  cell(2, true, 1, 1, 400),
                                            cell(4, true, 1, 1, -1),   cell(4, true, 2, 1, -1),
                                            cell(4, true, 3, 1, -1)};
  const study::Report r = sr::table_report(cells, 0.95, "test");
  REQUIRE(file(r, "table.md") != nullptr);
  const std::string& md = *file(r, "table.md");
  // The header names the seeds in the order of each row's entries.
  CHECK(md.find("| K | log2 K | stacked (seed 1, 2) | looped (seed 1, 2) |") != std::string::npos);
  CHECK(md.find("| 2 | 1 | 2, 1 | 1, - |") != std::string::npos);
  // Each search's '>N' is the most layers it tried: the stacked one stopped at 2, the looped at 3.
  CHECK(md.find("| 4 | 2 | >2, - | >3, - |") != std::string::npos);
  CHECK(r.summary.find("retrieval table: K 2 stacked: 2, 1\n") != std::string::npos);
  CHECK(r.summary.find("retrieval table: K 4 stacked: >2, -\n") != std::string::npos);
  CHECK(r.summary.find("retrieval table: K 4 looped: >3, -\n") != std::string::npos);
}

TEST_CASE("retrieval table: merging keeps one of each cell and refuses two different results for one") {
  std::vector<sr::TableCell> cells = {cell(8, false, 1, 1, -1), cell(8, false, 2, 1, -1)};
  // A run resumed with more layers: its table repeats the two cells it kept and adds a third.
  sr::add_cells(&cells, {cell(8, false, 1, 1, -1), cell(8, false, 2, 1, -1), cell(8, false, 3, 1, 900)});
  REQUIRE(cells.size() == 3);
  CHECK(cells[2].layers == 3);
  CHECK(cells[2].reached == 900);
  sr::TableCell other = cell(8, false, 2, 1, -1);
  other.query = 0.6;
  CHECK_THROWS_WITH_AS(sr::add_cells(&cells, {other}),
                       "two different results for the cell K 8 stacked 2 layers seed 1: query 50.0% and 60.0%",
                       study::Failure);
  CHECK(cells.size() == 3);
}

TEST_CASE("retrieval table: the CSV reads back cell for cell, and a malformed one is refused") {
  const std::vector<sr::TableCell> cells = {cell(2, false, 1, 1, -1), cell(8, true, 3, 7, 1200)};
  const study::Report r = sr::table_report(cells, 0.95, "test");
  const std::vector<sr::TableCell> back = sr::read_table_csv(*file(r, "table.csv"));
  REQUIRE(back.size() == cells.size());
  for (std::size_t i = 0; i < cells.size(); ++i) {
    CHECK(back[i].K == cells[i].K);
    CHECK(back[i].looped == cells[i].looped);
    CHECK(back[i].layers == cells[i].layers);
    CHECK(back[i].seed == cells[i].seed);
    CHECK(back[i].query == doctest::Approx(cells[i].query));
    CHECK(back[i].reached == cells[i].reached);
    CHECK(back[i].params == cells[i].params);
  }
  CHECK_THROWS_AS(sr::read_table_csv("1,2\n"), study::Failure);
  CHECK_THROWS_AS(sr::read_table_csv("K,kind,layers,seed,query,reached,steps,seconds,params\n2,both,1,1,0.5,-1,1,1,1\n"),
                  study::Failure);
  CHECK_THROWS_AS(sr::read_table_csv("K,kind,layers,seed,query,reached,steps,seconds,params\n2,stacked,1,1\n"),
                  study::Failure);
}

TEST_CASE("retrieval table: a tiny search runs and stops at the first layer count that reaches the level") {
  sr::TableOptions o;
  o.base.task.chains = 2;
  o.base.width = 16;
  o.base.steps = 20;
  o.base.eval_every = 10;
  o.base.eval_instances = 16;
  o.Ks = {2};
  o.seeds = {1};
  o.looped = false;
  o.max_layers = 2;
  o.level = 0.0001;  // reached at the first evaluation: the search stops after one layer
  o.quiet = true;
  o.threads = 1;
  const study::Report r = sr::run_table(o);
  const std::vector<sr::TableCell> cells = sr::read_table_csv(*file(r, "table.csv"));
  REQUIRE(!cells.empty());
  if (cells[0].reached >= 0) {  // reached at one evaluation: the cell stopped there, the search at 1 layer
    CHECK(cells[0].layers == 1);
    CHECK(cells[0].steps == cells[0].reached);
  } else {
    CHECK(cells.size() == 2);  // neither reached it: both layer counts were tried
  }
}

TEST_CASE("retrieval cell: head roles are attention weights and the maps are causal rows summing to 1") {
  sr::CellOptions o = small_cell();
  o.layers = 2;
  o.steps = 20;
  const sr::CellResult r = sr::train_cell(o, "");
  for (const sr::EvalPoint& p : r.curve) {
    REQUIRE(p.heads.size() == 4);
    for (const sr::HeadRole& h : p.heads) {
      CHECK(h.match >= 0);
      CHECK(h.retrieve >= 0);
      CHECK(h.own >= 0);
      CHECK(h.match + h.retrieve + h.own <= 1.0 + 1e-5);  // three different keys of one softmax row
    }
  }
  const sr::AttentionMaps& a = r.attention;
  REQUIRE(a.maps.size() == 4);
  REQUIRE(int(a.tokens.size()) == a.len);
  CHECK(a.tokens[std::size_t(a.len) - 2] == "?");
  for (const std::vector<float>& P : a.maps)
    for (int i = 0; i < a.len; ++i) {
      double sum = 0;
      for (int j = 0; j <= i; ++j) sum += P[std::size_t(i) * a.len + j];
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-4));
    }
}

TEST_CASE("retrieval cell: a run stopped at an evaluation continues from its progress to the unstopped result") {
  const sr::CellOptions o = small_cell();
  const sr::CellResult full = sr::train_cell(o, "");
  test::TempDir dir;
  sr::CellOptions stopped = o;
  stopped.progress = dir / "cell";
  stopped.interrupt_at = 20;
  const sr::CellResult part = sr::train_cell(stopped, "");
  REQUIRE(part.curve.back().step == 20);
  REQUIRE(exists(dir / "cell.tlc"));
  REQUIRE(exists(dir / "cell.csv"));

  sr::CellOptions again = o;
  again.progress = dir / "cell";
  const sr::CellResult continued = sr::train_cell(again, "");
  REQUIRE(continued.curve.size() == full.curve.size());
  for (std::size_t k = 0; k < full.curve.size(); ++k) {
    const sr::EvalPoint &a = continued.curve[k], &b = full.curve[k];
    CAPTURE(b.step);
    CHECK(a.step == b.step);
    CHECK(a.query == b.query);
    CHECK(a.train_loss == b.train_loss);
    CHECK(a.depth == b.depth);
    REQUIRE(a.heads.size() == b.heads.size());
    for (std::size_t h = 0; h < a.heads.size(); ++h) {
      CHECK(a.heads[h].match == b.heads[h].match);
      CHECK(a.heads[h].retrieve == b.heads[h].retrieve);
      CHECK(a.heads[h].own == b.heads[h].own);
    }
  }
  // The weights, AdamW state, step and data generator at the end, byte for byte.
  CHECK(continued.checkpoint == full.checkpoint);

  // Stopped between the two writes of an evaluation: the curve (written first) is at step 30, the
  // checkpoint still at 20. The curve is cut back, and the run still ends where the full one does.
  // The continued run left its last progress, at step 30, in `dir`.
  test::TempDir ahead;
  stopped.progress = ahead / "cell";
  sr::train_cell(stopped, "");  // progress at step 20
  std::vector<std::uint8_t> later;
  REQUIRE(platform::read_file((dir / "cell.csv").c_str(), std::size_t(1) << 20, &later));
  REQUIRE(std::string(later.begin(), later.end()).find("\n30,") != std::string::npos);
  REQUIRE(platform::write_file_atomic((ahead / "cell.csv").c_str(), later.data(), later.size()));
  again.progress = ahead / "cell";
  const sr::CellResult cut = sr::train_cell(again, "");
  CHECK(cut.curve.size() == full.curve.size());
  CHECK(cut.checkpoint == full.checkpoint);
}

TEST_CASE("retrieval cell: progress of another cell, or damaged, is refused with its file named") {
  test::TempDir dir;
  sr::CellOptions stopped = small_cell();
  stopped.progress = dir / "cell";
  stopped.interrupt_at = 10;
  sr::train_cell(stopped, "");
  sr::CellOptions other = small_cell();
  other.progress = dir / "cell";
  other.seed = 2;
  CHECK_THROWS_WITH_AS(sr::train_cell(other, ""), doctest::Contains("cell.tlc' is another cell's"), study::Failure);
  other.seed = 1;
  other.layers = 2;
  CHECK_THROWS_WITH_AS(sr::train_cell(other, ""), doctest::Contains("cell.tlc' is another cell's"), study::Failure);
  sr::CellOptions same = small_cell();
  same.progress = dir / "cell";
  const std::string junk = "seconds,1\n10,0.5,not a number\n";
  REQUIRE(platform::write_file_atomic((dir / "cell.csv").c_str(), junk.data(), junk.size()));
  CHECK_THROWS_WITH_AS(sr::train_cell(same, ""), doctest::Contains("cell.csv' is damaged"), study::Failure);
  std::vector<std::uint8_t> bytes;
  REQUIRE(platform::read_file((dir / "cell.tlc").c_str(), std::size_t(1) << 26, &bytes));
  REQUIRE(platform::write_file_atomic((dir / "cell.tlc").c_str(), bytes.data(), bytes.size() / 2));
  const std::string named = "progress '" + (dir / "cell.tlc") + "': ";
  CHECK_THROWS_WITH_AS(sr::train_cell(same, ""), doctest::Contains(named.c_str()), study::Failure);
}

TEST_CASE("retrieval run: both cells stopped at an evaluation continue from their progress to the unstopped report") {
  sr::Options o;
  o.base = small_cell();
  o.quiet = true;
  const study::Report full = sr::run(o);
  test::TempDir dir;
  sr::Options stopped = o;
  stopped.progress = dir / "progress";
  stopped.base.interrupt_at = 20;
  sr::run(stopped);
  for (bool on : {true, false}) {
    CHECK(exists(sr::cell_progress(dir / "progress", on) + ".tlc"));
    CHECK(exists(sr::cell_progress(dir / "progress", on) + ".csv"));
  }
  sr::Options again = o;
  again.progress = dir / "progress";
  const study::Report continued = sr::run(again);
  // Every evaluation and both trained models (weights, AdamW state, step, data generator), byte
  // for byte; report.md differs only in the seconds it shows.
  for (const char* name : {"accuracy.csv", "roles.csv", "model-curriculum-on.tlc", "model-curriculum-off.tlc"}) {
    CAPTURE(name);
    REQUIRE(file(full, name));
    REQUIRE(file(continued, name));
    CHECK(*file(continued, name) == *file(full, name));
  }
}

TEST_CASE("retrieval run: the command keeps a run's progress until its report is written, and refuses another run's") {
  test::TempDir dir;
  const std::vector<std::string> args = {"--K", "2", "--chains", "2", "--layers", "1", "--width", "16", "--batch", "8",
                                         "--steps", "40", "--eval-every", "10", "--eval-instances", "16",
                                         "--quiet", "--out", dir.path};
  CHECK(sr::run_command(args) == 0);
  CHECK(exists(dir / "report.md"));
  std::vector<platform::DirectoryEntry> left;
  REQUIRE(platform::list_directory(dir.path.c_str(), &left));
  for (const platform::DirectoryEntry& e : left) {
    CAPTURE(e.name);
    CHECK(e.name.rfind("progress", 0) != 0);
  }
  // A stopped run's settings with another lr and another seed: its progress is not continued.
  const std::string theirs =
      "K 2, 1 layers, seed 2, steps 40, eval every 10, 16 held-out instances (seed 1234), 2 chains, 8 values, 32 "
      "variables, width 16, 2 heads, learned positions, batch 8, lr 0.001\n";
  REQUIRE(platform::write_file_atomic((dir / "progress.settings").c_str(), theirs.data(), theirs.size()));
  try {
    sr::run_command(args);
    FAIL("another run's progress was not refused");
  } catch (const cli::CliError& e) {
    CHECK(e.exit_code == 2);
    CHECK(e.message.find("holds the progress of another run: seed 2 (this run: seed 1), lr 0.001 (this run: lr "
                         "0.003); use another --out, or remove ") != std::string::npos);
  }
  // Settings that cannot be read are no proof of the same run: refused, naming the file.
  REQUIRE(platform::remove_file((dir / "progress.settings").c_str()));
  REQUIRE(platform::make_directories((dir / "progress.settings").c_str()));
  try {
    sr::run_command(args);
    FAIL("unreadable progress settings were not refused");
  } catch (const cli::CliError& e) {
    CHECK(e.exit_code == 2);
    CHECK(e.message.find("holds the progress of another run: ") != std::string::npos);
    CHECK(e.message.find("progress.settings") != std::string::npos);
  }
}

TEST_CASE("retrieval table: the command refuses cells whose settings are missing, before training any") {
  test::TempDir dir;
  const std::string cells = "K,kind,layers,seed,query,reached,steps,seconds,params\n";
  REQUIRE(platform::write_file_atomic((dir / "cells.csv").c_str(), cells.data(), cells.size()));
  try {
    sr::run_command({"--table", "--Ks", "2", "--seeds", "1", "--kinds", "stacked", "--max-layers", "1", "--width",
                     "16", "--steps", "20", "--eval-every", "10", "--eval-instances", "16", "--quiet", "--out",
                     dir.path});
    FAIL("cells without their settings were not refused");
  } catch (const cli::CliError& e) {
    CHECK(e.exit_code == 2);
    CHECK(e.message.find("holds the cells of another table: ") != std::string::npos);
    CHECK(e.message.find("cells.settings") != std::string::npos);
    CHECK(e.message.find("; use another --out") != std::string::npos);
  }
  CHECK_FALSE(exists(dir / "cells.settings"));
  CHECK_FALSE(exists(dir / "table.md"));
}

TEST_CASE("retrieval table: cells keep progress while they train and leave none once saved") {
  test::TempDir dir;
  sr::TableOptions o;
  o.base = small_cell();
  o.Ks = {2};
  o.seeds = {1};
  o.looped = false;
  o.max_layers = 2;
  o.quiet = true;
  o.threads = 1;
  o.progress_dir = dir.path;
  std::vector<sr::TableCell> saved;
  o.on_cell = [&](const sr::TableCell& c) {
    saved.push_back(c);
    // This cell's progress is still there when its result is handed over, and up to date.
    CHECK(exists(dir / ("K2-stacked-L" + std::to_string(c.layers) + "-seed1.tlc")));
  };
  sr::run_table(o);
  REQUIRE(!saved.empty());
  std::vector<platform::DirectoryEntry> left;
  REQUIRE(platform::list_directory(dir.path.c_str(), &left));
  CHECK(left.empty());
}

TEST_CASE("retrieval table: a cell is its curve up to the first evaluation at the level") {
  sr::CellOptions o = small_cell();
  std::vector<sr::EvalPoint> curve(4);
  const double queries[] = {0.1, 0.5, 0.96, 0.4};
  for (std::size_t i = 0; i < curve.size(); ++i) {
    curve[i].step = std::int64_t(10 * i);
    curve[i].query = queries[i];
  }
  const sr::TableCell reached = sr::table_cell(o, curve, 0.95, 2.5, 99);
  CHECK(reached.K == 2);
  CHECK(reached.layers == 1);
  CHECK(reached.query == 0.96);
  CHECK(reached.reached == 20);
  CHECK(reached.steps == 20);
  CHECK(reached.seconds == 2.5);
  CHECK(reached.params == 99);
  const sr::TableCell never = sr::table_cell(o, curve, 0.99, 2.5, 99);
  CHECK(never.query == 0.4);
  CHECK(never.reached == -1);
  CHECK(never.steps == 30);
  CHECK_THROWS_AS(sr::table_cell(o, {}, 0.95, 0, 0), study::Failure);
}

TEST_CASE("retrieval table: a single run's report reads back as the cell a search trains, without training it") {
  const sr::CellOptions o = small_cell();  // curriculum on
  const sr::CellResult run = sr::train_cell(o, "");
  const std::string command =
      "tinyloop reproduce retrieval --K 2 --chains 2 --layers 1 --width 16 --batch 8 --steps 40 --eval-every 10 "
      "--eval-instances 16 --curriculum on";
  const study::Report rep = sr::make_report({run}, command);
  const sr::RunRecord record = sr::read_run_report(*file(rep, "report.md"));
  CHECK(record.args == std::vector<std::string>{"--K", "2", "--chains", "2", "--layers", "1", "--width", "16", "--batch",
                                                "8", "--steps", "40", "--eval-every", "10", "--eval-instances", "16",
                                                "--curriculum", "on"});
  CHECK(record.params == run.params);
  CHECK(std::fabs(record.seconds - run.seconds) <= 0.5);  // written to the second
  const std::vector<sr::EvalPoint> curve = sr::read_run_curve(*file(rep, "accuracy.csv"), o);
  REQUIRE(curve.size() == run.curve.size());
  for (std::size_t i = 0; i < curve.size(); ++i) {
    CHECK(curve[i].step == run.curve[i].step);
    CHECK(curve[i].query == run.curve[i].query);  // exactly: recovered as a count of 16
  }
  // The level at the run's best evaluation: a search's cell stops there, and reads the same.
  double best = 0;
  for (const sr::EvalPoint& p : run.curve) best = std::max(best, p.query);
  sr::TableOptions t;
  t.base = o;
  t.Ks = {2};
  t.seeds = {o.seed};
  t.looped = false;
  t.max_layers = 1;
  t.level = best;
  t.quiet = true;
  t.threads = 1;
  const std::vector<sr::TableCell> trained = sr::read_table_csv(*file(sr::run_table(t), "table.csv"));
  REQUIRE(trained.size() == 1);
  const sr::TableCell counted = sr::table_cell(o, curve, best, record.seconds, record.params);
  CHECK(counted.query == trained[0].query);
  CHECK(counted.reached == trained[0].reached);
  CHECK(counted.steps == trained[0].steps);
  CHECK(counted.params == trained[0].params);
  // Given as done, the cell is not trained again: the search reports it as it was.
  t.done = {counted};
  t.done[0].seconds = 1234;
  const std::vector<sr::TableCell> kept = sr::read_table_csv(*file(sr::run_table(t), "table.csv"));
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].seconds == 1234);
}

TEST_CASE("retrieval table: a run's report or curve that does not read back is refused with what is wrong") {
  const sr::CellOptions o = small_cell();
  const std::string md =
      "Command: `tinyloop reproduce retrieval --K 2`\n\nModel: stacked, 4768 parameters; AdamW\n\n"
      "- curriculum on, 1 layers, 2 heads, width 16, seed 1: 1 (trained in 3 s)\n";
  const sr::RunRecord r = sr::read_run_report(md);
  CHECK(r.args == std::vector<std::string>{"--K", "2"});
  CHECK(r.params == 4768);
  CHECK(r.seconds == 3);
  CHECK_THROWS_WITH_AS(sr::read_run_report("Model: 5 parameters;\n"), doctest::Contains("no 'tinyloop reproduce"),
                       study::Failure);
  CHECK_THROWS_WITH_AS(sr::read_run_report(md.substr(0, md.find("- curriculum"))),
                       doctest::Contains("no curriculum-on run"), study::Failure);
  const std::string header = "curriculum,layers,heads,width,looped,seed,step,train_loss,query,depth1,depth2\n";
  const std::string row = "on,1,2,16,0,1,";
  const std::string good = header + row + "0,0,0.5,0,0\n" + row + "40,0.1,0.5625,1,0.5\n";
  CHECK(sr::read_run_curve(good, o).size() == 2);
  CHECK_THROWS_WITH_AS(sr::read_run_curve("curriculum,step\n", o), doctest::Contains("not the header of K = 2"),
                       study::Failure);
  CHECK_THROWS_WITH_AS(sr::read_run_curve(header + row + "40,0,0.123457,1,1\n", o),
                       doctest::Contains("is not a count of 16"), study::Failure);
  CHECK_THROWS_WITH_AS(sr::read_run_curve(header + "on,2,2,16,0,1,40,0,0.5,1,1\n", o),
                       doctest::Contains("another model's"), study::Failure);
  CHECK_THROWS_WITH_AS(sr::read_run_curve(header + row + "30,0,0.5,1,1\n", o), doctest::Contains("ends at step 30"),
                       study::Failure);
  CHECK_THROWS_WITH_AS(sr::read_run_curve(header + "off,1,2,16,0,1,40,0,0.5,1,1\n", o),
                       doctest::Contains("no curriculum-on rows"), study::Failure);
}
