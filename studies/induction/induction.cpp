// The induction study's entry point: train (through the Lab), the accuracy curve, the finished
// runs' table, figures and mechanism, and report.md.
#include "induction/parts.hpp"

namespace tinyloop::study::induction {

namespace {

std::string introduction(const Options& o, const std::vector<Group>& groups) {
  std::string extra;
  for (const std::string& f : o.extra_flags) extra += (extra.empty() ? "" : " ") + f;
  return "# tinyloop reproduce induction: " + o.recipe + "\n\n" + "Recipe `" + o.recipe + "` (" + o.recipe_summary +
         ")" + (extra.empty() ? "" : " with `" + extra + "`") + ", " + std::to_string(o.steps) + " steps, seeds " +
         std::to_string(o.first_seed) + ".." + std::to_string(o.first_seed + o.seeds - 1) +
         (groups.size() > 1 ? ", and " + o.twin_description + " (`" + o.twin_flags + "`)" : "") +
         ". Token accuracy (%) on positions with a target, " + std::to_string(o.eval_samples) +
         " sequences per length, evaluation seed 1234; mean (min-max) over seeds.\n\n";
}

std::string figures_section(const Options& o, const std::vector<Group>& groups) {
  std::string md = "\n\n## Figures\n\n- `curves.svg`: loss terms (CE, kinetic, potential, Tsallis) and training accuracy "
                   "over training for every run; token accuracy at n = 64 and 1000 over training (seed " +
                   std::to_string(o.first_seed) + ", " + std::to_string(o.curve_samples) +
                   " sequences per point).\n- `per_loop.svg`: the readout applied after each loop, n = 1000.\n";
  for (const Group& g : groups)
    md += "- `attention-" + g.name + ".svg`: attention of one n = " + std::to_string(o.attention_len) +
          " sequence at the chosen loops (seed " + std::to_string(o.first_seed) + ").\n";
  md += "\nData: `results.csv` (every run and length), `summary.csv`, `loss_curves.csv`, `accuracy_curve.csv`, "
        "`per_loop.csv`, `attention.csv`, `mechanism.csv` (attention mass per loop at n = 64 and 1000).\n\n"
        "## Mechanism\n\nMass of each loop's attention on the previous token, on the query itself, on the most "
        "recent earlier copy of x_i, on the token after that copy (the position that holds the answer), and on "
        "the tokens after any earlier copy; largest weight = the row's largest attention weight (1: one-hot); "
        "readout = accuracy of the readout applied after that loop.\n";
  return md;
}

std::string slopes_section(const std::vector<Run>& runs, Lab& lab) {
  std::string slopes;
  for (const Run& r : runs) {
    if (!r.have_cfg || !uses_alibi(r.cfg.model.positions)) continue;
    slopes += "| " + r.group + " | " + std::to_string(int(r.cfg.seed)) + " | " +
              text::format_fixed(alibi_slope(lab.load(r.dir + "/model.tlc")), 4) + " |\n";
  }
  if (slopes.empty()) return "";
  return "\nLearned ALiBi slope m = softplus(rho) after training (scores lose m per token of distance; rho "
         "starts at --alibi-rho):\n\n| run | seed | slope |\n|---|---:|---:|\n" + slopes;
}

std::string report_md(const Options& o, const std::vector<Group>& groups, const Finished& done,
                      const std::string& mechanism_md, const std::vector<TrainingRun>& runs, Lab& lab) {
  std::string md = introduction(o, groups) + done.table_markdown;
  md += "\nTarget: >= " + text::format_fixed(100.0 * o.target, 1) + "% token accuracy at n = 1000. ";
  for (const GroupCount& s : done.counts)
    md += s.group + ": " + std::to_string(s.success) + " of " + std::to_string(s.runs) + " seeds. ";
  md += figures_section(o, groups) + mechanism_md + slopes_section(done.runs, lab);
  md += "\n## Exact commands\n\nEquivalent to running, one after another:\n\n```sh\n";
  for (const TrainingRun& r : runs) md += lab.command(r.args) + "\n";
  return md + "```\n";
}

}  // namespace

std::optional<Report> run(const Options& o, Lab& lab) {
  const std::vector<Group> groups = groups_of(o);
  const std::vector<TrainingRun> runs = plan(o, groups);
  if (!lab.train(runs)) return std::nullopt;
  const std::vector<CurvePoint> curve = accuracy_curve(o, groups, lab);
  lab.shown();
  std::vector<std::pair<std::string, std::string>> dirs;
  for (const TrainingRun& r : runs) dirs.push_back({r.dir, r.group});
  const Finished done = lab.read(dirs, o.target);
  Report rep;
  rep.files = {{"results.csv", done.runs_csv},
               {"summary.csv", done.summary_csv},
               {"accuracy_curve.csv", curve_csv(curve, o.first_seed)}};
  for (File& f : run_figures(o, groups, done.runs, curve)) rep.files.push_back(std::move(f));
  Mechanism mech = mechanism(o, groups, done.runs, lab);
  for (File& f : mech.files) rep.files.push_back(std::move(f));
  rep.files.push_back({"report.md", report_md(o, groups, done, mech.markdown, runs, lab)});
  rep.summary = done.table_markdown;
  return rep;
}

}  // namespace tinyloop::study::induction
