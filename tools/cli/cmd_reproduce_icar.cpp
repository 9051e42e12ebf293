// tinyloop reproduce icar: in-context autoregressive learning (SPEC §4.3, arXiv 2402.05787).
// Trains the one-layer linear-attention transformer on augmented tokens e_t = (s_t, s_{t-1}) in
// the commuting and the non-commuting settings, fits the step eta of the one-step
// gradient-descent predictor on training data, and writes loss versus t for both (and for the
// zero predictor), the learned matrices against the predicted block structure, a CSV and an SVG.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "args.hpp"
#include "progress.hpp"
#include "report.hpp"
#include "reproduce_family.hpp"
#include "svg.hpp"
#include "tinyloop/family.hpp"
#include "tinyloop/icar.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::cli {

namespace {

using family::FamilyBatch;
using family::FamilyCapacity;
using family::FamilyConfig;
using family::FamilyModel;
using family::FamilyStats;

struct Curves {
  std::string setting;
  std::vector<double> model, gd, zero;  // per position i (0-based), mean over sequences and components
  double eta = 0;
  double model_mean = 0, gd_mean = 0, zero_mean = 0;
  double train_seconds = 0;
  std::string structure;  // markdown lines
};

FamilyConfig linear_augmented(int p) {
  FamilyConfig c;
  c.layers = 1;
  c.heads = 1;
  c.width = 2 * p;
  c.mlp = false;
  c.layernorm = false;
  c.attention = family::AttentionKind::linear;
  c.attn_scale = 1.0f;
  c.out_proj = false;
  c.residual = false;
  c.positions = family::Positions::none;
  c.input = family::InputKind::vectors;
  c.in_dim = 2 * p;
  c.input_proj = false;
  c.output = family::OutputKind::regression;
  c.out_dim = p;
  c.readout_bias = false;
  return c;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// After `done` of `steps` equal steps: "icar NAME: step 300/3000  loss 0.01234  ETA 40s", when
// due and at the last step.
void show_step(Progress& progress, const std::string& name, std::int64_t done, std::int64_t steps, double loss,
               double seconds) {
  if (done < steps && !progress.due()) return;
  char line[160];
  std::snprintf(line, sizeof line, "icar %s: step %lld/%lld  loss %.5f  ETA %s", name.c_str(), (long long)done,
                (long long)steps, loss, format_duration(seconds / double(done) * double(steps - done)).c_str());
  progress.show(line, true);
  if (done == steps) progress.finish(true);
}

// The learned bilinear map A = Wq Wk^T * scale (2p x 2p: query rows, key columns) and the value
// read-out B = Wv Wout (2p x p), against the predicted structure: A only in the (s_t, s_{j-1})
// block, B only in the s_j block, both proportional to the identity.
std::string structure_report(const FamilyModel<float>& m, int p, double eta) {
  const auto& l = m.layout();
  const float* P = m.params();
  const int d = 2 * p;
  const float* Wq = P + l.block[0].Wq;
  const float* Wk = P + l.block[0].Wk;
  const float* Wv = P + l.block[0].Wv;
  const float* Wo = P + l.Wout;
  std::vector<double> A(d * d, 0.0), B(d * p, 0.0);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j)
      for (int k = 0; k < d; ++k) A[i * d + j] += double(Wq[i * d + k]) * double(Wk[j * d + k]);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < p; ++j)
      for (int k = 0; k < d; ++k) B[i * p + j] += double(Wv[i * d + k]) * double(Wo[k * p + j]);
  auto block_norm2 = [&](const std::vector<double>& M, int cols, int r0, int c0) {
    double s = 0;
    for (int i = 0; i < p; ++i)
      for (int j = 0; j < p; ++j) s += M[(r0 + i) * cols + c0 + j] * M[(r0 + i) * cols + c0 + j];
    return s;
  };
  auto trace = [&](const std::vector<double>& M, int cols, int r0, int c0) {
    double s = 0;
    for (int i = 0; i < p; ++i) s += M[(r0 + i) * cols + c0 + i];
    return s;
  };
  double a_total = 0;
  for (double v : A) a_total += v * v;
  double b_total = 0;
  for (double v : B) b_total += v * v;
  const double a12 = block_norm2(A, d, 0, p), b1 = block_norm2(B, p, 0, 0);
  const double a12_cos = trace(A, d, 0, p) / (std::sqrt(double(p)) * std::sqrt(a12));
  const double b1_cos = trace(B, p, 0, 0) / (std::sqrt(double(p)) * std::sqrt(b1));
  const double eff = trace(A, d, 0, p) / p * trace(B, p, 0, 0) / p;
  // (A, B) and (-A, -B) give the same predictor: signs are reported relative to B's block.
  const double sgn = trace(B, p, 0, 0) < 0 ? -1.0 : 1.0;
  std::string s;
  s += "| measure | learned | predicted (one GD step) |\n|---|---:|---:|\n";
  s += "| share of ||A||^2 in the (query s_t, key s_{j-1}) block | " + fmt("%.4f", a12 / a_total) + " | 1 |\n";
  s += "| cosine of that block with the identity (sign of B's block) | " + fmt("%.4f", sgn * a12_cos) + " | 1 |\n";
  s += "| share of ||B||^2 in the s_j (value) block | " + fmt("%.4f", b1 / b_total) + " | 1 |\n";
  s += "| cosine of that block with the identity (sign of B's block) | " + fmt("%.4f", sgn * b1_cos) + " | 1 |\n";
  s += "| effective step (tr A_12 / p)(tr B_1 / p) | " + fmt("%.5f", eff) + " | eta = " + fmt("%.5f", eta) + " |\n";
  return s;
}

