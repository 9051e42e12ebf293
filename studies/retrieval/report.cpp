// The retrieval study's report: the emergence table (first step at >= 95% per depth), final
// accuracies, a CSV of every evaluation point and an SVG with one curve per depth.
#include <algorithm>
#include <sstream>

#include "common/svg.hpp"
#include "retrieval/retrieval.hpp"

namespace tinyloop::study::retrieval {

namespace {

constexpr double kLevel = 0.95;

std::string name_of(const CellResult& r) {
  const CellOptions& o = r.options;
  std::ostringstream s;
  s << "curriculum " << (o.task.curriculum ? "on" : "off") << ", " << (o.looped ? "looped " : "") << o.layers
    << (o.looped ? " loops" : " layers") << ", " << o.heads << " heads, width " << o.width << ", seed " << o.seed;
  return s.str();
}

std::string pct(double v) { return text::format_fixed(100.0 * v, 1) + "%"; }

std::string step_or_never(std::int64_t s) { return s < 0 ? "never" : std::to_string(s); }

// "1 < 2 < 3 = 4, never: 5" from the first steps at the level.
std::string emergence_order(const CellResult& r) {
  const int K = r.options.task.max_depth;
  std::vector<std::pair<std::int64_t, int>> reached;
  std::string never;
  for (int h = 1; h <= K; ++h) {
    const std::int64_t s = first_step_at(r, h, kLevel);
    if (s < 0)
      never += (never.empty() ? "" : ", ") + std::to_string(h);
    else
      reached.push_back({s, h});
  }
  std::sort(reached.begin(), reached.end());
  std::string out;
  for (std::size_t i = 0; i < reached.size(); ++i) {
    if (i > 0) out += reached[i].first == reached[i - 1].first ? " = " : " < ";
    out += std::to_string(reached[i].second);
  }
  if (!never.empty()) out += (out.empty() ? "" : "; ") + std::string("never: ") + never;
  return out;
}

// One row per run and measure, one column per depth and the query.
std::string table(const std::vector<CellResult>& runs) {
  std::ostringstream md;
  const int K = runs.front().options.task.max_depth;
  md << "| run | measure |";
  for (int h = 1; h <= K; ++h) md << " depth " << h << " |";
  md << " query (depth " << K << ") |\n|---|---|";
  for (int h = 0; h <= K; ++h) md << "---:|";
  md << "\n";
  for (const CellResult& r : runs) {
    const EvalPoint& last = r.curve.back();
    md << "| " << name_of(r) << " | first step >= 95% |";
    for (int h = 1; h <= K; ++h) md << " " << step_or_never(first_step_at(r, h, kLevel)) << " |";
    md << " " << step_or_never(first_step_at(r, 0, kLevel)) << " |\n| | final accuracy |";
    for (double a : last.depth) md << " " << pct(a) << " |";
    md << " " << pct(last.query) << " |\n";
  }
  return md.str();
}

std::string csv(const std::vector<CellResult>& runs) {
  std::ostringstream s;
  const int K = runs.front().options.task.max_depth;
  s << "curriculum,layers,heads,width,looped,seed,step,train_loss,query";
  for (int h = 1; h <= K; ++h) s << ",depth" << h;
  s << "\n";
  for (const CellResult& r : runs)
    for (const EvalPoint& p : r.curve) {
      const CellOptions& o = r.options;
      s << (o.task.curriculum ? "on" : "off") << "," << o.layers << "," << o.heads << "," << o.width << ","
        << (o.looped ? 1 : 0) << "," << o.seed << "," << p.step << "," << p.train_loss << "," << p.query;
      for (double a : p.depth) s << "," << a;
      s << "\n";
    }
  return s.str();
}

std::string figure(const std::vector<CellResult>& runs) {
  svg::Figure fig("retrieval: held-out accuracy per depth over training", int(runs.size()), 460, 320);
  for (const CellResult& r : runs) {
    svg::LineChart c;
    c.title = name_of(r);
    c.x_label = "training step";
    c.y_label = "accuracy";
    c.y_min = 0;
    c.y_max = 1;
    const int K = r.options.task.max_depth;
    for (int h = 0; h <= K; ++h) {
      svg::Series s;
      s.label = h == 0 ? "query" : "depth " + std::to_string(h);
      s.color = h == 0 ? "#000000" : svg::palette(h - 1);
      s.dashed = h == 0;
      for (const EvalPoint& p : r.curve) {
        s.x.push_back(double(p.step));
        s.y.push_back(h == 0 ? p.query : p.depth[std::size_t(h) - 1]);
      }
      c.series.push_back(s);
    }
    fig.add(c);
  }
  return fig.render();
}

}  // namespace

Report make_report(const std::vector<CellResult>& runs, const std::string& command) {
  Report rep;
  const CellOptions& o = runs.front().options;
  const auto& t = o.task;
  std::ostringstream md;
  md << "# Retrieval study (SPEC §4.2, after arXiv 2411.12118)\n\n"
     << "tinyloop's reconstruction of the task, not the paper's exact layout (docs/TASKS.md).\n\n"
     << "Command: `" << command << "`\n\n"
     << "Task: " << t.values << " values, " << t.variables << " variables, " << t.chains
     << " chains of depth uniform in 1.." << t.max_depth << " (curriculum on: loss at every statement and the query) "
     << "or all of depth " << t.max_depth << " (curriculum off: loss at the query only). Held-out set: "
     << o.eval_instances << " instances (evaluation seed " << o.eval_seed << "), every chain of depth "
     << t.max_depth << ", every statement and the query scored; depth h is the accuracy at the statements "
     << "(u_h, .), the query asks for a depth-" << t.max_depth << " variable.\n\n"
     << "Model: stacked softmax transformer (the engine's model), " << (o.looped ? "looped, " : "") << o.layers
     << (o.looped ? " loops" : " layers") << ", " << o.heads << " heads, width " << o.width << ", "
     << (o.positions == Positions::learned ? "learned" : "no") << " positions, " << runs.front().params
     << " parameters; AdamW lr " << o.lr << " (cosine, warm-up), batch " << o.batch << ", " << o.steps
     << " steps, evaluated every " << o.eval_every << ".\n\n"
     << "## First step at >= 95% and final accuracy\n\n"
     << table(runs) << "\n## Emergence order (depths by first step at >= 95%)\n\n";
  for (const CellResult& r : runs) {
    const std::string secs = text::format_fixed(r.seconds, 0);
    md << "- " << name_of(r) << ": " << emergence_order(r) << " (trained in " << secs << " s)\n";
    rep.summary += name_of(r) + ": emergence " + emergence_order(r) + "; final query " + pct(r.curve.back().query) +
                   "; " + secs + " s\n";
  }
  md << "\n![accuracy per depth](accuracy.svg)\n\nEvery evaluation point: `accuracy.csv`.\n";
  rep.files = {{"report.md", md.str()}, {"accuracy.csv", csv(runs)}, {"accuracy.svg", figure(runs)}};
  return rep;
}

}  // namespace tinyloop::study::retrieval
