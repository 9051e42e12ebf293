// Part (f) of the ICAR study: the authors' non-augmented run (their Fig. 7, non_augmented.py;
// docs/TASKS.md note 2) on the engine's model: plain tokens x_t = (s_t, s_t) of width 2d, one
// layer of heads that each multiply linear token scores by a causal softmax over a learned
// position table seen through the head's own query and key maps (position_gated attention), the
// heads summed, o = (sum) Wo + bo, z = LN(o) without residual, y = z Wf + bf; their data and Adam.
// Measured: the loss per position against the zero predictor, where each head's positional
// softmax S_h puts its weight (the theory's P uses the two latest tokens), and how far the heads
// overlap.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <vector>

#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xview.hpp>

#include "common/svg.hpp"
#include "icar/authors_runs.hpp"
#include "icar/measures.hpp"

namespace tinyloop::study::icar {

namespace {

using Matrix = xt::xtensor<double, 2>;
constexpr int kOffsets = 4;  // S_h's mass is reported at offsets t - j = 0 .. kOffsets - 1
constexpr int kMapsShown = 4;

ModelSpec gated_model(int d, int heads, int n) {
  ModelSpec c;
  c.layers = 1;
  c.heads = heads;
  c.width = 2 * d;  // their embed_extension 2: s_t repeated twice
  c.mlp = false;
  c.layernorm = false;
  c.residual = false;
  c.branch_norm = true;  // z = LN(o): their norm1(attention), no residual
  c.attn_bias = true;
  c.attention = AttentionKind::position_gated;  // scale 1/sqrt(2d), the head width
  c.positions = Positions::learned;             // their nn.Embedding, N(0, 1); it feeds S_h only
  c.max_len = n;
  c.input = InputKind::vectors;
  c.in_dim = 2 * d;
  c.input_proj = false;
  c.output = OutputKind::regression;
  c.out_dim = d;
  return c;
}

// What part (f) keeps of one trained model.
struct GatedRun : AuthorsRun {
  int heads = 0;
  std::vector<Matrix> S;             // S_h, n x n, rows = queries
  std::vector<double> weight;        // ||Wv_h Wo||_F: how much head h can move the output
  std::vector<double> offset_mass;   // heads x kOffsets: mean over rows t >= kOffsets of S_h[t, t - k]
  std::vector<double> start_mass;    // heads: mean over the same rows of S_h[t, 0] + S_h[t, 1]
  double recency = 0;                // weight-averaged mass on offsets 0 and 1
  double start = 0;                  // weight-averaged mass on the first two states, s_0 (fixed) and s_1
  double qk_overlap = 0, qk_overlap_max = 0, ov_overlap = 0, ov_overlap_max = 0;
  double gate_gap = 0;  // largest |S_h here - the engine's gate| after the last length-n pass
};

Matrix tensor_of(const Model<float>& m, const char* name) {
  const int i = m.layout().find(name);
  check(i >= 0 ? Status::ok() : Status::fail(Error::bad_config, "part (f): the model has no tensor %s", name));
  const LayoutTensor& t = m.layout().tensors[i];
  Matrix x = xt::zeros<double>({std::size_t(t.rows), std::size_t(t.cols)});
  for (std::size_t k = 0; k < t.size(); ++k) x.data()[k] = m.params()[t.offset + k];
  return x;
}

// Columns h*E .. (h+1)*E of a 1 x (H E) or E x (H E) tensor: head h's part.
Matrix head_cols(const Matrix& x, int h, int E) { return xt::view(x, xt::all(), xt::range(h * E, (h + 1) * E)); }

// S_h = causal softmax of (pos Wq_h + bq_h)(pos Wk_h + bk_h)^T / sqrt(E), from the parameters.
Matrix positional_softmax(const Matrix& pos, const Matrix& Wq, const Matrix& bq, const Matrix& Wk, const Matrix& bk,
                          int h, int E, int n) {
  const Matrix P = xt::view(pos, xt::range(0, n), xt::all());
  const Matrix q = xt::linalg::dot(P, head_cols(Wq, h, E)) + head_cols(bq, h, E);
  const Matrix k = xt::linalg::dot(P, head_cols(Wk, h, E)) + head_cols(bk, h, E);
  Matrix S = xt::linalg::dot(q, xt::transpose(k)) / std::sqrt(double(E));
  for (int t = 0; t < n; ++t) {
    double top = -1e300, sum = 0;
    for (int j = 0; j <= t; ++j) top = std::max(top, S(t, j));
    for (int j = 0; j < n; ++j) {
      S(t, j) = j <= t ? std::exp(S(t, j) - top) : 0.0;
      sum += S(t, j);
    }
    for (int j = 0; j <= t; ++j) S(t, j) /= sum;
  }
  return S;
}

void measure_heads(const Model<float>& m, int n, GatedRun* r) {
  const int H = m.config().heads, E = m.config().width;
  const Matrix pos = tensor_of(m, "pos"), Wq = tensor_of(m, "L0.Wq"), bq = tensor_of(m, "L0.bq"),
               Wk = tensor_of(m, "L0.Wk"), bk = tensor_of(m, "L0.bk"), Wv = tensor_of(m, "L0.Wv"),
               Wo = tensor_of(m, "L0.Wo");
  r->heads = H;
  r->offset_mass.assign(std::size_t(H) * kOffsets, 0.0);
  std::vector<double> qk(std::size_t(H) * E * E), ov(std::size_t(H) * E * E);
  double weights = 0;
  for (int h = 0; h < H; ++h) {
    r->S.push_back(positional_softmax(pos, Wq, bq, Wk, bk, h, E, n));
    const Matrix& S = r->S.back();
    const float* engine_gate = m.position_gate(0, h);
    check(engine_gate ? Status::ok() : Status::fail(Error::bad_config, "part (f): the model kept no gate"));
    for (std::size_t e = 0; e < S.size(); ++e)
      r->gate_gap = std::max(r->gate_gap, std::fabs(S.data()[e] - double(engine_gate[e])));
    for (int k = 0; k < kOffsets; ++k) {
      double mass = 0;
      for (int t = kOffsets; t < n; ++t) mass += S(t, t - k);
      r->offset_mass[std::size_t(h) * kOffsets + k] = mass / double(n - kOffsets);
    }
    double first = 0;
    for (int t = kOffsets; t < n; ++t) first += S(t, 0) + S(t, 1);
    r->start_mass.push_back(first / double(n - kOffsets));
    const Matrix qk_h = xt::linalg::dot(head_cols(Wq, h, E), xt::transpose(head_cols(Wk, h, E)));
    const Matrix ov_h = xt::linalg::dot(head_cols(Wv, h, E), Wo);
    std::copy(qk_h.begin(), qk_h.end(), qk.begin() + std::ptrdiff_t(h) * E * E);
    std::copy(ov_h.begin(), ov_h.end(), ov.begin() + std::ptrdiff_t(h) * E * E);
    r->weight.push_back(std::sqrt(xt::sum(ov_h * ov_h)()));
    weights += r->weight.back();
    r->recency += r->weight.back() * (r->offset_mass[std::size_t(h) * kOffsets] +
                                      r->offset_mass[std::size_t(h) * kOffsets + 1]);
    r->start += r->weight.back() * r->start_mass.back();
  }
  r->recency /= weights > 0 ? weights : 1.0;
  r->start /= weights > 0 ? weights : 1.0;
  r->qk_overlap = pairwise_cosines(qk.data(), H, std::size_t(E) * E, nullptr, &r->qk_overlap_max);
  r->ov_overlap = pairwise_cosines(ov.data(), H, std::size_t(E) * E, nullptr, &r->ov_overlap_max);
}

GatedRun train_gated(const Options& o, std::uint64_t seed, const Dataset& train, const Dataset& test) {
  const AuthorsTraining how{o.gated_batch, o.gated_epochs, o.authors_lr,
                            "authors' non-augmented model, seed " + std::to_string(seed)};
  GatedRun r;
  static_cast<AuthorsRun&>(r) =
      train_authors_model(gated_model(train.d, o.gated_heads, train.n), train, test, how, seed, o,
                          [&](const Model<float>& m) { measure_heads(m, train.n, &r); });
  return r;
}

// The share of a uniform causal row's mass on its two latest keys, averaged as offset_mass is:
// what recency would be without any positional preference.
double uniform_recency(int n) {
  double s = 0;
  for (int t = kOffsets; t < n; ++t) s += 2.0 / double(t + 1);
  return s / double(n - kOffsets);
}

std::string f(double v, int digits = 3) { return text::format_fixed(v, digits); }

// The heads in order of weight, heaviest first.
std::vector<int> heads_by_weight(const GatedRun& r) {
  std::vector<int> order(std::size_t(r.heads));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return r.weight[std::size_t(a)] > r.weight[std::size_t(b)]; });
  return order;
}