Curves run_setting(icar::Setting setting, const IcarOptions& o) {
  Curves out;
  out.setting = setting == icar::Setting::commuting ? "commuting" : "non-commuting";
  icar::IcarTask task;
  task.p = o.p;
  task.n = o.n;
  task.setting = setting;
  Rng task_rng(o.seed, 0x7a5c);
  icar::init_task(&task, task_rng);
  const int p = o.p, n = o.n, B = o.batch, d = 2 * p;

  const FamilyConfig cfg = linear_augmented(p);
  OptimConfig opt;
  opt.lr = o.lr;
  opt.weight_decay = 0.0f;
  opt.clip_norm = 1.0f;
  opt.warmup_steps = std::min<int>(100, int(o.steps / 10));
  opt.schedule = Schedule::cosine;
  opt.min_lr_ratio = 0.05f;
  const FamilyCapacity cap{n, std::max(B, o.eval_batch), 1};
  std::vector<unsigned char> buffer(FamilyModel<float>::plan(cfg, cap).total);
  FamilyModel<float> m;
  Status st = m.init(cfg, opt, cap, buffer.data(), buffer.size());
  if (!st) runtime_error(st.message());
  Rng init_rng(o.seed, 0x1417);
  m.init_weights(init_rng);

  std::vector<float> inputs(std::size_t(cap.max_batch) * n * d), targets(std::size_t(cap.max_batch) * n * p),
      states(std::size_t(cap.max_batch) * n * p);
  std::vector<std::uint8_t> mask(std::size_t(cap.max_batch) * n);
  FamilyBatch<float> batch;
  batch.inputs = inputs.data();
  batch.targets = targets.data();
  batch.mask = mask.data();
  batch.len = n;

  // Training.
  Rng data_rng(o.seed, 0xda7a + int(setting));
  const auto t0 = std::chrono::steady_clock::now();
  Progress progress(o.verbose);
  for (std::int64_t s = 0; s < o.steps; ++s) {
    icar::icar_batch<float>(task, data_rng, B, nullptr, inputs.data(), targets.data(), mask.data());
    batch.batch = B;
    FamilyStats stats;
    st = m.train_step(batch, o.steps, &stats);
    if (!st) runtime_error(st.message());
    show_step(progress, out.setting, s + 1, o.steps, stats.loss,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  out.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // eta of the gradient-descent predictor: least squares on fresh training data.
  std::vector<double> g(p);
  std::vector<float> gf(p);
  double num = 0, den = 0;
  for (int rep = 0; rep < 16; ++rep) {
    icar::icar_batch<float>(task, data_rng, B, states.data(), nullptr, targets.data(), mask.data());
    for (int b = 0; b < B; ++b)
      for (int i = 1; i <= n - 2; ++i) {
        icar::gd_direction(states.data() + std::size_t(b) * n * p, p, i, gf.data());
        const float* y = targets.data() + (std::size_t(b) * n + i) * p;
        for (int c = 0; c < p; ++c) {
          num += double(gf[c]) * double(y[c]);
          den += double(gf[c]) * double(gf[c]);
        }
      }
  }
  out.eta = den > 0 ? num / den : 0.0;

  // Evaluation on a fixed set.
  out.model.assign(n, 0.0);
  out.gd.assign(n, 0.0);
  out.zero.assign(n, 0.0);
  Rng eval_rng(o.eval_seed, 0xe7a1 + int(setting));
  int seen = 0;
  while (seen < o.eval_sequences) {
    const int eb = std::min(o.eval_batch, o.eval_sequences - seen);
    icar::icar_batch<float>(task, eval_rng, eb, states.data(), inputs.data(), targets.data(), mask.data());
    batch.batch = eb;
    FamilyStats stats;
    st = m.evaluate(batch, &stats);
    if (!st) runtime_error(st.message());
    for (int b = 0; b < eb; ++b) {
      const float* y = m.outputs(b);
      for (int i = 1; i <= n - 2; ++i) {
        const float* tgt = targets.data() + (std::size_t(b) * n + i) * p;
        icar::gd_direction(states.data() + std::size_t(b) * n * p, p, i, gf.data());
        double em = 0, eg = 0, ez = 0;
        for (int c = 0; c < p; ++c) {
          const double rm = double(y[std::size_t(i) * p + c]) - tgt[c];
          const double rg = out.eta * double(gf[c]) - tgt[c];
          em += rm * rm;
          eg += rg * rg;
          ez += double(tgt[c]) * tgt[c];
        }
        out.model[i] += em / p;
        out.gd[i] += eg / p;
        out.zero[i] += ez / p;
      }
    }
    seen += eb;
  }
  for (int i = 0; i < n; ++i) {
    out.model[i] /= o.eval_sequences;
    out.gd[i] /= o.eval_sequences;
    out.zero[i] /= o.eval_sequences;
  }
  for (int i = 1; i <= n - 2; ++i) {
    out.model_mean += out.model[i] / (n - 2);
    out.gd_mean += out.gd[i] / (n - 2);
    out.zero_mean += out.zero[i] / (n - 2);
  }
  out.structure = structure_report(m, p, out.eta);
  return out;
}

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
      s << "<text x='" << px + 18 << "' y='" << Y(v) + 4 << "'>" << fmt("%.0e", v) << "</text>\n";
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


// ---- (b) and (c): models trained by one shared loop ------------------------------------------

enum class Tokens { augmented, plain };

struct Run {
  std::vector<unsigned char> buffer;
  FamilyModel<float> m;
  std::vector<double> init_params;  // weights right after initialisation (the measures' baseline)
  double seconds = 0;
  double final_loss = 0;
};

void fill_batch(const icar::IcarTask& task, Rng& rng, int B, Tokens tok, std::vector<float>& states,
                std::vector<float>& aug, std::vector<float>& inputs, std::vector<float>& targets,
                std::vector<std::uint8_t>& mask) {
  const int p = task.p, n = task.n;
  icar::icar_batch<float>(task, rng, B, states.data(), aug.data(), targets.data(), mask.data());
  if (tok == Tokens::augmented) {
    std::copy(aug.begin(), aug.begin() + std::size_t(B) * n * 2 * p, inputs.begin());
  } else {
    for (std::size_t k = 0; k < std::size_t(B) * n; ++k)
      for (int c = 0; c < p; ++c) inputs[k * p + c] = aug[k * 2 * p + c];
  }
}

// Trains `cfg` on `task` and returns the model; curve gets the evaluation MSE per position.
std::unique_ptr<Run> train_run(const FamilyConfig& cfg, const icar::IcarTask& task, Tokens tok, std::int64_t steps,
                               int B, float lr, std::uint64_t seed, int stream, const IcarOptions& o,
                               const std::string& name, std::vector<double>* curve) {
  auto r = std::make_unique<Run>();
  const int p = task.p, n = task.n;
  OptimConfig opt;
  opt.lr = lr;
  opt.weight_decay = 0.0f;
  opt.clip_norm = 1.0f;
  opt.warmup_steps = std::min<int>(100, int(steps / 10));
  opt.schedule = Schedule::cosine;
  opt.min_lr_ratio = 0.05f;
  const FamilyCapacity cap{n, std::max(B, o.eval_batch), 1};
  r->buffer.resize(FamilyModel<float>::plan(cfg, cap).total);
  Status st = r->m.init(cfg, opt, cap, r->buffer.data(), r->buffer.size());
  if (!st) runtime_error(st.message());
  Rng init_rng(seed, 0x1417 + stream);
  r->m.init_weights(init_rng);
  // Learned positions start at N(0, 0.1^2) (the family's default N(0, 1) would dwarf unit states).
  if (r->m.layout().pos != family::kAbsent)
    for (std::size_t i = 0; i < std::size_t(cfg.max_len) * cfg.width; ++i) r->m.params()[r->m.layout().pos + i] *= 0.1f;
  r->init_params.assign(r->m.params(), r->m.params() + r->m.param_count());

  const int w = tok == Tokens::augmented ? 2 * p : p;
  const std::size_t cb = std::size_t(cap.max_batch);
  std::vector<float> states(cb * n * p), aug(cb * n * 2 * p), inputs(cb * n * w), targets(cb * n * p);
  std::vector<std::uint8_t> mask(cb * n);
  FamilyBatch<float> batch;
  batch.inputs = inputs.data();
  batch.targets = targets.data();
  batch.mask = mask.data();
  batch.len = n;
  Rng data_rng(seed, 0xda7a + 16 * stream);
  const auto t0 = std::chrono::steady_clock::now();
  Progress progress(o.verbose);
  for (std::int64_t s = 0; s < steps; ++s) {
    fill_batch(task, data_rng, B, tok, states, aug, inputs, targets, mask);
    batch.batch = B;
    FamilyStats stats;
    st = r->m.train_step(batch, steps, &stats);
    if (!st) runtime_error(st.message());
    r->final_loss = stats.loss;
    show_step(progress, name, s + 1, steps, stats.loss,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  r->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  curve->assign(n, 0.0);
  Rng eval_rng(o.eval_seed, 0xe7a1 + int(task.setting));  // the same sequences as part (a)
  int seen = 0;
  while (seen < o.eval_sequences) {
    const int eb = std::min(o.eval_batch, o.eval_sequences - seen);
    fill_batch(task, eval_rng, eb, tok, states, aug, inputs, targets, mask);
    batch.batch = eb;
    FamilyStats stats;
    st = r->m.evaluate(batch, &stats);
    if (!st) runtime_error(st.message());
    for (int b = 0; b < eb; ++b) {
      const float* y = r->m.outputs(b);
      for (int i = 1; i <= n - 2; ++i) {
        const float* tgt = targets.data() + (std::size_t(b) * n + i) * p;
        double e = 0;
        for (int c = 0; c < p; ++c) e += (double(y[std::size_t(i) * p + c]) - tgt[c]) * (double(y[std::size_t(i) * p + c]) - tgt[c]);
        (*curve)[i] += e / p;
      }
    }
    seen += eb;
  }
  for (double& v : *curve) v /= o.eval_sequences;
  return r;
}

double curve_mean(const std::vector<double>& c, int n) {
  double s = 0;
  for (int i = 1; i <= n - 2; ++i) s += c[i] / (n - 2);
  return s;
}

// Symmetric eigen-decomposition (cyclic Jacobi), eigenvalues descending; V columns = vectors.
void jacobi_eigen(std::vector<double> A, int d, std::vector<double>* values, std::vector<double>* V) {
  V->assign(std::size_t(d) * d, 0.0);
  for (int i = 0; i < d; ++i) (*V)[i * d + i] = 1.0;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (int i = 0; i < d; ++i)
      for (int j = i + 1; j < d; ++j) off += A[i * d + j] * A[i * d + j];
    if (off < 1e-30) break;
    for (int pp = 0; pp < d; ++pp)
      for (int q = pp + 1; q < d; ++q) {
        if (std::fabs(A[pp * d + q]) < 1e-300) continue;
        const double theta = (A[q * d + q] - A[pp * d + pp]) / (2 * A[pp * d + q]);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < d; ++k) {
          const double akp = A[k * d + pp], akq = A[k * d + q];
          A[k * d + pp] = c * akp - s * akq;
          A[k * d + q] = s * akp + c * akq;
        }
        for (int k = 0; k < d; ++k) {
          const double apk = A[pp * d + k], aqk = A[q * d + k];
          A[pp * d + k] = c * apk - s * aqk;
          A[q * d + k] = s * apk + c * aqk;
        }
        for (int k = 0; k < d; ++k) {
          const double vkp = (*V)[k * d + pp], vkq = (*V)[k * d + q];
          (*V)[k * d + pp] = c * vkp - s * vkq;
          (*V)[k * d + q] = s * vkp + c * vkq;
        }
      }
  }
  std::vector<int> order(d);
  for (int i = 0; i < d; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int a, int b) { return A[a * d + a] > A[b * d + b]; });
  std::vector<double> Vs(std::size_t(d) * d);
  values->assign(d, 0.0);
  for (int k = 0; k < d; ++k) {
    (*values)[k] = A[order[k] * d + order[k]];
    for (int i = 0; i < d; ++i) Vs[i * d + k] = (*V)[i * d + order[k]];
  }
  *V = Vs;
}

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

PlainMeasures plain_measures(const FamilyModel<float>& m, const double* W, int p, int n) {
  PlainMeasures r;
  const auto& l = m.layout();
  const FamilyConfig& c = m.config();
  const int d = c.width, H = c.heads, hd = c.head_width(), F = H * hd;
  const double* Wq = W + l.block[0].Wq;
  const double* Wk = W + l.block[0].Wk;
  const double* Wv = W + l.block[0].Wv;
  const double* Wo = W + l.block[0].Wo;
  const double* Wout = W + l.Wout;
  const double* Win = W + l.Win;
  // QK_h = Wq[:, h] Wk[:, h]^T (d x d); OV_h = Wv[:, h] Wo[h, :] Wout (d x p).
  std::vector<double> qk(std::size_t(H) * d * d, 0.0), ov(std::size_t(H) * d * p, 0.0), vo(std::size_t(H) * d * d, 0.0);
  for (int h = 0; h < H; ++h) {
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) {
        double s = 0, t = 0;
        for (int k = 0; k < hd; ++k) {
          s += Wq[i * F + h * hd + k] * Wk[j * F + h * hd + k];
          t += Wv[i * F + h * hd + k] * Wo[(h * hd + k) * d + j];
        }
        qk[(std::size_t(h) * d + i) * d + j] = s;
        vo[(std::size_t(h) * d + i) * d + j] = t;
      }
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < p; ++j) {
        double s = 0;
        for (int k = 0; k < d; ++k) s += vo[(std::size_t(h) * d + i) * d + k] * Wout[k * p + j];
        ov[(std::size_t(h) * d + i) * p + j] = s;
      }
  }
  r.qk_mean = icar::pairwise_cosines(qk.data(), H, std::size_t(d) * d, nullptr, &r.qk_max);
  r.ov_mean = icar::pairwise_cosines(ov.data(), H, std::size_t(d) * p, nullptr, &r.ov_max);
  // Token subspace: Win QK_h Win^T (p x p) and Win OV_h (p x p).
  std::vector<double> qkt(std::size_t(H) * p * p, 0.0), ovt(std::size_t(H) * p * p, 0.0);
  for (int h = 0; h < H; ++h)
    for (int a = 0; a < p; ++a)
      for (int b = 0; b < p; ++b) {
        double s = 0, t = 0;
        for (int i = 0; i < d; ++i) {
          t += Win[a * d + i] * ov[(std::size_t(h) * d + i) * p + b];
          for (int j = 0; j < d; ++j) s += Win[a * d + i] * qk[(std::size_t(h) * d + i) * d + j] * Win[b * d + j];
        }
        qkt[(std::size_t(h) * p + a) * p + b] = s;
        ovt[(std::size_t(h) * p + a) * p + b] = t;
      }
  r.qk_tok_mean = icar::pairwise_cosines(qkt.data(), H, std::size_t(p) * p, nullptr, &r.qk_tok_max);
  r.ov_cos.assign(std::size_t(H) * H, 0.0);
  r.ov_tok_mean = icar::pairwise_cosines(ovt.data(), H, std::size_t(p) * p, r.ov_cos.data(), &r.ov_tok_max);

  // Positions 0..n-2 (the last row never reaches a counted loss and keeps its initial value).
  const int np = n - 1;
  const double* P = W + l.pos;
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
  r.gram_toeplitz = icar::toeplitz_r2(G.data(), np, false);
  // Each head's positional scores p_i QK_h p_j^T on the causal triangle, averaged over heads.
  for (int h = 0; h < H; ++h) {
    for (int i = 0; i < np; ++i)
      for (int j = 0; j < np; ++j) {
        double s = 0;
        for (int a = 0; a < d; ++a) {
          double t = 0;
          for (int b = 0; b < d; ++b) t += qk[(std::size_t(h) * d + a) * d + b] * P[j * d + b];
          s += P[i * d + a] * t;
        }
        S[std::size_t(i) * np + j] = s;
      }
    r.score_toeplitz += icar::toeplitz_r2(S.data(), np, true) / H;
  }
  r.column_sine = icar::sinusoid_r2(P, np, d, nullptr);
  // Principal components of the centred table; sinusoid fit of each component's scores.
  std::vector<double> Pc(std::size_t(np) * d), C(std::size_t(d) * d, 0.0), vals, V;
  for (int k = 0; k < d; ++k) {
    double mean = 0;
    for (int i = 0; i < np; ++i) mean += P[i * d + k] / np;
    for (int i = 0; i < np; ++i) Pc[std::size_t(i) * d + k] = P[i * d + k] - mean;
  }
  for (int a = 0; a < d; ++a)
    for (int b = 0; b < d; ++b)
      for (int i = 0; i < np; ++i) C[a * d + b] += Pc[std::size_t(i) * d + a] * Pc[std::size_t(i) * d + b];
  jacobi_eigen(C, d, &vals, &V);
  std::vector<double> scores(std::size_t(np) * d, 0.0);
  for (int i = 0; i < np; ++i)
    for (int k = 0; k < d; ++k)
      for (int a = 0; a < d; ++a) scores[std::size_t(i) * d + k] += Pc[std::size_t(i) * d + a] * V[a * d + k];
  r.pc_fit.assign(std::size_t(2) * d, 0.0);
  r.pc_sine = icar::sinusoid_r2(scores.data(), np, d, r.pc_fit.data());
  double tot = 0;
  for (double v : vals) tot += std::max(v, 0.0);
  r.pc2_share = tot > 0 ? (std::max(vals[0], 0.0) + std::max(vals[1], 0.0)) / tot : 0.0;
  for (int i = 0; i < np; ++i) {
    r.pc1.push_back(scores[std::size_t(i) * d + 0]);
    r.pc2.push_back(scores[std::size_t(i) * d + 1]);
  }
  return r;
}

