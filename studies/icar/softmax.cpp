// ICAR part (c): in the non-commuting setting, a stack of softmax layers on augmented tokens next
// to part (a)'s linear layer and one-step GD predictor, on the same evaluation sequences.
#include <sstream>

#include "common/svg.hpp"
#include "icar/parts.hpp"

namespace tinyloop::study::icar {

namespace {

ModelSpec softmax_stack(const Options& o) {
  ModelSpec c;
  c.layers = o.softmax_layers;
  c.heads = o.softmax_heads;
  c.width = o.softmax_width;
  c.mlp = true;
  c.layernorm = true;
  c.attention = AttentionKind::softmax;
  c.positions = Positions::none;
  c.input = InputKind::vectors;
  c.in_dim = 2 * o.p;
  c.input_proj = true;
  c.output = OutputKind::regression;
  c.out_dim = o.p;
  c.readout_bias = true;
  return c;
}

std::string section(const ModelSpec& cfg, const Trained& run, const Curves& lin, const Options& o) {
  const int n = o.n;
  std::ostringstream md;
  md << "## (c) Non-commuting setting: stacked softmax layers\n\n"
     << "Model: augmented tokens e_t = (s_t, s_{t-1}) projected to width " << cfg.width << " (Win, bin), " << cfg.layers
     << " stacked pre-LayerNorm layers (softmax attention, " << cfg.heads << " heads, scale "
     << "1/sqrt(head width), residual, GELU MLP of width " << cfg.hidden_width() << "), no positions, final "
     << "LayerNorm, read-out Wout + bout; " << run.m.param_count() << " parameters. " << o.softmax_steps
     << " steps, batch " << o.batch << ", lr " << o.softmax_lr << " (AdamW, no weight decay, clip 1, warm-up then "
     << "cosine), seed " << o.seed << ", training took " << text::format_fixed(run.seconds, 1)
     << " s. Evaluated on the same " << o.eval_sequences
     << " non-commuting sequences as part (a); the linear layer and the one-step GD predictor "
     << "(eta = " << text::format_fixed(lin.eta, 5) << ") are part (a)'s.\n\n"
     << "| t | softmax stack | linear layer (a) | one GD step | zero |\n|---:|---:|---:|---:|---:|\n";
  for (int t : table_positions(n))
    md << "| " << t << " | " << text::format_fixed(run.curve[t - 1], 5) << " | "
       << text::format_fixed(lin.model[t - 1], 5) << " | " << text::format_fixed(lin.gd[t - 1], 5) << " | "
       << text::format_fixed(lin.zero[t - 1], 5) << " |\n";
  md << "| mean | " << text::format_fixed(curve_mean(run.curve, n), 5) << " | " << text::format_fixed(lin.model_mean, 5)
     << " | " << text::format_fixed(lin.gd_mean, 5) << " | " << text::format_fixed(lin.zero_mean, 5)
     << " |\n\nFiles: noncommuting_loss_vs_t.csv, noncommuting_loss_vs_t.svg.\n";
  return md.str();
}

std::string figure(const std::vector<double>& curve, const Curves& lin, int n) {
  svg::Figure fig("icar (c): non-commuting setting, MSE per component vs t", 1, 520, 340);
  svg::LineChart lc;
  lc.title = "";
  lc.x_label = "t";
  lc.y_label = "MSE (log)";
  lc.log_y = true;
  const struct { const std::vector<double>* v; const char* label; const char* color; bool dashed; } lines[] = {
      {&curve, "softmax stack", "#2ca02c", false}, {&lin.model, "linear layer (augmented)", "#d62728", false},
      {&lin.gd, "one GD step", "#1f77b4", false}, {&lin.zero, "zero predictor", "#7f7f7f", true}};
  for (const auto& L : lines) {
    svg::Series se;
    se.label = L.label;
    se.color = L.color;
    se.dashed = L.dashed;
    for (int i = 1; i <= n - 2; ++i) { se.x.push_back(i + 1); se.y.push_back((*L.v)[i]); }
    lc.series.push_back(se);
  }
  fig.add(lc);
  return fig.render();
}

}  // namespace

Part run_softmax_part(const Options& o, const Curves& noncommuting) {
  const int n = o.n;
  const task::IcarTask t = make_task(o, task::Setting::noncommuting, false);
  const ModelSpec cfg = softmax_stack(o);
  TrainSpec spec;
  spec.steps = o.softmax_steps;
  spec.lr = o.softmax_lr;
  spec.init_stream = 0x1417 + 4;
  spec.data_stream = 0xda7a + 16 * 4;
  spec.name = "non-commuting, softmax stack";
  const auto run = train(cfg, t, spec, o);
  const Curves& lin = noncommuting;
  Part part;
  part.markdown = section(cfg, *run, lin, o);
  std::ostringstream nc;
  nc << "t,softmax_mse,linear_mse,gd_mse,zero_mse\n";
  for (int i = 1; i <= n - 2; ++i)
    nc << i + 1 << "," << run->curve[i] << "," << lin.model[i] << "," << lin.gd[i] << "," << lin.zero[i] << "\n";
  part.files = {{"noncommuting_loss_vs_t.csv", nc.str()}, {"noncommuting_loss_vs_t.svg", figure(run->curve, lin, n)}};
  part.summary = "non-commuting softmax stack: mean MSE " + text::format_fixed(curve_mean(run->curve, n), 5) +
                 ", train " + text::format_fixed(run->seconds, 1) + " s\n";
  return part;
}

}  // namespace tinyloop::study::icar
