// Part (e) of the ICAR study: the authors' augmented run (their Fig. 5, augmented.py; docs/TASKS.md
// note 1) on the engine's model: d = 5, tokens e_t = (0, s_t, s_{t-1}) of width 15 for t = 0..n-1,
// every sequence from s_0 = (1, ..., 1)/sqrt(5), W Haar on O(5) per sequence, target s_{t+1} at
// every position. One layer: q, k, v with biases, linear scores / sqrt(15), o = (sum) Wo + bo,
// x' = e + LN(o), y = x' Wf + bf. Adam (lr 1e-2, constant, no clipping or decay) on a fixed set of
// sequences walked in shuffled epochs. Against it: one gradient-descent step (eta fitted on the
// training set) and the zero predictor, per position; a fitted rate; the learned blocks.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xview.hpp>

#include "common/svg.hpp"
#include "icar/parts.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::study::icar {

namespace {

using Matrix = xt::xtensor<double, 2>;
constexpr int kEvalChunk = 256;  // test sequences per evaluation pass

ModelSpec authors_model(int d) {
  ModelSpec c;
  c.layers = 1;
  c.heads = 1;
  c.width = 3 * d;
  c.mlp = false;
  c.layernorm = false;
  c.attn_bias = true;
  c.branch_norm = true;
  c.attention = AttentionKind::linear;  // scale 1/sqrt(15), the head width
  c.positions = Positions::none;
  c.input = InputKind::vectors;
  c.in_dim = 3 * d;
  c.input_proj = false;
  c.output = OutputKind::regression;
  c.out_dim = d;  // their read-out is 15 wide, read at [0:5]: the other outputs never reach the loss
  return c;
}

// Sequences of the authors' data: tokens (count x n x 3d), targets (count x n x d), states
// (count x (n + 1) x d).
struct Dataset {
  int count = 0, n = 0, d = 0;
  std::vector<float> tokens, targets, states;
};

Dataset make_dataset(int d, int n, int count, Rng& rng) {
  task::IcarTask t;
  t.p = d;
  t.n = n + 1;
  t.setting = task::Setting::haar;
  t.fixed_start = true;
  check(task::validate(t));
  Dataset s{count, n, d, std::vector<float>(std::size_t(count) * n * 3 * d, 0.0f),
            std::vector<float>(std::size_t(count) * n * d), std::vector<float>(std::size_t(count) * (n + 1) * d)};
  std::vector<float> aug(std::size_t(n + 1) * 2 * d), tgt(std::size_t(n + 1) * d);
  for (int b = 0; b < count; ++b) {
    float* states = s.states.data() + std::size_t(b) * (n + 1) * d;
    task::icar_batch<float>(t, rng, 1, states, aug.data(), tgt.data(), nullptr);
    for (int i = 0; i < n; ++i) {  // (0_d, s_i, s_{i-1}) -> s_{i+1}
      float* e = s.tokens.data() + (std::size_t(b) * n + i) * 3 * d;
      std::copy(aug.begin() + std::ptrdiff_t(i) * 2 * d, aug.begin() + std::ptrdiff_t(i + 1) * 2 * d, e + d);
      std::copy(tgt.begin() + std::ptrdiff_t(i) * d, tgt.begin() + std::ptrdiff_t(i + 1) * d,
                s.targets.begin() + (std::ptrdiff_t(b) * n + i) * d);
    }
  }
  return s;
}

struct Run {
  std::uint64_t seed = 0;
  std::vector<double> model;  // test MSE per position t = 0..n-1 (mean over components)
  double rate = 0;            // b of model(t) ~ a t^-b over t = 2..n-1
  Matrix qk, ov;              // 3 x 3 block shares of (Wq; bq)(Wk; bk)^T and of Wv Wo
  double seconds = 0;
  double final_train_loss = 0;
};

// Adam as torch.optim.Adam: no weight decay, no clipping, a constant rate.
OptimConfig torch_adam(float lr) {
  OptimConfig o;
  o.lr = lr;
  o.weight_decay = 0.0f;
  o.clip_norm = 0.0f;
  return o;
}

// Squared-norm share of each of the 3 x 3 blocks (d x d) of a 3d x 3d matrix.
Matrix block_shares(const Matrix& M, int d) {
  Matrix shares = xt::zeros<double>({3, 3});
  const double total = xt::sum(M * M)();
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      const auto b = xt::view(M, xt::range(r * d, (r + 1) * d), xt::range(c * d, (c + 1) * d));
      shares(r, c) = xt::sum(b * b)() / total;
    }
  return shares;
}

