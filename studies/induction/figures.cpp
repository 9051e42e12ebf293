// The induction study's pictures and CSVs of the finished runs: loss terms and accuracy over
// training (curves.svg, loss_curves.csv) and the readout after each loop (per_loop.svg, .csv).
#include "common/svg.hpp"
#include "induction/parts.hpp"

namespace tinyloop::study::induction {

namespace {

std::string loss_csv(const std::vector<Run>& runs) {
  std::string csv = "group,seed,step,ce,potential,kinetic,tsallis,entropy,total,acc,len\n";
  for (const Run& r : runs)
    for (const LossRow& l : r.log)
      csv += r.group + "," + std::to_string(r.cfg.seed) + "," + std::to_string(l.step) + "," + text::format_g9(l.ce) +
             "," + text::format_g9(l.potential) + "," + text::format_g9(l.kinetic) + "," + text::format_g9(l.tsallis) +
             "," + text::format_g9(l.entropy) + "," + text::format_g9(l.total) + "," + text::format_g9(l.acc) + "," +
             std::to_string(l.len) + "\n";
  return csv;
}

std::string per_loop_csv(const std::vector<Run>& runs) {
  std::string csv = "group,seed,len,loop,token_accuracy\n";
  for (const Run& r : runs)
    for (const LengthRow& l : r.lengths)
      for (std::size_t t = 0; t < l.per_loop.size(); ++t)
        csv += r.group + "," + std::to_string(r.cfg.seed) + "," + std::to_string(l.len) + "," + std::to_string(t + 1) +
               "," + text::format_g9(l.per_loop[t]) + "\n";
  return csv;
}

// A run's series: the recipe solid in the first colour, the twin dashed in the second.
svg::Series run_series(const Run& r, const std::vector<Group>& groups) {
  svg::Series s;
  s.label = r.group;
  s.color = svg::palette(r.group == groups[0].name ? 0 : 1);
  s.dashed = r.group != groups[0].name;
  return s;
}

svg::LineChart accuracy_chart(const Options& o, const std::vector<Group>& groups, const std::vector<CurvePoint>& curve) {
  svg::LineChart c = svg::share_chart("token accuracy, seed " + std::to_string(o.first_seed), "step");
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
  return c;
}

std::string curves_svg(const Options& o, const std::vector<Group>& groups, const std::vector<Run>& runs,
                       const std::vector<CurvePoint>& curve) {
  svg::Figure fig("Training of " + o.recipe + " (solid) and " + o.recipe + o.twin_suffix + " (dashed), seeds " +
                      std::to_string(o.first_seed) + ".." + std::to_string(o.first_seed + o.seeds - 1),
                  3, 400, 270);
  struct Term {
    const char* title;
    double LossRow::*field;
    bool log;
  };
  const Term terms[] = {{"cross-entropy", &LossRow::ce, false},      {"kinetic K", &LossRow::kinetic, true},
                        {"potential U", &LossRow::potential, false}, {"Tsallis entropy S_q", &LossRow::tsallis, false},
                        {"training-batch accuracy", &LossRow::acc, false}};
  for (const Term& term : terms) {
    svg::LineChart c;
    c.title = term.title;
    c.x_label = "step";
    c.log_y = term.log;
    for (const Run& r : runs) {
      svg::Series s = run_series(r, groups);
      for (const LossRow& l : r.log) {
        s.x.push_back(double(l.step));
        s.y.push_back(l.*(term.field));
      }
      c.series.push_back(s);
    }
    fig.add(c);
  }
  fig.add(accuracy_chart(o, groups, curve));
  return fig.render();
}

std::string per_loop_svg(const Options& o, const std::vector<Group>& groups, const std::vector<Run>& runs) {
  svg::Figure fig("Readout applied after each loop, n = 1000 (" + std::to_string(o.eval_samples) + " sequences)", 1,
                  640, 360);
  svg::LineChart c = svg::share_chart("per-loop token accuracy at n=1000", "loop t", "token accuracy");
  for (const Run& r : runs)
    for (const LengthRow& l : r.lengths) {
      if (l.len != 1000) continue;
      svg::Series s = run_series(r, groups);
      for (std::size_t t = 0; t < l.per_loop.size(); ++t) {
        s.x.push_back(double(t + 1));
        s.y.push_back(l.per_loop[t]);
      }
      c.series.push_back(s);
    }
  fig.add(c);
  return fig.render();
}

}  // namespace

std::vector<File> run_figures(const Options& o, const std::vector<Group>& groups, const std::vector<Run>& runs,
                              const std::vector<CurvePoint>& curve) {
  return {{"loss_curves.csv", loss_csv(runs)},
          {"per_loop.csv", per_loop_csv(runs)},
          {"curves.svg", curves_svg(o, groups, runs, curve)},
          {"per_loop.svg", per_loop_svg(o, groups, runs)}};
}

}  // namespace tinyloop::study::induction
