// The retrieval study's layers-vs-K table (studies/retrieval): the smallest layers per search,
// the CSV round trip that merging dispatched searches relies on, refused CSVs, and a tiny run.
#include <doctest/doctest.h>

#include <string>

#include "retrieval/retrieval.hpp"

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

}  // namespace

TEST_CASE("retrieval table: smallest layers per seed and kind, '>max' when none reached, '-' when not run") {
  const std::vector<sr::TableCell> cells = {cell(2, false, 1, 1, -1), cell(2, false, 2, 1, 300),
                                            cell(2, false, 1, 2, 200), cell(4, false, 1, 1, -1),
                                            cell(4, false, 2, 1, -1),  cell(2, true, 1, 1, 400)};
  const study::Report r = sr::table_report(cells, 2, 0.95, "test");
  REQUIRE(file(r, "table.md") != nullptr);
  const std::string& md = *file(r, "table.md");
  CHECK(md.find("| 2 | 1 | 2, 1 | 1, - |") != std::string::npos);
  CHECK(md.find("| 4 | 2 | >2, - | -, - |") != std::string::npos);
  CHECK(r.summary.find("retrieval table: K 2 stacked: 2, 1\n") != std::string::npos);
  CHECK(r.summary.find("retrieval table: K 4 stacked: >2, -\n") != std::string::npos);
}

TEST_CASE("retrieval table: the CSV reads back cell for cell, and a malformed one is refused") {
  const std::vector<sr::TableCell> cells = {cell(2, false, 1, 1, -1), cell(8, true, 3, 7, 1200)};
  const study::Report r = sr::table_report(cells, 3, 0.95, "test");
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