void learned_blocks(const Model<float>& m, int d, Run* r) {
  const ModelLayout& l = m.layout();
  const ModelLayout::Block& k = l.block[0];
  const std::size_t w = std::size_t(3 * d);
  auto matrix = [&](std::size_t off, std::size_t rows, std::size_t cols) {
    Matrix x = xt::zeros<double>({rows, cols});
    for (std::size_t i = 0; i < rows * cols; ++i) x.data()[i] = m.params()[off + i];
    return x;
  };
  // Rows 0..3d-1 of [W; b] act on the token, the last row on the constant 1.
  Matrix q = xt::concatenate(xt::xtuple(matrix(k.Wq, w, w), matrix(k.bq, 1, w)), 0);
  Matrix kk = xt::concatenate(xt::xtuple(matrix(k.Wk, w, w), matrix(k.bk, 1, w)), 0);
  const Matrix qk = xt::linalg::dot(q, xt::transpose(kk));
  r->qk = block_shares(xt::view(qk, xt::range(0, w), xt::range(0, w)), d);
  r->ov = block_shares(xt::linalg::dot(matrix(k.Wv, w, w), matrix(k.Wo, w, w)), d);
}

// Test MSE per position, from the model's outputs.
std::vector<double> evaluate_curve(Model<float>& m, const Dataset& test, int chunk) {
  const int n = test.n, d = test.d;
  std::vector<double> curve(std::size_t(n), 0.0);
  for (int b0 = 0; b0 < test.count; b0 += chunk) {
    const int count = std::min(chunk, test.count - b0);
    ModelBatch<float> batch;
    batch.inputs = test.tokens.data() + std::size_t(b0) * n * 3 * d;
    batch.targets = test.targets.data() + std::size_t(b0) * n * d;
    batch.batch = count;
    batch.len = n;
    ModelStats stats;
    check(m.evaluate(batch, &stats));
    for (int b = 0; b < count; ++b)
      add_position_errors(m.outputs(b), batch.targets + std::size_t(b) * n * d, d, 0, n, curve);
  }
  for (double& v : curve) v /= test.count;
  return curve;
}

// b of curve(t) ~ a t^-b, least squares in log-log over t = 2..n-1.
double fitted_rate(const std::vector<double>& curve) {
  const std::size_t m = curve.size() - 2;
  Matrix X = xt::ones<double>({m, std::size_t(2)});
  xt::xtensor<double, 1> y = xt::zeros<double>({m});
  for (std::size_t i = 0; i < m; ++i) {
    X(i, 1) = std::log(double(i + 2));
    y(i) = std::log(std::max(curve[i + 2], 1e-300));
  }
  const auto fit = xt::linalg::lstsq(X, y);
  return -std::get<0>(fit)(1);
}

// One gradient-descent step on `test`, per position: with one eta for every position (`eta`),
// and with eta_t fitted per position (the step a normalised model can take). Both by least
// squares on `train`.
struct GdCurves {
  double eta = 0;
  std::vector<double> one_eta, per_position;
};

GdCurves gd_curves(const Dataset& train, const Dataset& test) {
  const int n = train.n, d = train.d;
  std::vector<float> dir(static_cast<std::size_t>(d));
  std::vector<double> gy(std::size_t(n), 0.0), gg(std::size_t(n), 0.0);
  for (int b = 0; b < train.count; ++b)
    for (int t = 1; t < n; ++t) {
      const float* states = train.states.data() + std::size_t(b) * (n + 1) * d;
      task::gd_direction<float>(states, d, t, dir.data());
      for (int c = 0; c < d; ++c) {
        gy[std::size_t(t)] += double(dir[c]) * states[std::size_t(t + 1) * d + c];
        gg[std::size_t(t)] += double(dir[c]) * dir[c];
      }
    }
  GdCurves g;
  double sy = 0, sg = 0;
  for (int t = 1; t < n; ++t) {
    sy += gy[std::size_t(t)];
    sg += gg[std::size_t(t)];
  }
  g.eta = sg > 0 ? sy / sg : 0.0;
  g.one_eta.assign(std::size_t(n), 0.0);
  g.per_position.assign(std::size_t(n), 0.0);
  for (int b = 0; b < test.count; ++b)
    for (int t = 0; t < n; ++t) {
      const float* states = test.states.data() + std::size_t(b) * (n + 1) * d;
      task::gd_direction<float>(states, d, t, dir.data());
      const double eta_t = gg[std::size_t(t)] > 0 ? gy[std::size_t(t)] / gg[std::size_t(t)] : 0.0;
      double e1 = 0, et = 0;
      for (int c = 0; c < d; ++c) {
        const double y = states[std::size_t(t + 1) * d + c];
        e1 += (g.eta * dir[c] - y) * (g.eta * dir[c] - y);
        et += (eta_t * dir[c] - y) * (eta_t * dir[c] - y);
      }
      g.one_eta[std::size_t(t)] += e1 / d / test.count;
      g.per_position[std::size_t(t)] += et / d / test.count;
    }
  return g;
}

