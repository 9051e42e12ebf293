// ICAR part (a): the one-layer linear-attention transformer on augmented tokens e_t = (s_t,
// s_{t-1}), trained in one setting, against the one-step gradient-descent predictor (its step
// eta fitted by least squares on training data) and the zero predictor; and the learned matrices
// against the block structure that one GD step predicts.
#include <cmath>

#include "icar/parts.hpp"

namespace tinyloop::study::icar {

namespace {

ModelSpec linear_augmented(int p) {
  ModelSpec c;
  c.layers = 1;
  c.heads = 1;
  c.width = 2 * p;
  c.mlp = false;
  c.layernorm = false;
  c.attention = AttentionKind::linear;
  c.attn_scale = 1.0f;
  c.out_proj = false;
  c.residual = false;
  c.positions = Positions::none;
  c.input = InputKind::vectors;
  c.in_dim = 2 * p;
  c.input_proj = false;
  c.output = OutputKind::regression;
  c.out_dim = p;
  c.readout_bias = false;
  return c;
}

// The learned bilinear map A = Wq Wk^T * scale (2p x 2p: query rows, key columns) and the value
// read-out B = Wv Wout (2p x p).
struct Maps {
  int p, d;
  std::vector<double> A, B;
  explicit Maps(const Model<float>& m, int p_) : p(p_), d(2 * p_), A(d * d, 0.0), B(d * p, 0.0) {
    const auto& l = m.layout();
    const float* P = m.params();
    const float *Wq = P + l.block[0].Wq, *Wk = P + l.block[0].Wk, *Wv = P + l.block[0].Wv, *Wo = P + l.Wout;
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j)
        for (int k = 0; k < d; ++k) A[i * d + j] += double(Wq[i * d + k]) * double(Wk[j * d + k]);
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < p; ++j)
        for (int k = 0; k < d; ++k) B[i * p + j] += double(Wv[i * d + k]) * double(Wo[k * p + j]);
  }
  // Squared norm and trace of the p x p block of M (cols wide) at (r0, c0).
  double block_norm2(const std::vector<double>& M, int cols, int r0, int c0) const {
    double s = 0;
    for (int i = 0; i < p; ++i)
      for (int j = 0; j < p; ++j) s += M[(r0 + i) * cols + c0 + j] * M[(r0 + i) * cols + c0 + j];
    return s;
  }
  double trace(const std::vector<double>& M, int cols, int r0, int c0) const {
    double s = 0;
    for (int i = 0; i < p; ++i) s += M[(r0 + i) * cols + c0 + i];
    return s;
  }
};

double norm2(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return s;
}

// The learned maps against the predicted structure: A only in the (s_t, s_{j-1}) block, B only
// in the s_j block, both proportional to the identity.
std::string structure_report(const Model<float>& m, int p, double eta) {
  const Maps x(m, p);
  const int d = 2 * p;
  const double a12 = x.block_norm2(x.A, d, 0, p), b1 = x.block_norm2(x.B, p, 0, 0);
  const double a12_cos = x.trace(x.A, d, 0, p) / (std::sqrt(double(p)) * std::sqrt(a12));
  const double b1_cos = x.trace(x.B, p, 0, 0) / (std::sqrt(double(p)) * std::sqrt(b1));
  const double eff = x.trace(x.A, d, 0, p) / p * x.trace(x.B, p, 0, 0) / p;
  // (A, B) and (-A, -B) give the same predictor: signs are reported relative to B's block.
  const double sgn = x.trace(x.B, p, 0, 0) < 0 ? -1.0 : 1.0;
  std::string s;
  s += "| measure | learned | predicted (one GD step) |\n|---|---:|---:|\n";
  s += "| share of ||A||^2 in the (query s_t, key s_{j-1}) block | " + text::format_fixed(a12 / norm2(x.A), 4) +
       " | 1 |\n";
  s += "| cosine of that block with the identity (sign of B's block) | " + text::format_fixed(sgn * a12_cos, 4) +
       " | 1 |\n";
  s += "| share of ||B||^2 in the s_j (value) block | " + text::format_fixed(b1 / norm2(x.B), 4) + " | 1 |\n";
  s += "| cosine of that block with the identity (sign of B's block) | " + text::format_fixed(sgn * b1_cos, 4) +
       " | 1 |\n";
  s += "| effective step (tr A_12 / p)(tr B_1 / p) | " + text::format_fixed(eff, 5) +
       " | eta = " + text::format_fixed(eta, 5) + " |\n";
  return s;
}

