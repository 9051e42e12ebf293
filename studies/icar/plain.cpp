// ICAR part (b): plain tokens s_t with learned positions, one linear multi-head layer
// (commuting setting), with s_1 random (as SPEC §4.3 says) or fixed; the head overlaps and the
// trigonometric measures of the learned positions (icar/measures.hpp), before and after training.
#include <cmath>
#include <sstream>

#include "common/svg.hpp"
#include "icar/measures.hpp"
#include "icar/parts.hpp"

namespace tinyloop::study::icar {

namespace {

// The measures of part (b) on one weight vector of the plain-token model.
struct PlainMeasures {
  double qk_mean = 0, qk_max = 0, ov_mean = 0, ov_max = 0;              // full-width head products
  double qk_tok_mean = 0, qk_tok_max = 0, ov_tok_mean = 0, ov_tok_max = 0;  // on the token subspace
  double gram_toeplitz = 0, score_toeplitz = 0, column_sine = 0, pc_sine = 0, pc2_share = 0;
  std::vector<double> ov_cos;            // H x H (token subspace)
  std::vector<double> gram_cos;          // (n-1) x (n-1) cosines p_i.p_j / |p_i||p_j|
  std::vector<double> pc1, pc2;          // scores of the first two principal components
  std::vector<double> pc_fit;            // (r2, omega) per principal component
};

// The heads' products QK_h = Wq[:, h] Wk[:, h]^T (d x d) and OV_h = Wv[:, h] Wo[h, :] Wout (d x p),
// one after another per head.
struct HeadProducts {
  int H, d, p;
  std::vector<double> qk, ov;
};

HeadProducts head_products(const Model<float>& m, const double* W, int p) {
  const auto& l = m.layout();
  const ModelSpec& c = m.config();
  const int d = c.width, H = c.heads, hd = c.head_width(), F = H * hd;
  const double *Wq = W + l.block[0].Wq, *Wk = W + l.block[0].Wk, *Wv = W + l.block[0].Wv, *Wo = W + l.block[0].Wo,
               *Wout = W + l.Wout;
  HeadProducts r{H, d, p, std::vector<double>(std::size_t(H) * d * d, 0.0), std::vector<double>(std::size_t(H) * d * p, 0.0)};
  std::vector<double> vo(std::size_t(d) * d);
  for (int h = 0; h < H; ++h) {
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) {
        double s = 0, t = 0;
        for (int k = 0; k < hd; ++k) {
          s += Wq[i * F + h * hd + k] * Wk[j * F + h * hd + k];
          t += Wv[i * F + h * hd + k] * Wo[(h * hd + k) * d + j];
        }
        r.qk[(std::size_t(h) * d + i) * d + j] = s;
        vo[std::size_t(i) * d + j] = t;
      }
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < p; ++j) {
        double s = 0;
        for (int k = 0; k < d; ++k) s += vo[std::size_t(i) * d + k] * Wout[k * p + j];
        r.ov[(std::size_t(h) * d + i) * p + j] = s;
      }
  }
  return r;
}

// Head overlaps, full width and on the token subspace (Win QK_h Win^T and Win OV_h, p x p).
void head_overlaps(const HeadProducts& x, const double* Win, PlainMeasures& r) {
  const int H = x.H, d = x.d, p = x.p;
  r.qk_mean = pairwise_cosines(x.qk.data(), H, std::size_t(d) * d, nullptr, &r.qk_max);
  r.ov_mean = pairwise_cosines(x.ov.data(), H, std::size_t(d) * p, nullptr, &r.ov_max);
  std::vector<double> qkt(std::size_t(H) * p * p, 0.0), ovt(std::size_t(H) * p * p, 0.0);
  for (int h = 0; h < H; ++h)
    for (int a = 0; a < p; ++a)
      for (int b = 0; b < p; ++b) {
        double s = 0, t = 0;
        for (int i = 0; i < d; ++i) {
          t += Win[a * d + i] * x.ov[(std::size_t(h) * d + i) * p + b];
          for (int j = 0; j < d; ++j) s += Win[a * d + i] * x.qk[(std::size_t(h) * d + i) * d + j] * Win[b * d + j];
        }
        qkt[(std::size_t(h) * p + a) * p + b] = s;
        ovt[(std::size_t(h) * p + a) * p + b] = t;
      }
  r.qk_tok_mean = pairwise_cosines(qkt.data(), H, std::size_t(p) * p, nullptr, &r.qk_tok_max);
  r.ov_cos.assign(std::size_t(H) * H, 0.0);
  r.ov_tok_mean = pairwise_cosines(ovt.data(), H, std::size_t(p) * p, r.ov_cos.data(), &r.ov_tok_max);
}

