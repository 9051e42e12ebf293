// The ICAR study's entry point: part (a) in both settings, then (b) and (c) when asked, and the
// report: report.md, the loss-versus-t CSV and picture of (a), and the files of (b) and (c).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "icar/parts.hpp"

namespace tinyloop::study::icar {

namespace {

// A small line chart of loss versus t (log scale), one panel per setting.
std::string svg_chart(const std::vector<Curves>& all, int n) {
  const int W = 420, H = 300, left = 60, top = 30, pw = 340, ph = 220;
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W * int(all.size()) << "' height='" << H
    << "' font-family='sans-serif' font-size='11'>\n";
  double lo = 1e9, hi = 1e-12;
  for (const Curves& c : all)
    for (int i = 1; i <= n - 2; ++i)
      for (double v : {c.model[i], c.gd[i], c.zero[i]}) {
        if (v > 0) lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  lo = std::pow(10.0, std::floor(std::log10(lo)));
  hi = std::pow(10.0, std::ceil(std::log10(hi)));
  auto X = [&](int panel, int i) { return panel * W + left + double(i - 1) / double(n - 3) * pw; };
  auto Y = [&](double v) { return top + ph - (std::log10(std::max(v, lo)) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) * ph; };
  for (std::size_t k = 0; k < all.size(); ++k) {
    const Curves& c = all[k];
    const int px = int(k) * W;
    s << "<text x='" << px + left << "' y='18'>" << c.setting << ": MSE per component vs t (log scale)</text>\n";
    s << "<rect x='" << px + left << "' y='" << top << "' width='" << pw << "' height='" << ph
      << "' fill='none' stroke='#888'/>\n";
    for (double v = lo; v <= hi * 1.0001; v *= 10)
      s << "<text x='" << px + 18 << "' y='" << Y(v) + 4 << "'>" << text::format_exp(v, 0) << "</text>\n";
    s << "<text transform='translate(" << px + 12 << "," << top + ph / 2
      << ") rotate(-90)' text-anchor='middle'>MSE per component (log)</text>\n";
    for (int i : {2, 10, 20, 30, 40, n - 1})
      if (i >= 1 && i <= n - 2)
        s << "<text x='" << X(int(k), i) - 6 << "' y='" << top + ph + 14 << "'>" << i + 1 << "</text>\n";
    const struct { const std::vector<double>* v; const char* color; const char* name; } lines[] = {
        {&c.model, "#d62728", "trained linear transformer"}, {&c.gd, "#1f77b4", "one GD step (fitted eta)"},
        {&c.zero, "#7f7f7f", "zero predictor"}};
    int li = 0;
    for (const auto& line : lines) {
      s << "<polyline fill='none' stroke='" << line.color << "' stroke-width='1.5' points='";
      for (int i = 1; i <= n - 2; ++i) s << X(int(k), i) << "," << Y((*line.v)[i]) << " ";
      s << "'/>\n<text x='" << px + left + 8 << "' y='" << top + 14 + 13 * li << "' fill='" << line.color << "'>"
        << line.name << "</text>\n";
      ++li;
    }
    s << "<text x='" << px + left + pw / 2 - 10 << "' y='" << H - 4 << "'>t</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

std::string loss_csv(const std::vector<Curves>& all, int n) {
  std::ostringstream csv;
  csv << "setting,t,model_mse,gd_mse,zero_mse\n";
  for (const Curves& c : all)
    for (int i = 1; i <= n - 2; ++i)
      csv << c.setting << "," << i + 1 << "," << c.model[i] << "," << c.gd[i] << "," << c.zero[i] << "\n";
  return csv.str();
}

void introduction(std::ostringstream& md, const Options& o) {
  md << "# tinyloop reproduce icar\n\n"
     << "In-context autoregressive learning (SPEC §4.3, arXiv 2402.05787): s_{t+1} = W s_t with W orthogonal, p = "
     << o.p << ", n = " << o.n << ". Model: one layer of linear attention (no softmax, MLP, LayerNorm, residual or "
     << "output projection) on augmented tokens e_t = (s_t, s_{t-1}), read out by Wout (2p x p); MSE over t = 2..n-1. "
     << "Reference: one gradient-descent step from W_0 = 0, s_hat_{t+1} = eta sum_{i<t} s_{i+1} s_i^T s_t, eta "
     << "fitted by least squares on " << 16 * o.batch << " fresh training sequences.\n\n"
     << "Command: `tinyloop reproduce icar --steps " << o.steps << " --batch " << o.batch << " --lr " << o.lr
     << " --seed " << o.seed << " --p " << o.p << " --n " << o.n << " --eval-sequences " << o.eval_sequences
     << " --plain-steps " << o.plain_steps << " --plain-heads " << o.plain_heads << " --softmax-steps " << o.softmax_steps
     << " --softmax-layers " << o.softmax_layers << " --theory-seeds " << o.theory_seeds << " --authors-seeds "
     << o.authors_seeds << " --authors-epochs " << o.authors_epochs << " --authors-sequences " << o.authors_sequences
     << " --authors-batch " << o.authors_batch << " --gated-seeds " << o.gated_seeds << " --gated-heads "
     << o.gated_heads << " --gated-epochs " << o.gated_epochs << " --gated-sequences " << o.gated_sequences
     << " --gated-batch " << o.gated_batch << "` (AdamW, no weight decay, clip 1, warm-up then cosine). Evaluation: " << o.eval_sequences
     << " sequences from evaluation seed " << o.eval_seed << ".\n\n";
}

void loss_table(std::ostringstream& md, const std::vector<Curves>& all, int n) {
  md << "## Loss (MSE per component) versus t\n\n| t |";
  for (const Curves& c : all) md << " " << c.setting << " model | " << c.setting << " GD | " << c.setting << " zero |";
  md << "\n|---:|";
  for (std::size_t k = 0; k < all.size(); ++k) md << "---:|---:|---:|";
  md << "\n";
  for (int t : table_positions(n)) {
    md << "| " << t << " |";
    for (const Curves& c : all)
      md << " " << text::format_fixed(c.model[t - 1], 5) << " | " << text::format_fixed(c.gd[t - 1], 5) << " | "
         << text::format_fixed(c.zero[t - 1], 5) << " |";
    md << "\n";
  }
  md << "| mean |";
  for (const Curves& c : all)
    md << " " << text::format_fixed(c.model_mean, 5) << " | " << text::format_fixed(c.gd_mean, 5) << " | "
       << text::format_fixed(c.zero_mean, 5) << " |";
  md << "\n\n";
  for (const Curves& c : all) {
    md << "## " << c.setting << ": learned matrices against the predicted structure\n\n"
       << "Training took " << text::format_fixed(c.train_seconds, 1)
       << " s. Fitted eta = " << text::format_fixed(c.eta, 5) << ".\n\n"
       << c.structure << "\n";
  }
  md << "Files: loss_vs_t.csv (every t), loss_vs_t.svg.\n\n";
}

}  // namespace

std::vector<int> table_positions(int n) {
  std::vector<int> out;
  for (int t : {2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 40, n - 1})
    if (t >= 2 && t <= n - 1) out.push_back(t);
  return out;
}

Report run(const Options& o) {
  std::vector<Curves> all;
  for (task::Setting s : {task::Setting::commuting, task::Setting::noncommuting}) all.push_back(run_setting(s, o));
  std::ostringstream intro, md;
  introduction(intro, o);
  loss_table(md, all, o.n);
  Part plain, softmax, theory, authors, gated;
  if (o.plain_steps > 0) plain = run_plain_part(o, all[0]);
  if (o.softmax_steps > 0) softmax = run_softmax_part(o, all[1]);
  if (o.theory_seeds > 0) theory = run_theory_part(o);
  if (o.authors_seeds > 0) authors = run_authors_part(o);
  if (o.gated_seeds > 0) gated = run_gated_part(o);
  std::vector<Claim> claims = authors.claims;
  claims.insert(claims.end(), theory.claims.begin(), theory.claims.end());
  if (o.gated_seeds > 0)
    claims.insert(claims.end(), gated.claims.begin(), gated.claims.end());
  else
    claims.push_back({"7", "plain tokens: a trained multi-head layer with positional attention finds those heads and that P",
                      "not run: --gated-seeds 0", "-"});
  claims.push_back({"4", "LLM token embeddings follow an approximately autoregressive model",
                    "not reproducible here: it needs pretrained GPT-2 weights", "-"});
  std::ostringstream table;
  table << "## The paper's claims, point by point\n\n| figure | claim | status | measured in this run |\n|---|---|---|---|\n";
  for (const Claim& c : claims)
    table << "| " << c.figure << " | " << c.claim << " | " << c.status << " | " << c.measured << " |\n";
  table << "\nParts (a) to (c) below are tinyloop's own setting (SPEC §4.3); (d), (e) and (f) follow the authors' code.\n\n";
  Report r;
  r.files = {{"report.md", intro.str() + table.str() + md.str() + plain.markdown + softmax.markdown + theory.markdown + authors.markdown +
                                  gated.markdown},
             {"loss_vs_t.csv", loss_csv(all, o.n)},
             {"loss_vs_t.svg", svg_chart(all, o.n)}};
  for (const std::vector<File>* part : {&plain.files, &softmax.files, &theory.files, &authors.files, &gated.files})
    r.files.insert(r.files.end(), part->begin(), part->end());
  r.summary = gated.summary + authors.summary + theory.summary + softmax.summary + plain.summary;
  for (const Curves& c : all)
    r.summary += c.setting + ": mean MSE model " + text::format_fixed(c.model_mean, 5) + ", GD " +
                 text::format_fixed(c.gd_mean, 5) + ", zero " + text::format_fixed(c.zero_mean, 5) + ", eta " +
                 text::format_fixed(c.eta, 4) + ", train " + text::format_fixed(c.train_seconds, 1) + " s\n";
  return r;
}

}  // namespace tinyloop::study::icar