FamilyConfig plain_linear(int p, int n, int heads) {
  FamilyConfig c;
  c.layers = 1;
  c.heads = heads;
  c.width = 2 * p;
  c.head_dim = std::max(1, 2 * p / heads);
  c.mlp = false;
  c.layernorm = false;
  c.attention = family::AttentionKind::linear;
  c.attn_scale = 1.0f;
  c.out_proj = true;
  c.residual = false;
  c.positions = family::Positions::learned;
  c.max_len = n;
  c.input = family::InputKind::vectors;
  c.in_dim = p;
  c.input_proj = true;
  c.output = family::OutputKind::regression;
  c.out_dim = p;
  c.readout_bias = false;
  return c;
}

FamilyConfig softmax_stack(int p, const IcarOptions& o) {
  FamilyConfig c;
  c.layers = o.softmax_layers;
  c.heads = o.softmax_heads;
  c.width = o.softmax_width;
  c.mlp = true;
  c.layernorm = true;
  c.attention = family::AttentionKind::softmax;
  c.positions = family::Positions::none;
  c.input = family::InputKind::vectors;
  c.in_dim = 2 * p;
  c.input_proj = true;
  c.output = family::OutputKind::regression;
  c.out_dim = p;
  c.readout_bias = true;
  return c;
}