// Trains the authors' model once from `seed` on `train` and measures it on `test`.
Run train_one(const Options& o, std::uint64_t seed, const Dataset& train, const Dataset& test) {
  const int n = train.n, d = train.d, B = o.authors_batch;
  const ModelSpec spec = authors_model(d);
  platform::ThreadPool pool(std::max(1, std::min(2, platform::hardware_threads())));
  const Capacity cap{n, std::max(B, kEvalChunk), pool.workers()};
  std::vector<unsigned char> buffer(Model<float>::plan(spec, cap).total);
  Model<float> m;
  const std::int64_t per_epoch = train.count / B, steps = per_epoch * o.authors_epochs;
  check(m.init(spec, torch_adam(o.authors_lr), cap, buffer.data(), buffer.size()));
  m.set_parallel(&pool);
  Rng init_rng(seed, 0xa0);
  m.init_weights(init_rng);
  std::vector<float> tokens(std::size_t(B) * n * 3 * d), targets(std::size_t(B) * n * d);
  std::vector<int> order(std::size_t(train.count));
  for (int i = 0; i < train.count; ++i) order[std::size_t(i)] = i;
  Rng shuffle(seed, 0xa1);
  StepNote note;
  note.name = "authors' augmented model, seed " + std::to_string(seed);
  note.steps = steps;
  Run r;
  r.seed = seed;
  const double t0 = platform::now_seconds();
  for (int epoch = 0; epoch < o.authors_epochs; ++epoch) {
    for (int i = train.count - 1; i > 0; --i)
      std::swap(order[std::size_t(i)], order[shuffle.uniform_int(std::uint32_t(i + 1))]);
    for (std::int64_t k = 0; k < per_epoch; ++k) {
      for (int row = 0; row < B; ++row) {
        const std::size_t from = std::size_t(order[std::size_t(k * B + row)]);
        std::copy_n(train.tokens.begin() + std::ptrdiff_t(from * n * 3 * d), n * 3 * d,
                    tokens.begin() + std::ptrdiff_t(row) * n * 3 * d);
        std::copy_n(train.targets.begin() + std::ptrdiff_t(from * n * d), n * d,
                    targets.begin() + std::ptrdiff_t(row) * n * d);
      }
      ModelBatch<float> batch;
      batch.inputs = tokens.data();
      batch.targets = targets.data();
      batch.batch = B;
      batch.len = n;
      ModelStats stats;
      check(m.train_step(batch, steps, &stats));
      r.final_train_loss = stats.loss;
      if (o.on_step) {
        note.done = epoch * per_epoch + k + 1;
        note.loss = stats.loss;
        note.seconds = platform::now_seconds() - t0;
        o.on_step(note);
      }
    }
  }
  r.seconds = platform::now_seconds() - t0;
  r.model = evaluate_curve(m, test, kEvalChunk);
  r.rate = fitted_rate(r.model);
  learned_blocks(m, d, &r);
  return r;
}

std::string f(double v, int digits = 4) { return text::format_fixed(v, digits); }

std::string loss_svg(const std::vector<Run>& runs, const GdCurves& gd, const std::vector<double>& zero) {
  svg::LineChart c;
  c.title = "the authors' augmented model (their Fig. 5) against one GD step";
  c.x_label = "position t (predicting s_{t+1})";
  c.y_label = "test MSE per component";
  c.log_y = true;
  auto series = [&](const std::string& label, const std::vector<double>& y, bool dashed) {
    svg::Series s;
    s.label = label;
    s.dashed = dashed;
    for (std::size_t t = 1; t < y.size(); ++t) {  // t = 0 is unpredictable for every model
      s.x.push_back(double(t));
      s.y.push_back(y[t]);
    }
    c.series.push_back(s);
  };
  for (const Run& r : runs) series("trained, seed " + std::to_string(r.seed), r.model, false);
  series("one GD step, one fitted eta", gd.one_eta, true);
  series("one GD step, eta_t fitted per position", gd.per_position, true);
  series("zero predictor", zero, true);
  svg::Figure fig("", 1, 640, 400);
  fig.add(c);
  return fig.render();
}

