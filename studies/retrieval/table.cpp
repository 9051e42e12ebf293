// The retrieval study's layers-vs-K table: per K, seed and model kind, the smallest number of
// layers (or loops) whose cell reaches the level at the query; the searches run in parallel.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <mutex>
#include <sstream>
#include <utility>

#include "common/svg.hpp"
#include "retrieval/progress.hpp"
#include "retrieval/retrieval.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::study::retrieval {

namespace {

struct Search {
  int K;
  bool looped;
  std::uint64_t seed;
};

std::string kind_name(bool looped) { return looped ? "looped" : "stacked"; }

// The cell of an earlier run (TableOptions::done) for this search and layer count, if any.
const TableCell* done_cell(const TableOptions& o, const Search& s, int layers) {
  for (const TableCell& c : o.done)
    if (c.K == s.K && c.looped == s.looped && c.seed == s.seed && c.layers == layers) return &c;
  return nullptr;
}

// Cells of 1, 2, ... layers until one reaches the level. `report` is called with each cell.
std::vector<TableCell> search(const TableOptions& o, const Search& s, const std::function<void(const TableCell&)>& report) {
  std::vector<TableCell> cells;
  for (int layers = 1; layers <= o.max_layers; ++layers) {
    if (const TableCell* earlier = done_cell(o, s, layers)) {
      cells.push_back(*earlier);
      report(*earlier);
      if (earlier->reached >= 0) break;
      continue;
    }
    CellOptions c = o.base;
    c.task.max_depth = s.K;
    c.task.curriculum = true;
    c.layers = layers;
    c.looped = s.looped;
    c.seed = s.seed;
    c.stop_at = o.level;
    const std::string label = o.quiet ? "" : "K" + std::to_string(s.K) + " " + kind_name(s.looped) + " L" +
                                                 std::to_string(layers) + " seed " + std::to_string(s.seed);
    if (!o.progress_dir.empty())
      c.progress = o.progress_dir + "/K" + std::to_string(s.K) + "-" + kind_name(s.looped) + "-L" +
                   std::to_string(layers) + "-seed" + std::to_string(s.seed);
    const CellResult r = train_cell(c, label);
    const TableCell t = table_cell(c, r.curve, o.level, r.seconds, r.params);
    cells.push_back(t);
    report(t);
    if (!c.progress.empty()) remove_progress(c.progress);
    if (t.reached >= 0) break;
  }
  return cells;
}

// One search's entry: the smallest layers reaching the level; ">N" when none did, N being the most
// layers that search tried (searches merged from runs with different --max-layers keep their own);
// "-" when the search has no cells (not run, or not merged yet).
std::string smallest(const std::vector<TableCell>& cells, int K, bool looped, std::uint64_t seed) {
  int best = 0, most = 0;
  for (const TableCell& c : cells) {
    if (c.K != K || c.looped != looped || c.seed != seed) continue;
    most = std::max(most, c.layers);
    if (c.reached >= 0 && (best == 0 || c.layers < best)) best = c.layers;
  }
  if (most == 0) return "-";
  return best > 0 ? std::to_string(best) : ">" + std::to_string(most);
}

std::string pct(double v) { return text::format_fixed(100.0 * v, 1) + "%"; }

// The query accuracy each cell ended at, against its layers: one panel per K, one line per kind
// and seed in it (the same colour for the same kind and seed in every panel), the level across.
std::string table_svg(const std::vector<TableCell>& cells, double level) {
  std::map<int, std::map<std::pair<bool, std::uint64_t>, svg::Series>> panels;  // K -> (looped, seed) -> line
  std::map<std::pair<bool, std::uint64_t>, int> colours;
  int most = 1;
  for (const TableCell& t : cells) {
    const auto key = std::make_pair(t.looped, t.seed);
    colours.emplace(key, 0);
    svg::Series& s = panels[t.K][key];
    s.label = kind_name(t.looped) + ", seed " + std::to_string(t.seed);
    s.dashed = t.looped;
    s.x.push_back(t.layers);
    s.y.push_back(t.query);
    most = std::max(most, t.layers);
  }
  int next = 0;
  for (auto& [key, colour] : colours) colour = next++;
  const int columns = panels.size() > 1 ? 2 : 1;
  svg::Figure fig("retrieval: final query accuracy against layers (stacked) or loops (looped)", columns, 480, 340);
  for (auto& [K, lines] : panels) {
    svg::LineChart c = svg::share_chart("K = " + std::to_string(K), "layers or loops", "query accuracy");
    for (auto& [key, s] : lines) {
      s.color = svg::palette(colours[key]);
      c.series.push_back(s);
    }
    svg::Series lv;
    lv.label = "level";
    lv.color = "#888888";
    lv.dashed = true;
    lv.x = {1.0, double(most)};
    lv.y = {level, level};
    c.series.push_back(lv);
    fig.add(c);
  }
  return fig.render();
}

}  // namespace