struct PlainResult {
  std::string name;
  std::vector<double> curve;
  double mean = 0, seconds = 0;
  PlainMeasures init, trained;
};

PlainResult run_plain(bool fixed_start, const IcarOptions& o) {
  PlainResult r;
  r.name = fixed_start ? "fixed s_1" : "random s_1 (SPEC)";
  icar::IcarTask task;
  task.p = o.p;
  task.n = o.n;
  task.setting = icar::Setting::commuting;
  task.fixed_start = fixed_start;
  Rng task_rng(o.seed, 0x7a5c);  // the same Q as part (a)'s commuting task
  icar::init_task(&task, task_rng);
  const FamilyConfig cfg = plain_linear(o.p, o.n, o.plain_heads);
  auto run = train_run(cfg, task, Tokens::plain, o.plain_steps, o.batch, o.plain_lr, o.seed, fixed_start ? 3 : 2, o,
                       std::string("plain tokens, ") + r.name, &r.curve);
  r.mean = curve_mean(r.curve, o.n);
  r.seconds = run->seconds;
  std::vector<double> trained(run->m.params(), run->m.params() + run->m.param_count());
  r.init = plain_measures(run->m, run->init_params.data(), o.p, o.n);
  r.trained = plain_measures(run->m, trained.data(), o.p, o.n);
  return r;
}

