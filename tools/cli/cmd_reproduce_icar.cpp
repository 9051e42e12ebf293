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
#include <sstream>
#include <string>
#include <vector>

#include "args.hpp"
#include "reproduce_family.hpp"
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
  for (std::int64_t s = 0; s < o.steps; ++s) {
    icar::icar_batch<float>(task, data_rng, B, nullptr, inputs.data(), targets.data(), mask.data());
    batch.batch = B;
    FamilyStats stats;
    st = m.train_step(batch, o.steps, &stats);
    if (!st) runtime_error(st.message());
    if (o.verbose && (s % std::max<std::int64_t>(1, o.steps / 10) == 0 || s + 1 == o.steps))
      std::fprintf(stderr, "icar %s: step %lld/%lld loss %.5f\n", out.setting.c_str(), (long long)s + 1,
                   (long long)o.steps, stats.loss);
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
      s << "<text x='" << px + 4 << "' y='" << Y(v) + 4 << "'>" << fmt("%.0e", v) << "</text>\n";
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
     << "` (AdamW, no weight decay, clip 1, warm-up then cosine). Evaluation: " << o.eval_sequences
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
  md << "Files: loss_vs_t.csv (every t), loss_vs_t.svg.\n";
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
          {"--out", "DIR", "report folder (default runs/reproduce-icar)"},
          {"--quiet", nullptr, "no progress lines"},
      },
      "Writes DIR/report.md (loss versus t for the trained model, the fitted one-step GD predictor and\n"
      "the zero predictor, in the commuting and non-commuting settings; learned matrices against\n"
      "the predicted structure), DIR/loss_vs_t.csv and DIR/loss_vs_t.svg."};
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
  std::fputs(r.summary.c_str(), stdout);
  std::printf("wrote %s/report.md, loss_vs_t.csv, loss_vs_t.svg\n", out.c_str());
  return kExitOk;
}

}  // namespace tinyloop::cli