// How far the position table P (np x d) and each head's positional scores depend on i - j only.
void position_toeplitz(const HeadProducts& x, const double* P, int np, PlainMeasures& r) {
  const int d = x.d, H = x.H;
  std::vector<double> G(std::size_t(np) * np), S(std::size_t(np) * np);
  r.gram_cos.assign(std::size_t(np) * np, 0.0);
  for (int i = 0; i < np; ++i)
    for (int j = 0; j < np; ++j) {
      double s = 0;
      for (int k = 0; k < d; ++k) s += P[i * d + k] * P[j * d + k];
      G[std::size_t(i) * np + j] = s;
    }
  for (int i = 0; i < np; ++i)
    for (int j = 0; j < np; ++j)
      r.gram_cos[std::size_t(i) * np + j] =
          G[std::size_t(i) * np + j] / std::sqrt(G[std::size_t(i) * np + i] * G[std::size_t(j) * np + j]);
  r.gram_toeplitz = toeplitz_r2(G.data(), np, false);
  // Each head's positional scores p_i QK_h p_j^T on the causal triangle, averaged over heads.
  for (int h = 0; h < H; ++h) {
    for (int i = 0; i < np; ++i)
      for (int j = 0; j < np; ++j) {
        double s = 0;
        for (int a = 0; a < d; ++a) {
          double t = 0;
          for (int b = 0; b < d; ++b) t += x.qk[(std::size_t(h) * d + a) * d + b] * P[j * d + b];
          s += P[i * d + a] * t;
        }
        S[std::size_t(i) * np + j] = s;
      }
    r.score_toeplitz += toeplitz_r2(S.data(), np, true) / H;
  }
}

// Sinusoid fits of the table's columns and of its principal components.
void position_sinusoids(const double* P, int np, int d, PlainMeasures& r) {
  r.column_sine = sinusoid_r2(P, np, d, nullptr);
  const Components pc = principal_components(P, np, d);
  r.pc_fit.assign(std::size_t(2) * d, 0.0);
  r.pc_sine = sinusoid_r2(pc.scores.data(), np, d, r.pc_fit.data());
  double tot = 0;
  for (double v : pc.variance) tot += std::max(v, 0.0);
  r.pc2_share = tot > 0 ? (std::max(pc.variance[0], 0.0) + std::max(pc.variance[1], 0.0)) / tot : 0.0;
  for (int i = 0; i < np; ++i) {
    r.pc1.push_back(pc.scores[std::size_t(i) * d + 0]);
    r.pc2.push_back(pc.scores[std::size_t(i) * d + 1]);
  }
}

PlainMeasures plain_measures(const Model<float>& m, const double* W, int p, int n) {
  PlainMeasures r;
  const HeadProducts x = head_products(m, W, p);
  head_overlaps(x, W + m.layout().Win, r);
  // Positions 0..n-2 (the last row never reaches a counted loss and keeps its initial value).
  const double* P = W + m.layout().pos;
  position_toeplitz(x, P, n - 1, r);
  position_sinusoids(P, n - 1, x.d, r);
  return r;
}

ModelSpec plain_linear(int p, int n, int heads) {
  ModelSpec c;
  c.layers = 1;
  c.heads = heads;
  c.width = 2 * p;
  c.head_dim = std::max(1, 2 * p / heads);
  c.mlp = false;
  c.layernorm = false;
  c.attention = AttentionKind::linear;
  c.attn_scale = 1.0f;
  c.out_proj = true;
  c.residual = false;
  c.positions = Positions::learned;
  c.max_len = n;
  c.input = InputKind::vectors;
  c.in_dim = p;
  c.input_proj = true;
  c.output = OutputKind::regression;
  c.out_dim = p;
  c.readout_bias = false;
  return c;
}