std::string plain_section(const std::vector<PlainResult>& pr, const IcarOptions& o, double zero_mean) {
  std::ostringstream md;
  const FamilyConfig cfg = plain_linear(o.p, o.n, o.plain_heads);
  md << "## (b) Plain tokens: one linear multi-head layer with learned positions (commuting setting)\n\n"
     << "Model: x_t = s_t Win + bin + pos[t] (width " << cfg.width << ", learned positions initialised N(0, 0.1^2)), one "
     << "layer of linear attention with " << cfg.heads << " heads of width " << cfg.head_width()
     << " (scores x_t Wq_h . x_j Wk_h, no softmax, scale 1), output projection Wo, no residual, MLP or LayerNorm, "
     << "read-out Wout (no bias); MSE over t = 2..n-1. " << o.plain_steps << " steps, batch " << o.batch << ", lr "
     << o.plain_lr << " (AdamW, no weight decay, clip 1, warm-up then cosine), seed " << o.seed
     << ". Two data variants of the commuting task (the same Q as part (a)): s_1 uniform on the sphere as SPEC "
     << "§4.3 says, and s_1 = (1, .., 1)/sqrt(p) fixed (tinyloop's variant; see below).\n\n";
  md << "| data | mean MSE, trained | zero predictor | train s |\n|---|---:|---:|---:|\n";
  for (const PlainResult& r : pr)
    md << "| " << r.name << " | " << fmt("%.5f", r.mean) << " | " << fmt("%.5f", zero_mean) << " | "
       << fmt("%.1f", r.seconds) << " |\n";
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
  md << "| measure |";
  for (const PlainResult& r : pr) md << " " << r.name << ": init | trained |";
  md << "\n|---|";
  for (std::size_t k = 0; k < pr.size(); ++k) md << "---:|---:|";
  md << "\n";
  auto row = [&](const char* name, double PlainMeasures::*f) {
    md << "| " << name << " |";
    for (const PlainResult& r : pr) md << " " << fmt("%.3f", r.init.*f) << " | " << fmt("%.3f", r.trained.*f) << " |";
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
  const PlainResult& f = pr.back();
  md << "\nPrincipal components of the trained table (" << f.name << "), R^2 and frequency w of the best sinusoid:";
  for (std::size_t k = 0; k < f.trained.pc_fit.size() / 2 && k < 4; ++k)
    md << " PC" << k + 1 << " " << fmt("%.3f", f.trained.pc_fit[2 * k]) << " (w " << fmt("%.3f", f.trained.pc_fit[2 * k + 1])
       << ")" << (k < 3 ? ";" : ".");
  md << "\n\nFiles: plain_tokens.csv (loss vs t), plain_positions.csv (PC scores of the trained tables), "
     << "plain_tokens.svg (loss vs t, position cosines, head overlaps, PC1/PC2 of the positions).\n\n";
  return md.str();
}

}  // namespace