std::string loss_csv(const std::vector<Run>& runs, const GdCurves& gd, const std::vector<double>& zero) {
  std::string csv = "t";
  for (const Run& r : runs) csv += ",model_seed" + std::to_string(r.seed);
  csv += ",gd_one_eta,gd_eta_per_position,zero\n";
  for (std::size_t t = 0; t < zero.size(); ++t) {
    csv += std::to_string(t);
    for (const Run& r : runs) csv += "," + text::format_g9(r.model[t]);
    csv += "," + text::format_g9(gd.one_eta[t]) + "," + text::format_g9(gd.per_position[t]) + "," +
           text::format_g9(zero[t]) + "\n";
  }
  return csv;
}

double mean_from_1(const std::vector<double>& c) {
  double s = 0;
  for (std::size_t t = 1; t < c.size(); ++t) s += c[t];
  return s / double(c.size() - 1);
}

void loss_table(std::ostringstream& md, const std::vector<Run>& runs, const GdCurves& gd,
                const std::vector<double>& zero) {
  md << "| t |";
  for (const Run& r : runs) md << " trained, seed " << r.seed << " |";
  md << " one GD step, one eta | one GD step, eta_t per position | zero |\n|---:|";
  for (std::size_t i = 0; i < runs.size() + 3; ++i) md << "---:|";
  md << "\n";
  const int n = int(zero.size());
  for (int t : {0, 1, 2, 3, 5, 10, 20, 30, 40, n - 1}) {
    if (t >= n) continue;
    md << "| " << t << " |";
    for (const Run& r : runs) md << " " << f(r.model[std::size_t(t)], 5) << " |";
    md << " " << f(gd.one_eta[std::size_t(t)], 5) << " | " << f(gd.per_position[std::size_t(t)], 5) << " | "
       << f(zero[std::size_t(t)], 5) << " |\n";
  }
  md << "| mean over t = 1.." << n - 1 << " |";
  for (const Run& r : runs) md << " " << f(mean_from_1(r.model), 5) << " |";
  md << " " << f(mean_from_1(gd.one_eta), 5) << " | " << f(mean_from_1(gd.per_position), 5) << " | "
     << f(mean_from_1(zero), 5) << " |\n";
  md << "| fitted rate b of a t^-b (t = 2.." << n - 1 << ") |";
  for (const Run& r : runs) md << " " << f(r.rate, 3) << " |";
  md << " " << f(fitted_rate(gd.one_eta), 3) << " | " << f(fitted_rate(gd.per_position), 3) << " | |\n";
}

void block_table(std::ostringstream& md, const std::vector<Run>& runs) {
  static const char* kBlock[3] = {"0 (prediction slot)", "s_t", "s_{t-1}"};
  md << "\nWhere the learned maps put their weight: the share of the squared norm in each 5 x 5 block "
        "(rows: the query's or value's input block; columns: the key's block, or the output block). One GD "
        "step needs the query's s_t against the key's s_{t-1} (row s_t, column s_{t-1}) and a value read "
        "from s_j (row s_t of Wv Wo, since s_j is the key token's own s_t block).\n\n"
        "| seed | map | row block | share in column 0 | column s_t | column s_{t-1} |\n|---:|---|---|---:|---:|---:|\n";
  for (const Run& r : runs)
    for (int which = 0; which < 2; ++which) {
      const Matrix& m = which == 0 ? r.qk : r.ov;
      for (int row = 0; row < 3; ++row)
        md << "| " << r.seed << " | " << (which == 0 ? "(Wq; bq)(Wk; bk)^T" : "Wv Wo") << " | " << kBlock[row]
           << " | " << f(m(row, 0), 3) << " | " << f(m(row, 1), 3) << " | " << f(m(row, 2), 3) << " |\n";
    }
}

}  // namespace