TableCell table_cell(const CellOptions& o, const std::vector<EvalPoint>& curve, double level, double seconds,
                     long params) {
  if (curve.empty()) fail("a cell with no evaluations");
  std::size_t end = 0;
  while (end + 1 < curve.size() && curve[end].query < level) ++end;
  TableCell t;
  t.K = o.task.max_depth;
  t.looped = o.looped;
  t.layers = o.layers;
  t.seed = o.seed;
  t.query = curve[end].query;
  t.reached = curve[end].query >= level ? curve[end].step : -1;
  t.steps = curve[end].step;
  t.seconds = seconds;
  t.params = params;
  return t;
}

Report run_table(const TableOptions& o) {
  std::vector<Search> searches;
  for (int K : o.Ks)
    for (std::uint64_t seed : o.seeds)
      for (bool looped : {false, true})
        if (looped ? o.looped : o.stacked) searches.push_back({K, looped, seed});
  for (const Search& s : searches) {
    CellOptions c = o.base;
    c.task.max_depth = s.K;
    c.layers = o.max_layers;
    c.looped = s.looped;
    check(validate(c));
  }
  std::vector<std::vector<TableCell>> found(searches.size());
  std::exception_ptr error;
  std::mutex mu;
  const int threads = std::max(1, std::min(int(searches.size()), o.threads > 0 ? o.threads : platform::hardware_threads()));
  platform::ThreadPool pool(threads);
  auto report = [&](const TableCell& c) {
    const std::lock_guard<std::mutex> lock(mu);
    if (o.on_cell) o.on_cell(c);
  };
  auto one = [&](int i, int) {
    try {
      found[std::size_t(i)] = search(o, searches[std::size_t(i)], report);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
    }
  };
  parallel_for(pool, int(searches.size()), one);
  if (error) std::rethrow_exception(error);
  std::vector<TableCell> cells;
  for (const auto& f : found) cells.insert(cells.end(), f.begin(), f.end());
  return table_report(cells, o.level, o.command);
}

void add_cells(std::vector<TableCell>* cells, const std::vector<TableCell>& more) {
  for (const TableCell& c : more) {
    auto same = [&](const TableCell& t) {
      return t.K == c.K && t.looped == c.looped && t.layers == c.layers && t.seed == c.seed;
    };
    const auto it = std::find_if(cells->begin(), cells->end(), same);
    if (it == cells->end()) {
      cells->push_back(c);
      continue;
    }
    if (it->query != c.query || it->reached != c.reached || it->steps != c.steps || it->params != c.params)
      fail("two different results for the cell K " + std::to_string(c.K) + " " + kind_name(c.looped) + " " +
           std::to_string(c.layers) + " layers seed " + std::to_string(c.seed) + ": query " + pct(it->query) +
           " and " + pct(c.query));
  }
}