IcarReport reproduce_icar(const IcarOptions& o) {
  IcarReport r;
  std::vector<Curves> all;
  for (icar::Setting s : {icar::Setting::commuting, icar::Setting::noncommuting}) all.push_back(run_setting(s, o));
  const int n = o.n;
  std::ostringstream csv;
  csv << "setting,t,model_mse,gd_mse,zero_mse\n";
  for (const Curves& c : all)
    for (int i = 1; i <= n - 2; ++i)
      csv << c.setting << "," << i + 1 << "," << c.model[i] << "," << c.gd[i] << "," << c.zero[i] << "\n";
  r.csv = csv.str();
  r.svg = svg_chart(all, n);
  std::ostringstream md;
  md << "# tinyloop reproduce icar\n\n"
     << "In-context autoregressive learning (SPEC §4.3, arXiv 2402.05787): s_{t+1} = W s_t with W orthogonal, p = "
     << o.p << ", n = " << o.n << ". Model: one layer of linear attention (no softmax, MLP, LayerNorm, residual or "
     << "output projection) on augmented tokens e_t = (s_t, s_{t-1}), read out by Wout (2p x p); MSE over t = 2..n-1. "
     << "Reference: one gradient-descent step from W_0 = 0, s_hat_{t+1} = eta sum_{i<t} s_{i+1} s_i^T s_t, eta "
     << "fitted by least squares on " << 16 * o.batch << " fresh training sequences.\n\n"
     << "Command: `tinyloop reproduce icar --steps " << o.steps << " --batch " << o.batch << " --lr " << o.lr
     << " --seed " << o.seed << " --p " << o.p << " --n " << o.n << " --eval-sequences " << o.eval_sequences
     << " --plain-steps " << o.plain_steps << " --plain-heads " << o.plain_heads << " --softmax-steps " << o.softmax_steps
     << " --softmax-layers " << o.softmax_layers << "` (AdamW, no weight decay, clip 1, warm-up then cosine). Evaluation: " << o.eval_sequences
     << " sequences from evaluation seed " << o.eval_seed << ".\n\n";
  md << "## Loss (MSE per component) versus t\n\n| t |";
  for (const Curves& c : all) md << " " << c.setting << " model | " << c.setting << " GD | " << c.setting << " zero |";
  md << "\n|---:|";
  for (std::size_t k = 0; k < all.size(); ++k) md << "---:|---:|---:|";
  md << "\n";
  std::vector<int> ts = {2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 40, n - 1};
  for (int t : ts) {
    if (t < 2 || t > n - 1) continue;
    md << "| " << t << " |";
    for (const Curves& c : all) md << " " << fmt("%.5f", c.model[t - 1]) << " | " << fmt("%.5f", c.gd[t - 1]) << " | " << fmt("%.5f", c.zero[t - 1]) << " |";
    md << "\n";
  }
  md << "| mean |";
  for (const Curves& c : all) md << " " << fmt("%.5f", c.model_mean) << " | " << fmt("%.5f", c.gd_mean) << " | " << fmt("%.5f", c.zero_mean) << " |";
  md << "\n\n";
  for (const Curves& c : all) {
    md << "## " << c.setting << ": learned matrices against the predicted structure\n\n"
       << "Training took " << fmt("%.1f", c.train_seconds) << " s. Fitted eta = " << fmt("%.5f", c.eta) << ".\n\n"
       << c.structure << "\n";
  }
  md << "Files: loss_vs_t.csv (every t), loss_vs_t.svg.\n\n";

  // (b) plain tokens with learned positions, commuting setting.
  std::vector<PlainResult> plain;
  if (o.plain_steps > 0) {
    plain.push_back(run_plain(false, o));
    plain.push_back(run_plain(true, o));
    md << plain_section(plain, o, all[0].zero_mean);
    std::ostringstream pc;
    pc << "t";
    for (const PlainResult& pl : plain) pc << "," << (pl.name == plain[0].name ? "random_s1" : "fixed_s1") << "_mse";
    pc << ",zero_mse\n";
    for (int i = 1; i <= n - 2; ++i) {
      pc << i + 1;
      for (const PlainResult& pl : plain) pc << "," << pl.curve[i];
      pc << "," << all[0].zero[i] << "\n";
    }
    r.files.push_back({"plain_tokens.csv", pc.str()});
    std::ostringstream pp;
    pp << "position,random_s1_pc1,random_s1_pc2,fixed_s1_pc1,fixed_s1_pc2\n";
    for (std::size_t i = 0; i < plain[0].trained.pc1.size(); ++i)
      pp << i << "," << plain[0].trained.pc1[i] << "," << plain[0].trained.pc2[i] << "," << plain[1].trained.pc1[i]
         << "," << plain[1].trained.pc2[i] << "\n";
    r.files.push_back({"plain_positions.csv", pp.str()});
    svg::Figure fig("icar (b): plain tokens, one linear multi-head layer, learned positions", 3, 380, 300);
    svg::LineChart lc;
    lc.title = "MSE per component vs t";
    lc.x_label = "t";
    lc.y_label = "MSE";
    lc.log_y = true;
    for (std::size_t k = 0; k < plain.size(); ++k) {
      svg::Series se;
      se.label = "trained, " + plain[k].name;
      for (int i = 1; i <= n - 2; ++i) { se.x.push_back(i + 1); se.y.push_back(plain[k].curve[i]); }
      lc.series.push_back(se);
    }
    svg::Series z;
    z.label = "zero predictor";
    z.color = "#7f7f7f";
    z.dashed = true;
    for (int i = 1; i <= n - 2; ++i) { z.x.push_back(i + 1); z.y.push_back(all[0].zero[i]); }
    lc.series.push_back(z);
    fig.add(lc);
    const PlainMeasures& f = plain[1].trained;
    svg::HeatMap g;
    g.title = "fixed s_1: cos(p_i, p_j) (white <= 0)";
    g.rows = g.cols = n - 1;
    g.values = f.gram_cos;
    fig.add(g);
    svg::HeatMap h;
    h.title = "fixed s_1: |cos| of heads' OV (tokens)";
    h.rows = h.cols = o.plain_heads;
    for (double v : f.ov_cos) h.values.push_back(std::fabs(v));
    for (int k = 0; k < o.plain_heads; ++k) { h.row_labels.push_back("h" + std::to_string(k)); h.col_labels.push_back("h" + std::to_string(k)); }
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
    r.files.push_back({"plain_tokens.svg", fig.render()});
  }

  // (c) non-commuting: stacked softmax layers next to the linear layer and one GD step of (a).
  if (o.softmax_steps > 0) {
    icar::IcarTask task;
    task.p = o.p;
    task.n = o.n;
    task.setting = icar::Setting::noncommuting;
    Rng task_rng(o.seed, 0x7a5c);
    icar::init_task(&task, task_rng);
    const FamilyConfig cfg = softmax_stack(o.p, o);
    std::vector<double> curve;
    auto run = train_run(cfg, task, Tokens::augmented, o.softmax_steps, o.batch, o.softmax_lr, o.seed, 4, o,
                         "non-commuting, softmax stack", &curve);
    const Curves& lin = all[1];
    const double mean = curve_mean(curve, n);
    md << "## (c) Non-commuting setting: stacked softmax layers\n\n"
       << "Model: augmented tokens e_t = (s_t, s_{t-1}) projected to width " << cfg.width << " (Win, bin), "
       << cfg.layers << " stacked pre-LayerNorm layers (softmax attention, " << cfg.heads << " heads, scale "
       << "1/sqrt(head width), residual, GELU MLP of width " << cfg.hidden_width() << "), no positions, final "
       << "LayerNorm, read-out Wout + bout; " << run->m.param_count() << " parameters. " << o.softmax_steps
       << " steps, batch " << o.batch << ", lr " << o.softmax_lr << " (AdamW, no weight decay, clip 1, warm-up then "
       << "cosine), seed " << o.seed << ", training took " << fmt("%.1f", run->seconds) << " s. Evaluated on the same "
       << o.eval_sequences << " non-commuting sequences as part (a); the linear layer and the one-step GD predictor "
       << "(eta = " << fmt("%.5f", lin.eta) << ") are part (a)'s.\n\n"
       << "| t | softmax stack | linear layer (a) | one GD step | zero |\n|---:|---:|---:|---:|---:|\n";
    for (int t : ts) {
      if (t < 2 || t > n - 1) continue;
      md << "| " << t << " | " << fmt("%.5f", curve[t - 1]) << " | " << fmt("%.5f", lin.model[t - 1]) << " | "
         << fmt("%.5f", lin.gd[t - 1]) << " | " << fmt("%.5f", lin.zero[t - 1]) << " |\n";
    }
    md << "| mean | " << fmt("%.5f", mean) << " | " << fmt("%.5f", lin.model_mean) << " | " << fmt("%.5f", lin.gd_mean)
       << " | " << fmt("%.5f", lin.zero_mean) << " |\n\nFiles: noncommuting_loss_vs_t.csv, noncommuting_loss_vs_t.svg.\n";
    std::ostringstream nc;
    nc << "t,softmax_mse,linear_mse,gd_mse,zero_mse\n";
    for (int i = 1; i <= n - 2; ++i)
      nc << i + 1 << "," << curve[i] << "," << lin.model[i] << "," << lin.gd[i] << "," << lin.zero[i] << "\n";
    r.files.push_back({"noncommuting_loss_vs_t.csv", nc.str()});
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
    r.files.push_back({"noncommuting_loss_vs_t.svg", fig.render()});
    r.summary += "non-commuting softmax stack: mean MSE " + fmt("%.5f", mean) + ", train " + fmt("%.1f", run->seconds) + " s\n";
  }
  for (const PlainResult& pl : plain)
    r.summary += "plain tokens, " + pl.name + ": mean MSE " + fmt("%.5f", pl.mean) + ", OV heads mean |cos| " +
                 fmt("%.3f", pl.trained.ov_tok_mean) + ", Gram Toeplitz R^2 " + fmt("%.3f", pl.trained.gram_toeplitz) +
                 ", PC sinusoid R^2 " + fmt("%.3f", pl.trained.pc_sine) + "\n";
  r.markdown = md.str();
  for (const Curves& c : all) {
    r.summary += c.setting + ": mean MSE model " + fmt("%.5f", c.model_mean) + ", GD " + fmt("%.5f", c.gd_mean) +
                 ", zero " + fmt("%.5f", c.zero_mean) + ", eta " + fmt("%.4f", c.eta) + ", train " +
                 fmt("%.1f", c.train_seconds) + " s\n";
  }
  return r;
}