Part run_authors_part(const Options& o) {
  const int d = o.authors_d, n = o.authors_n;
  Rng test_rng(o.eval_seed, 0xe7a2);
  const Dataset test = make_dataset(d, n, o.authors_test, test_rng);
  std::vector<Run> runs;
  GdCurves gd;
  for (int k = 0; k < o.authors_seeds; ++k) {
    const std::uint64_t seed = o.seed + std::uint64_t(k);
    Rng data_rng(seed, 0xda7a);
    const Dataset train = make_dataset(d, n, o.authors_sequences, data_rng);
    if (k == 0) gd = gd_curves(train, test);
    runs.push_back(train_one(o, seed, train, test));
  }
  std::vector<double> zero(std::size_t(n), 0.0);
  for (int b = 0; b < test.count; ++b)
    for (int t = 0; t < n; ++t)
      for (int c = 0; c < d; ++c) {
        const double v = test.targets[(std::size_t(b) * n + t) * d + c];
        zero[std::size_t(t)] += v * v / d / test.count;
      }
  std::ostringstream md;
  md << "\n## (e) The authors' augmented run (their Fig. 5, `augmented.py`)\n\n"
     << "Their model on the engine: d = " << d << ", tokens (0, s_t, s_{t-1}) of width " << 3 * d << " for t = 0.."
     << n - 1 << ", s_0 = (1, ..., 1)/sqrt(" << d << ") in every sequence, W Haar on O(" << d
     << ") per sequence (reflections included), target s_{t+1} at every position; q, k, v with biases, linear "
        "scores / sqrt(" << 3 * d << "), x' = e + LN((sum) Wo + bo), read-out with bias. Adam lr " << o.authors_lr
     << " (constant, no clipping or weight decay), batch " << o.authors_batch << ", " << o.authors_epochs
     << " epochs over " << o.authors_sequences << " fixed training sequences ("
     << std::int64_t(o.authors_epochs) * (o.authors_sequences / o.authors_batch) << " steps); " << test.count
     << " test sequences (evaluation seed " << o.eval_seed << "). One GD step from W = 0, "
        "s_hat_{t+1} = eta sum_{i<t} s_{i+1} s_i^T s_t: with one eta = " << f(gd.eta, 5)
     << " for every position, and with eta_t fitted per position (the step size a model that normalises its "
        "output can take), both by least squares on the first seed's training set. t = 0 predicts s_1 = W s_0 from s_0 alone, "
        "which no model can do better than zero there.\n\n";
  loss_table(md, runs, gd, zero);
  block_table(md, runs);
  md << "\n![loss against t](authors_loss_vs_t.svg)\n";
  Part part;
  part.markdown = md.str();
  double share = 0, model = 0;
  for (const Run& r : runs) {
    share += r.qk(1, 2) / double(runs.size());
    model += mean_from_1(r.model) / double(runs.size());
  }
  const double gd_t = mean_from_1(gd.per_position);
  const bool structure = share >= 0.5;
  const std::string loss = model < 0.9 * gd_t ? "a lower loss than one GD step" : model <= 1.1 * gd_t ? "one GD step's loss"
                                                                                                      : "a higher loss than one GD step";
  part.claims.push_back(
      {"5", "the trained augmented transformer implements one step of gradient descent",
       structure && loss == "one GD step's loss" ? "reproduced"
                                                  : structure ? "partly: the predicted structure, " + loss
                                                              : "not reproduced",
       "share of the query-key map in the (s_t, s_{t-1}) block " + f(share, 3) + " (mean over " +
           std::to_string(runs.size()) + (runs.size() == 1 ? " seed" : " seeds") + "); mean MSE over t = 1.." + std::to_string(n - 1) + ": trained " +
           f(model, 5) + ", one GD step " + f(mean_from_1(gd.one_eta), 5) + " (eta_t per position " + f(gd_t, 5) + ")"});
  part.files = {{"authors_loss_vs_t.csv", loss_csv(runs, gd, zero)}, {"authors_loss_vs_t.svg", loss_svg(runs, gd, zero)}};
  for (const Run& r : runs)
    part.summary += "authors' augmented model, seed " + std::to_string(r.seed) + ": mean MSE " +
                    f(mean_from_1(r.model), 5) + " (one GD step " + f(mean_from_1(gd.one_eta), 5) + ", with eta_t " +
                    f(mean_from_1(gd.per_position), 5) + "), rate " + f(r.rate, 3) +
                    ", train " + f(r.seconds, 1) + " s\n";
  return part;
}

}  // namespace tinyloop::study::icar