std::string maps_svg(const GatedRun& r, int n) {
  svg::Figure fig("positional softmax S_h of the heaviest heads (seed " + std::to_string(r.seed) +
                      "), and the theory's P: the two latest tokens",
                  kMapsShown + 1, 260, 260);
  const std::vector<int> order = heads_by_weight(r);
  for (int k = 0; k < kMapsShown && k < r.heads; ++k) {
    const int h = order[std::size_t(k)];
    svg::HeatMap m;
    m.title = "head " + std::to_string(h) + ", weight " + f(r.weight[std::size_t(h)], 2);
    m.rows = m.cols = n;
    m.values.assign(r.S[std::size_t(h)].begin(), r.S[std::size_t(h)].end());
    m.vmax = 1.0;
    fig.add(m);
  }
  svg::HeatMap p;
  p.title = "theory: P[t, t] and P[t, t-1]";
  p.rows = p.cols = n;
  p.values.assign(std::size_t(n) * n, 0.0);
  for (int t = 0; t < n; ++t) {
    p.values[std::size_t(t) * n + t] = 1.0;
    if (t > 0) p.values[std::size_t(t) * n + t - 1] = 1.0;
  }
  fig.add(p);
  return fig.render();
}

void heads_table(std::ostringstream& md, const std::vector<GatedRun>& runs) {
  md << "\n| seed | heads | weighted mass of S_h on the two latest tokens | on the first two, s_0 and s_1 | mean |cos| "
        "of the heads' Wq Wk^T (max) | mean |cos| of their Wv Wo (max) |\n|---:|---:|---:|---:|---:|---:|\n";
  for (const GatedRun& r : runs)
    md << "| " << r.seed << " | " << r.heads << " | " << f(r.recency) << " | " << f(r.start) << " | " << f(r.qk_overlap) << " ("
       << f(r.qk_overlap_max) << ") | " << f(r.ov_overlap) << " (" << f(r.ov_overlap_max) << ") |\n";
  const GatedRun& first = runs.front();
  md << "\nThe heaviest heads of seed " << first.seed << " (weight ||Wv_h Wo||_F), and the mean mass of S_h[t, t - k] "
     << "over rows t = " << kOffsets << ".." << first.S.front().shape(0) - 1 << " (and on j = 0, 1):\n\n| head | weight |";
  for (int k = 0; k < kOffsets; ++k) md << " k = " << k << " |";
  md << " j = 0, 1 |\n|---:|---:|";
  for (int k = 0; k <= kOffsets; ++k) md << "---:|";
  md << "\n";
  const std::vector<int> order = heads_by_weight(first);
  for (int i = 0; i < std::min(8, first.heads); ++i) {
    const int h = order[std::size_t(i)];
    md << "| " << h << " | " << f(first.weight[std::size_t(h)]) << " |";
    for (int k = 0; k < kOffsets; ++k) md << " " << f(first.offset_mass[std::size_t(h) * kOffsets + k]) << " |";
    md << " " << f(first.start_mass[std::size_t(h)]) << " |\n";
  }
}

}  // namespace