const CommandSpec& reproduce_icar_spec() {
  static const CommandSpec spec{
      "reproduce icar",
      "tinyloop reproduce icar [options]",
      "in-context autoregressive learning: trained linear transformer vs one gradient-descent step",
      {
          {"--steps", "N", "training steps per setting (default 3000)"},
          {"--batch", "N", "sequences per step (default 64)"},
          {"--lr", "X", "peak learning rate (default 0.01)"},
          {"--seed", "S", "task, initialisation and data seed (default 1)"},
          {"--p", "P", "state dimension, even (default 4)"},
          {"--n", "N", "sequence length (default 50)"},
          {"--eval-sequences", "N", "evaluation sequences (default 2048)"},
          {"--plain-steps", "N", "(b) steps of the plain-token multi-head model, per data variant (default 1500; 0 skips)"},
          {"--plain-heads", "H", "(b) heads of the plain-token model (default 4)"},
          {"--softmax-steps", "N", "(c) steps of the non-commuting softmax stack (default 1000; 0 skips)"},
          {"--softmax-layers", "L", "(c) layers of the softmax stack (default 2)"},
          {"--out", "DIR", "report folder (default runs/reproduce-icar)"},
          {"--quiet", nullptr, "no progress lines"},
      },
      "Writes DIR/report.md (loss versus t for the trained model, the fitted one-step GD predictor and\n"
      "the zero predictor, in the commuting and non-commuting settings; learned matrices against\n"
      "the predicted structure), DIR/loss_vs_t.csv and DIR/loss_vs_t.svg; (b) plain tokens with learned\n"
      "positions: head overlaps and trigonometric measures of the positions (plain_tokens.csv/.svg,\n"
      "plain_positions.csv); (c) non-commuting loss versus t of a softmax stack next to the linear\n"
      "layer and one GD step (noncommuting_loss_vs_t.csv/.svg)."};
  return spec;
}