Report table_report(const std::vector<TableCell>& cells, double level, const std::string& command) {
  std::vector<int> Ks;
  std::vector<std::uint64_t> seeds;
  for (const TableCell& c : cells) {
    if (std::find(Ks.begin(), Ks.end(), c.K) == Ks.end()) Ks.push_back(c.K);
    if (std::find(seeds.begin(), seeds.end(), c.seed) == seeds.end()) seeds.push_back(c.seed);
  }
  std::sort(Ks.begin(), Ks.end());
  std::sort(seeds.begin(), seeds.end());
  auto has_kind = [&](bool looped) {
    return std::any_of(cells.begin(), cells.end(), [&](const TableCell& c) { return c.looped == looped; });
  };
  const std::string lv = text::format_fixed(100.0 * level, 0) + "%";
  std::ostringstream md, summary;
  md << "# Retrieval: layers needed against the chain depth K\n\nCommand: `" << command << "`\n\n"
     << "The smallest number of layers (stacked) or loops (looped block) whose cell reaches " << lv
     << " at the query, per seed; `>N`: none of that search's cells, 1 to N layers, reached it; `-`: no such search. "
     << "The paper's claim is that the layers needed grow like log K.\n\n"
     << "| K | log2 K |";
  std::string seed_list;  // the header names the seeds in the order each row gives them
  for (std::uint64_t seed : seeds) seed_list += (seed_list.empty() ? "" : ", ") + std::to_string(seed);
  for (bool looped : {false, true})
    if (has_kind(looped)) md << " " << kind_name(looped) << " (seed " << seed_list << ") |";
  md << "\n|---:|---:|";
  for (bool looped : {false, true})
    if (has_kind(looped)) md << "---|";
  md << "\n";
  for (int K : Ks) {
    md << "| " << K << " | " << text::format_fixed(std::log2(double(K)), 0) << " |";
    for (bool looped : {false, true}) {
      if (!has_kind(looped)) continue;
      std::string row;
      for (std::uint64_t seed : seeds) row += (row.empty() ? "" : ", ") + smallest(cells, K, looped, seed);
      md << " " << row << " |";
      summary << "retrieval table: K " << K << " " << kind_name(looped) << ": " << row << "\n";
    }
    md << "\n";
  }
  md << "\n## Every cell\n\n| K | kind | layers | seed | query | first step at " << lv << " | steps | seconds | params |\n"
     << "|---:|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const TableCell& c : cells)
    md << "| " << c.K << " | " << kind_name(c.looped) << " | " << c.layers << " | " << c.seed << " | " << pct(c.query)
       << " | " << (c.reached >= 0 ? std::to_string(c.reached) : "never") << " | " << c.steps << " | "
       << text::format_fixed(c.seconds, 0) << " | " << c.params << " |\n";
  Report r;
  md << "\n![query accuracy against layers](table.svg)\n";
  r.files = {{"table.md", md.str()}, {"table.csv", table_csv(cells)}, {"table.svg", table_svg(cells, level)}};
  r.summary = summary.str();
  return r;
}

std::string table_csv(const std::vector<TableCell>& cells) {
  std::ostringstream csv;
  csv << "K,kind,layers,seed,query,reached,steps,seconds,params\n";  // read_table_csv's header
  for (const TableCell& c : cells)
    csv << c.K << "," << kind_name(c.looped) << "," << c.layers << "," << c.seed << "," << text::format_g9(c.query)
        << "," << c.reached << "," << c.steps << "," << text::format_fixed(c.seconds, 1) << "," << c.params << "\n";
  return csv.str();
}

std::vector<TableCell> read_table_csv(const std::string& text) {
  std::vector<TableCell> cells;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  const std::string header = "K,kind,layers,seed,query,reached,steps,seconds,params";
  while (std::getline(in, line)) {
    ++number;
    if (number == 1) {
      if (line != header) fail("table.csv starts with '" + line + "', not the header '" + header + "'");
      continue;
    }
    if (line.empty()) continue;
    std::istringstream f(line);
    std::string kind;
    char c1, c2, c3, c4, c5, c6, c7, c8;
    TableCell t;
    if (!(f >> t.K >> c1) || !std::getline(f, kind, ',') ||
        !(f >> t.layers >> c2 >> t.seed >> c3 >> t.query >> c4 >> t.reached >> c5 >> t.steps >> c6 >> t.seconds >> c7 >>
          t.params) ||
        c1 != ',' || c2 != ',' || c3 != ',' || c4 != ',' || c5 != ',' || c6 != ',' || c7 != ',' ||
        (kind != "stacked" && kind != "looped") || (f >> c8))
      fail("table.csv line " + std::to_string(number) + " is not K,kind,layers,seed,query,reached,steps,seconds,params: " + line);
    t.looped = kind == "looped";
    cells.push_back(t);
  }
  return cells;
}

}  // namespace tinyloop::study::retrieval