Part run_gated_part(const Options& o) {
  const int d = o.authors_d, n = o.authors_n;
  Rng test_rng(o.eval_seed, 0xe7a3);
  const Dataset test = make_dataset(AuthorsTokens::tiled, d, n, o.authors_test, test_rng);
  std::vector<GatedRun> runs;
  for (int k = 0; k < o.gated_seeds; ++k) {
    const std::uint64_t seed = o.seed + std::uint64_t(k);
    Rng data_rng(seed, 0xda7b);
    const Dataset train = make_dataset(AuthorsTokens::tiled, d, n, o.gated_sequences, data_rng);
    runs.push_back(train_gated(o, seed, train, test));
  }
  const std::vector<double> zero = zero_curve(test);
  std::vector<NamedCurve> curves;
  for (const GatedRun& r : runs) curves.push_back({"trained, seed " + std::to_string(r.seed), &r.model, false, true});
  curves.push_back({"zero predictor", &zero, true, false});

  std::ostringstream md;
  md << "\n## (f) The authors' non-augmented run (their Fig. 7, `non_augmented.py`)\n\n"
     << "Their model on the engine: d = " << d << ", plain tokens (s_t, s_t) of width " << 2 * d << " for t = 0.."
     << n - 1 << ", their data as in (e). One layer of " << o.gated_heads << " heads (theirs: 64), each " << 2 * d
     << " wide with biases; head h weighs the linear token scores Q_h K_h^T / sqrt(" << 2 * d
     << ") by S_h, a causal softmax over a learned position table through the head's own query and key maps; the "
        "heads are summed, o = (sum) Wo + bo, z = LN(o) without residual, y = z Wf + bf. Adam lr "
     << o.authors_lr << ", batch " << o.gated_batch << ", " << o.gated_epochs << " epochs over " << o.gated_sequences
     << " training sequences (" << std::int64_t(o.gated_epochs) * (o.gated_sequences / o.gated_batch) << " steps); "
     << test.count << " test sequences.\n\n";
  std::string table;
  loss_table(table, curves);
  md << table;
  heads_table(md, runs);
  double gap = 0;
  for (const GatedRun& r : runs) gap = std::max(gap, r.gate_gap);
  md << "\nWithout any positional preference a row's mass on its two latest keys would average "
     << f(uniform_recency(n)) << ". The maps S_h are recomputed here from the trained parameters (xtensor, "
     << "double); they agree with the engine's own gates to " << text::format_g9(gap) << ".\n\n![loss against t](gated_loss_vs_t.svg)\n\n![positional maps](gated_maps.svg)\n";

  Part part;
  part.markdown = md.str();
  double recency = 0, model = 0, overlap = 0;
  for (const GatedRun& r : runs) {
    recency += r.recency / double(runs.size());
    model += mean_from_1(r.model) / double(runs.size());
    overlap += r.ov_overlap / double(runs.size());
  }
  const double zero_mean = mean_from_1(zero);
  const bool learns = model < 0.5 * zero_mean, recent = recency >= 0.5;
  part.claims.push_back(
      {"7", "plain tokens: a trained multi-head layer with positional attention finds those heads and that P",
       learns && recent ? "reproduced"
       : learns         ? "partly: it learns in context, without the predicted positional map"
       : recent         ? "partly: the predicted positional map, without learning to predict"
                        : "not reproduced",
       "mean MSE over t = 1.." + std::to_string(n - 1) + " " + f(model, 5) + " against " + f(zero_mean, 5) +
           " for the zero predictor; the heads' positional softmax puts " + f(recency) +
           " of its weighted mass on the two latest tokens (uniform: " + f(uniform_recency(n)) +
           "); mean |cos| between the heads' value-output maps " + f(overlap)});
  std::vector<std::pair<std::string, const std::vector<double>*>> columns;
  for (const GatedRun& r : runs) columns.push_back({"model_seed" + std::to_string(r.seed), &r.model});
  columns.push_back({"zero", &zero});
  part.files = {{"gated_loss_vs_t.csv", loss_csv(columns)},
                {"gated_loss_vs_t.svg", loss_chart("the authors' non-augmented model (their Fig. 7)", curves)},
                {"gated_maps.svg", maps_svg(runs.front(), n)}};
  for (const GatedRun& r : runs)
    part.summary += "authors' non-augmented model, seed " + std::to_string(r.seed) + ": mean MSE " +
                    f(mean_from_1(r.model), 5) + " (zero " + f(zero_mean, 5) + "), recency " + f(r.recency) +
                    ", train " + f(r.seconds, 1) + " s\n";
  return part;
}

}  // namespace tinyloop::study::icar