int run_reproduce_icar(const std::vector<std::string>& args) {
  ParsedArgs a = ParsedArgs::parse(reproduce_icar_spec(), args);
  if (a.help_requested()) {
    std::fputs(format_help(reproduce_icar_spec()).c_str(), stdout);
    return kExitOk;
  }
  IcarOptions o;
  o.steps = a.get_int("--steps", 3000, 1, 100000000);
  o.batch = int(a.get_int("--batch", 64, 1, 4096));
  o.lr = a.get_float("--lr", 0.01f, 0.0, 10.0, true);
  o.seed = a.get_u64("--seed", 1);
  o.p = int(a.get_int("--p", 4, 2, icar::kMaxP));
  if (o.p % 2 != 0) usage_error("--p must be even (rotations act on pairs), got " + std::to_string(o.p));
  o.n = int(a.get_int("--n", 50, 4, 4096));
  o.eval_sequences = int(a.get_int("--eval-sequences", 2048, 1, 10000000));
  o.plain_steps = a.get_int("--plain-steps", 1500, 0, 100000000);
  o.plain_heads = int(a.get_int("--plain-heads", 4, 1, 2 * o.p));
  if ((2 * o.p) % o.plain_heads != 0)
    usage_error("--plain-heads must divide the width 2p = " + std::to_string(2 * o.p));
  o.softmax_steps = a.get_int("--softmax-steps", 1000, 0, 100000000);
  o.softmax_layers = int(a.get_int("--softmax-layers", 2, 1, family::kMaxFamilyBlocks));
  o.verbose = !a.has("--quiet");
  const std::string out = a.get_string("--out", "runs/reproduce-icar");
  const IcarReport r = reproduce_icar(o);
  const Status made = platform::make_directories(out.c_str());
  if (!made) runtime_error("--out: " + std::string(made.message()));
  auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = out + "/" + name;
    std::ofstream f(path, std::ios::binary);
    f << text;
    if (!f) runtime_error("cannot write " + path);
  };
  write("report.md", r.markdown);
  write("loss_vs_t.csv", r.csv);
  write("loss_vs_t.svg", r.svg);
  for (const auto& f : r.files) write(f.first, f.second);
  std::fputs(r.summary.c_str(), stdout);
  std::printf("wrote %s/report.md, loss_vs_t.csv, loss_vs_t.svg", out.c_str());
  for (const auto& f : r.files) std::printf(", %s", f.first.c_str());
  std::printf("\n");
  return kExitOk;
}

}  // namespace tinyloop::cli