struct PlainResult {
  std::string name;
  std::vector<double> curve;
  double mean = 0, seconds = 0;
  PlainMeasures init, trained;
};

PlainResult run_plain(bool fixed_start, const Options& o) {
  PlainResult r;
  r.name = fixed_start ? "fixed s_1" : "random s_1 (SPEC)";
  const task::IcarTask t = make_task(o, task::Setting::commuting, fixed_start);  // part (a)'s Q
  TrainSpec spec;
  spec.tokens = Tokens::plain;
  spec.steps = o.plain_steps;
  spec.lr = o.plain_lr;
  const int stream = fixed_start ? 3 : 2;
  spec.init_stream = 0x1417 + stream;
  spec.data_stream = 0xda7a + 16 * stream;
  spec.name = "plain tokens, " + r.name;
  const auto run = train(plain_linear(o.p, o.n, o.plain_heads), t, spec, o);
  r.curve = run->curve;
  r.mean = curve_mean(r.curve, o.n);
  r.seconds = run->seconds;
  const std::vector<double> trained(run->m.params(), run->m.params() + run->m.param_count());
  r.init = plain_measures(run->m, run->init_params.data(), o.p, o.n);
  r.trained = plain_measures(run->m, trained.data(), o.p, o.n);
  return r;
}

void describe_model(std::ostringstream& md, const Options& o) {
  const ModelSpec cfg = plain_linear(o.p, o.n, o.plain_heads);
  md << "## (b) Plain tokens: one linear multi-head layer with learned positions (commuting setting)\n\n"
     << "Model: x_t = s_t Win + bin + pos[t] (width " << cfg.width << ", learned positions initialised N(0, 0.1^2)), one "
     << "layer of linear attention with " << cfg.heads << " heads of width " << cfg.head_width()
     << " (scores x_t Wq_h . x_j Wk_h, no softmax, scale 1), output projection Wo, no residual, MLP or LayerNorm, "
     << "read-out Wout (no bias); MSE over t = 2..n-1. " << o.plain_steps << " steps, batch " << o.batch << ", lr "
     << o.plain_lr << " (AdamW, no weight decay, clip 1, warm-up then cosine), seed " << o.seed
     << ". Two data variants of the commuting task (the same Q as part (a)): s_1 uniform on the sphere as SPEC "
     << "§4.3 says, and s_1 = (1, .., 1)/sqrt(p) fixed (tinyloop's variant; see below).\n\n";
}

void describe_measures(std::ostringstream& md) {
  md << "\nWith s_1 uniform on the sphere the data are symmetric under s -> -s and, for each plane, under "
     << "rotation of s_1; the layer's output is a sum of terms of degree 1 (position-weighted s_j) and degree 3 "
     << "((s_t . s_j) s_j type) in the states, and every such term is uncorrelated with s_{t+1} when theta is "
     << "uniform (E[W^k] = 0 for k >= 1, and the degree-3 phases (2j - t) theta never equal (t + 1) theta). So the "
     << "best one-layer plain-token model is the zero predictor, which is what training finds. With a fixed s_1 "
     << "the degree-2 terms (s_t, s_j) -> s_{t+1} are available and the model learns.\n\n";
  md << "### Measures (definitions)\n\n"
     << "- Head products: QK_h = Wq[:, h] Wk[:, h]^T (width x width) and OV_h = Wv[:, h] Wo[h, :] Wout (width x p). "
     << "On the token subspace: Win QK_h Win^T and Win OV_h (p x p). Head overlap = Frobenius cosine "
     << "<A_h, A_g>_F / (||A_h|| ||A_g||); reported as the mean and the max of |cos| over head pairs h < g. "
     << "Orthogonal heads give 0.\n"
     << "- Rows p_0..p_{n-2} of the learned table (the last row never reaches a counted loss). Gram Toeplitz R^2: "
     << "1 - sum (G_ij - m(i-j))^2 / sum (G_ij - mean G)^2 for G_ij = p_i . p_j, m(k) the mean of G on the "
     << "diagonal i - j = k; 1 when p_i . p_j depends on i - j only (any sinusoidal table). Score Toeplitz R^2: "
     << "the same for each head's positional scores p_i QK_h p_j^T on j <= i, averaged over heads.\n"
     << "- Sinusoid fit: for a sequence x_0..x_{n-2}, the R^2 of the best a cos(w i) + b sin(w i) + c with w in "
     << "[pi/(n-1), pi]; averaged over the table's columns weighted by their variance (column fit), and over the "
     << "principal components of the centred table weighted by their variance (PC fit, basis-free). PC1+PC2 "
     << "share: the variance fraction in the top two components (a circle of positions puts it near 1). A "
     << "sinusoidal table gives 1 for the Toeplitz and sinusoid measures.\n"
     << "- Baseline: the same measures on the initial weights (random).\n\n";
}

