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
    svg::LineChart c = svg::share_chart(name_of(r), "training step", "accuracy");
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

std::int64_t first_role_step(const CellResult& r, std::size_t head, bool retrieve, double level) {
  for (const EvalPoint& p : r.curve)
    if (head < p.heads.size() && (retrieve ? p.heads[head].retrieve : p.heads[head].match) >= level) return p.step;
  return -1;
}

constexpr double kRoleLevel = 0.5;

// Per run and head: the final match / retrieve / own weights and when match and retrieve first
// pass half the head's attention.
std::string roles_table(const std::vector<CellResult>& runs) {
  std::ostringstream md;
  md << "| run | layer | head | match | retrieve | own | first step match >= 0.5 | first step retrieve >= 0.5 |\n"
     << "|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const CellResult& r : runs) {
    const EvalPoint& last = r.curve.back();
    const int H = r.options.heads;
    for (std::size_t k = 0; k < last.heads.size(); ++k) {
      const HeadRole& h = last.heads[k];
      md << "| " << name_of(r) << " | " << k / std::size_t(H) + 1 << " | " << k % std::size_t(H) + 1 << " | "
         << text::format_fixed(h.match, 2) << " | " << text::format_fixed(h.retrieve, 2) << " | "
         << text::format_fixed(h.own, 2) << " | " << step_or_never(first_role_step(r, k, false, kRoleLevel)) << " | "
         << step_or_never(first_role_step(r, k, true, kRoleLevel)) << " |\n";
    }
  }
  return md.str();
}

std::string roles_csv(const std::vector<CellResult>& runs) {
  std::ostringstream s;
  s << "curriculum,step,layer,head,match,retrieve,own\n";
  for (const CellResult& r : runs)
    for (const EvalPoint& p : r.curve)
      for (std::size_t k = 0; k < p.heads.size(); ++k) {
        const int H = r.options.heads;
        s << (r.options.task.curriculum ? "on" : "off") << "," << p.step << "," << k / std::size_t(H) + 1 << ","
          << k % std::size_t(H) + 1 << "," << text::format_g9(p.heads[k].match) << ","
          << text::format_g9(p.heads[k].retrieve) << "," << text::format_g9(p.heads[k].own) << "\n";
      }
  return s.str();
}

// Every layer's and head's attention on the first held-out instance after training.
std::string attention_figure(const std::vector<CellResult>& runs) {
  const int columns = std::max(1, runs.front().options.heads);
  svg::Figure fig("retrieval: attention per layer and head, one held-out instance",
                  columns, 360, 360);
  for (const CellResult& r : runs) {
    const AttentionMaps& a = r.attention;
    for (std::size_t k = 0; k < a.maps.size(); ++k) {
      svg::HeatMap m;
      const int H = r.options.heads;
      m.title = std::string("curriculum ") + (r.options.task.curriculum ? "on" : "off") + ": " +
                (r.options.looped ? "loop " : "layer ") + std::to_string(k / std::size_t(H) + 1) + ", head " +
                std::to_string(k % std::size_t(H) + 1);
      m.rows = m.cols = a.len;
      m.values.assign(a.maps[k].begin(), a.maps[k].end());
      m.row_labels = m.col_labels = a.tokens;
      fig.add(m);
    }
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
     << positions_label(o.positions) << " positions, " << runs.front().params
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
  md << "\n![accuracy per depth](accuracy.svg)\n\nEvery evaluation point: `accuracy.csv`. The trained models, "
     << "with their AdamW state: `model-curriculum-on.tlc` and `-off.tlc` (checkpoint format version 4, "
     << "docs/CHECKPOINT.md).\n";
  const bool roles = !runs.front().curve.back().heads.empty();
  if (roles)
    md << "\n## What each head does\n\nMean attention on the held-out set from each position holding a variable "
       << "to resolve (a statement's right side that is a variable, and the query): **match**, on the left side "
       << "of the statement that defines it (the same token); **retrieve**, on what it is defined as (one hop "
       << "on); **own**, on its own statement's left side. Over training: `roles.csv`.\n\n"
       << roles_table(runs) << "\n![attention maps](attention.svg)\n";
  rep.files = {{"report.md", md.str()}, {"accuracy.csv", csv(runs)}, {"accuracy.svg", figure(runs)}};
  if (roles) {
    rep.files.push_back({"roles.csv", roles_csv(runs)});
    rep.files.push_back({"attention.svg", attention_figure(runs)});
  }
  for (const CellResult& r : runs)
    rep.files.push_back({r.options.task.curriculum ? "model-curriculum-on.tlc" : "model-curriculum-off.tlc",
                         r.checkpoint});
  return rep;
}

}  // namespace tinyloop::study::retrieval
