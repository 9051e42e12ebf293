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
#include "icar/authors_runs.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::study::icar {

namespace {

using Matrix = xt::xtensor<double, 2>;

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

// Part (e)'s measures of one trained model: the loss curve and rate, and the 3 x 3 block shares
// of (Wq; bq)(Wk; bk)^T and of Wv Wo.
struct Run : AuthorsRun {
  Matrix qk, ov;              // the shares
  Matrix qk_full, ov_full;    // the 3d x 3d maps themselves (token part of (Wq; bq)(Wk; bk)^T, Wv Wo)
};

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
  r->qk_full = xt::view(qk, xt::range(0, w), xt::range(0, w));
  r->ov_full = xt::linalg::dot(matrix(k.Wv, w, w), matrix(k.Wo, w, w));
  r->qk = block_shares(r->qk_full, d);
  r->ov = block_shares(r->ov_full, d);
}

// The learned maps of one run beside the structure one GD step has: the query's s_t against the
// key's s_{t-1} (an identity block), and the value read from the s_t block into the prediction slot.
std::string blocks_svg(const Run& r, int d) {
  const int w = 3 * d;
  Matrix qk_gd = xt::zeros<double>({std::size_t(w), std::size_t(w)}), ov_gd = qk_gd;
  for (int i = 0; i < d; ++i) {
    qk_gd(std::size_t(d + i), std::size_t(2 * d + i)) = 1.0;
    ov_gd(std::size_t(d + i), std::size_t(i)) = 1.0;
  }
  const std::string rows = "blocks: 0, s_t, s_{t-1} (row: query block)";
  svg::Figure fig("the authors' augmented model, seed " + std::to_string(r.seed) +
                      ": learned maps beside one GD step's structure",
                  4, 260, 260);
  fig.add(svg::signed_heatmap("learned (Wq; bq)(Wk; bk)^T", r.qk_full.data(), w, w, w, rows));
  fig.add(svg::signed_heatmap("one GD step: s_t against s_{t-1}", qk_gd.data(), w, w, w, rows));
  fig.add(svg::signed_heatmap("learned Wv Wo", r.ov_full.data(), w, w, w, "output (row: value block)"));
  fig.add(svg::signed_heatmap("one GD step: the value's s_t", ov_gd.data(), w, w, w, "output (row: value block)"));
  return fig.render();
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
  const AuthorsTraining how{o.authors_batch, o.authors_epochs, o.authors_lr,
                            "authors' augmented model, seed " + std::to_string(seed)};
  Run r;
  static_cast<AuthorsRun&>(r) = train_authors_model(authors_model(train.d), train, test, how, seed, o,
                                                      [&](const Model<float>& m) { learned_blocks(m, train.d, &r); });
  return r;
}

std::string f(double v, int digits = 4) { return text::format_fixed(v, digits); }

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
  const Dataset test = make_dataset(AuthorsTokens::augmented, d, n, o.authors_test, test_rng);
  std::vector<Run> runs;
  GdCurves gd;
  for (int k = 0; k < o.authors_seeds; ++k) {
    const std::uint64_t seed = o.seed + std::uint64_t(k);
    Rng data_rng(seed, 0xda7a);
    const Dataset train = make_dataset(AuthorsTokens::augmented, d, n, o.authors_sequences, data_rng);
    if (k == 0) gd = gd_curves(train, test);
    runs.push_back(train_one(o, seed, train, test));
  }
  const std::vector<double> zero = zero_curve(test);
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
  std::vector<NamedCurve> curves;
  for (const Run& r : runs) curves.push_back({"trained, seed " + std::to_string(r.seed), &r.model, false, true});
  curves.push_back({"one GD step, one fitted eta", &gd.one_eta, true, true});
  curves.push_back({"one GD step, eta_t fitted per position", &gd.per_position, true, true});
  curves.push_back({"zero predictor", &zero, true, false});
  std::string table;
  loss_table(table, curves);
  md << table;
  block_table(md, runs);
  md << "\n![loss against t](authors_loss_vs_t.svg)\n\n![learned maps](authors_blocks.svg)\n";
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
  std::vector<std::pair<std::string, const std::vector<double>*>> columns;
  for (const Run& r : runs) columns.push_back({"model_seed" + std::to_string(r.seed), &r.model});
  columns.push_back({"gd_one_eta", &gd.one_eta});
  columns.push_back({"gd_eta_per_position", &gd.per_position});
  columns.push_back({"zero", &zero});
  part.files = {{"authors_loss_vs_t.csv", loss_csv(columns)},
                {"authors_loss_vs_t.svg",
                 loss_chart("the authors' augmented model (their Fig. 5) against one GD step", curves)},
                {"authors_blocks.svg", blocks_svg(runs.front(), d)}};
  for (const Run& r : runs)
    part.summary += "authors' augmented model, seed " + std::to_string(r.seed) + ": mean MSE " +
                    f(mean_from_1(r.model), 5) + " (one GD step " + f(mean_from_1(gd.one_eta), 5) + ", with eta_t " +
                    f(mean_from_1(gd.per_position), 5) + "), rate " + f(r.rate, 3) +
                    ", train " + f(r.seconds, 1) + " s\n";
  return part;
}

}  // namespace tinyloop::study::icar