void measures_table(std::ostringstream& md, const std::vector<PlainResult>& pr) {
  md << "| measure |";
  for (const PlainResult& r : pr) md << " " << r.name << ": init | trained |";
  md << "\n|---|";
  for (std::size_t k = 0; k < pr.size(); ++k) md << "---:|---:|";
  md << "\n";
  auto row = [&](const char* name, double PlainMeasures::*f) {
    md << "| " << name << " |";
    for (const PlainResult& r : pr)
      md << " " << text::format_fixed(r.init.*f, 3) << " | " << text::format_fixed(r.trained.*f, 3) << " |";
    md << "\n";
  };
  row("QK heads mean |cos|", &PlainMeasures::qk_mean);
  row("QK heads max |cos|", &PlainMeasures::qk_max);
  row("OV heads mean |cos|", &PlainMeasures::ov_mean);
  row("OV heads max |cos|", &PlainMeasures::ov_max);
  row("QK heads on tokens mean |cos|", &PlainMeasures::qk_tok_mean);
  row("OV heads on tokens mean |cos|", &PlainMeasures::ov_tok_mean);
  row("OV heads on tokens max |cos|", &PlainMeasures::ov_tok_max);
  row("Gram p_i.p_j Toeplitz R^2", &PlainMeasures::gram_toeplitz);
  row("positional scores Toeplitz R^2", &PlainMeasures::score_toeplitz);
  row("column sinusoid fit R^2", &PlainMeasures::column_sine);
  row("PC sinusoid fit R^2", &PlainMeasures::pc_sine);
  row("PC1+PC2 variance share", &PlainMeasures::pc2_share);
}

std::string plain_section(const std::vector<PlainResult>& pr, const Options& o, double zero_mean) {
  std::ostringstream md;
  describe_model(md, o);
  md << "| data | mean MSE, trained | zero predictor | train s |\n|---|---:|---:|---:|\n";
  for (const PlainResult& r : pr)
    md << "| " << r.name << " | " << text::format_fixed(r.mean, 5) << " | " << text::format_fixed(zero_mean, 5) << " | "
       << text::format_fixed(r.seconds, 1) << " |\n";
  describe_measures(md);
  measures_table(md, pr);
  const PlainResult& f = pr.back();
  md << "\nPrincipal components of the trained table (" << f.name << "), R^2 and frequency w of the best sinusoid:";
  for (std::size_t k = 0; k < f.trained.pc_fit.size() / 2 && k < 4; ++k)
    md << " PC" << k + 1 << " " << text::format_fixed(f.trained.pc_fit[2 * k], 3) << " (w "
       << text::format_fixed(f.trained.pc_fit[2 * k + 1], 3) << ")" << (k < 3 ? ";" : ".");
  md << "\n\nFiles: plain_tokens.csv (loss vs t), plain_positions.csv (PC scores of the trained tables), "
     << "plain_tokens.svg (loss vs t, position cosines, head overlaps, PC1/PC2 of the positions).\n\n";
  return md.str();
}

// A series of a per-position curve over the loss positions, x = t (1-based).
svg::Series curve_series(const std::vector<double>& curve, int n) {
  svg::Series s;
  for (int i = 1; i <= n - 2; ++i) {
    s.x.push_back(i + 1);
    s.y.push_back(curve[i]);
  }
  return s;
}