// eta of the gradient-descent predictor: least squares on 16 fresh training batches.
double fit_eta(const task::IcarTask& t, Rng& data, const Options& o) {
  const int p = t.p, n = t.n, B = o.batch;
  std::vector<float> states(std::size_t(B) * n * p), targets(states.size()), g(p);
  std::vector<std::uint8_t> mask(std::size_t(B) * n);
  double num = 0, den = 0;
  for (int rep = 0; rep < 16; ++rep) {
    task::icar_batch<float>(t, data, B, states.data(), nullptr, targets.data(), mask.data());
    for (int b = 0; b < B; ++b)
      for (int i = 1; i <= n - 2; ++i) {
        task::gd_direction(states.data() + std::size_t(b) * n * p, p, i, g.data());
        const float* y = targets.data() + (std::size_t(b) * n + i) * p;
        for (int c = 0; c < p; ++c) {
          num += double(g[c]) * double(y[c]);
          den += double(g[c]) * double(g[c]);
        }
      }
  }
  return den > 0 ? num / den : 0.0;
}

// The one-step GD predictor's and the zero predictor's MSE per position on the evaluation set.
void reference_curves(const task::IcarTask& t, const Options& o, Curves& out) {
  const int p = t.p, n = t.n;
  std::vector<float> g(p);
  out.gd.assign(n, 0.0);
  out.zero.assign(n, 0.0);
  for_eval_chunks(t, o, [&](int count, const float* states, const float*, const float* targets) {
    for (int b = 0; b < count; ++b)
      for (int i = 1; i <= n - 2; ++i) {
        const float* tgt = targets + (std::size_t(b) * n + i) * p;
        task::gd_direction(states + std::size_t(b) * n * p, p, i, g.data());
        double eg = 0, ez = 0;
        for (int c = 0; c < p; ++c) {
          const double rg = out.eta * double(g[c]) - tgt[c];
          eg += rg * rg;
          ez += double(tgt[c]) * tgt[c];
        }
        out.gd[i] += eg / p;
        out.zero[i] += ez / p;
      }
  });
  for (int i = 0; i < n; ++i) {
    out.gd[i] /= o.eval_sequences;
    out.zero[i] /= o.eval_sequences;
  }
}

}  // namespace

Curves run_setting(task::Setting setting, const Options& o) {
  Curves out;
  out.setting = setting == task::Setting::commuting ? "commuting" : "non-commuting";
  const task::IcarTask t = make_task(o, setting, false);
  TrainSpec spec;
  spec.steps = o.steps;
  spec.lr = o.lr;
  spec.init_stream = 0x1417;
  spec.data_stream = 0xda7a + int(setting);
  spec.name = out.setting;
  const auto run = train(linear_augmented(o.p), t, spec, o);
  out.train_seconds = run->seconds;
  out.eta = fit_eta(t, run->data, o);  // on the training stream, after training
  out.model = run->curve;
  reference_curves(t, o, out);
  out.model_mean = curve_mean(out.model, o.n);
  out.gd_mean = curve_mean(out.gd, o.n);
  out.zero_mean = curve_mean(out.zero, o.n);
  out.structure = structure_report(run->m, o.p, out.eta);
  return out;
}

}  // namespace tinyloop::study::icar