svg::LineChart loss_chart(const std::vector<PlainResult>& plain, const Curves& commuting, int n) {
  svg::LineChart lc;
  lc.title = "MSE per component vs t";
  lc.x_label = "t";
  lc.y_label = "MSE";
  lc.log_y = true;
  for (const PlainResult& r : plain) {
    lc.series.push_back(curve_series(r.curve, n));
    lc.series.back().label = "trained, " + r.name;
  }
  svg::Series z = curve_series(commuting.zero, n);
  z.label = "zero predictor";
  z.color = "#7f7f7f";
  z.dashed = true;
  lc.series.push_back(z);
  return lc;
}

void position_panels(svg::Figure& fig, const PlainMeasures& f, int n, int heads) {
  svg::HeatMap g;
  g.title = "fixed s_1: cos(p_i, p_j) (white <= 0)";
  g.rows = g.cols = n - 1;
  g.values = f.gram_cos;
  fig.add(g);
  svg::HeatMap h;
  h.title = "fixed s_1: |cos| of heads' OV (tokens)";
  h.rows = h.cols = heads;
  for (double v : f.ov_cos) h.values.push_back(std::fabs(v));
  for (int k = 0; k < heads; ++k) {
    h.row_labels.push_back("h" + std::to_string(k));
    h.col_labels.push_back("h" + std::to_string(k));
  }
  fig.add(h);
  svg::LineChart pcs;
  pcs.title = "fixed s_1: learned positions, PC1 and PC2";
  pcs.x_label = "position i";
  pcs.y_label = "score";
  for (int k = 0; k < 2; ++k) {
    svg::Series se;
    se.label = k == 0 ? "PC1" : "PC2";
    const std::vector<double>& v = k == 0 ? f.pc1 : f.pc2;
    for (std::size_t i = 0; i < v.size(); ++i) { se.x.push_back(double(i)); se.y.push_back(v[i]); }
    pcs.series.push_back(se);
  }
  fig.add(pcs);
  svg::LineChart circ;
  circ.title = "fixed s_1: PC2 against PC1";
  circ.x_label = "PC1";
  circ.y_label = "PC2";
  circ.legend = false;
  svg::Series cs;
  cs.x = f.pc1;
  cs.y = f.pc2;
  circ.series.push_back(cs);
  fig.add(circ);
}

std::vector<File> plain_files(const std::vector<PlainResult>& plain, const Curves& commuting, const Options& o) {
  const int n = o.n;
  std::ostringstream pc;
  pc << "t,random_s1_mse,fixed_s1_mse,zero_mse\n";
  for (int i = 1; i <= n - 2; ++i)
    pc << i + 1 << "," << plain[0].curve[i] << "," << plain[1].curve[i] << "," << commuting.zero[i] << "\n";
  std::ostringstream pp;
  pp << "position,random_s1_pc1,random_s1_pc2,fixed_s1_pc1,fixed_s1_pc2\n";
  for (std::size_t i = 0; i < plain[0].trained.pc1.size(); ++i)
    pp << i << "," << plain[0].trained.pc1[i] << "," << plain[0].trained.pc2[i] << "," << plain[1].trained.pc1[i]
       << "," << plain[1].trained.pc2[i] << "\n";
  svg::Figure fig("icar (b): plain tokens, one linear multi-head layer, learned positions", 3, 380, 300);
  fig.add(loss_chart(plain, commuting, n));
  position_panels(fig, plain[1].trained, n, o.plain_heads);
  return {{"plain_tokens.csv", pc.str()}, {"plain_positions.csv", pp.str()}, {"plain_tokens.svg", fig.render()}};
}

}  // namespace

Part run_plain_part(const Options& o, const Curves& commuting) {
  Part part;
  const std::vector<PlainResult> plain = {run_plain(false, o), run_plain(true, o)};
  part.markdown = plain_section(plain, o, commuting.zero_mean);
  part.files = plain_files(plain, commuting, o);
  for (const PlainResult& pl : plain)
    part.summary += "plain tokens, " + pl.name + ": mean MSE " + text::format_fixed(pl.mean, 5) +
                    ", OV heads mean |cos| " + text::format_fixed(pl.trained.ov_tok_mean, 3) + ", Gram Toeplitz R^2 " +
                    text::format_fixed(pl.trained.gram_toeplitz, 3) + ", PC sinusoid R^2 " +
                    text::format_fixed(pl.trained.pc_sine, 3) + "\n";
  return part;
}

}  // namespace tinyloop::study::icar
