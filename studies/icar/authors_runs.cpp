// The authors' data, optimiser, training loop and loss-per-position measures (icar/authors_runs.hpp).
#include "icar/authors_runs.hpp"

#include <algorithm>
#include <cmath>

#include <xtensor-blas/xlinalg.hpp>

#include "common/svg.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::study::icar {

namespace {

constexpr int kEvalChunk = 256;  // test sequences per evaluation pass

// The token of state i: (0_d, s_i, s_{i-1}) or (s_i, s_i), from the task's augmented pair
// (s_i, s_{i-1}).
void write_token(AuthorsTokens kind, int d, const float* pair, float* token) {
  if (kind == AuthorsTokens::augmented) {
    std::fill(token, token + d, 0.0f);
    std::copy(pair, pair + 2 * d, token + d);
  } else {
    std::copy(pair, pair + d, token);
    std::copy(pair, pair + d, token + d);
  }
}

// Adam as torch.optim.Adam: no weight decay, no clipping, a constant rate.
OptimConfig torch_adam(float lr) {
  OptimConfig o;
  o.lr = lr;
  o.weight_decay = 0.0f;
  o.clip_norm = 0.0f;
  return o;
}

// Test MSE per position, from the model's outputs.
std::vector<double> evaluate_curve(Model<float>& m, const Dataset& test) {
  const int n = test.n, d = test.d;
  std::vector<double> curve(std::size_t(n), 0.0);
  for (int b0 = 0; b0 < test.count; b0 += kEvalChunk) {
    const int count = std::min(kEvalChunk, test.count - b0);
    ModelBatch<float> batch;
    batch.inputs = test.tokens.data() + std::size_t(b0) * n * test.width;
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

// Copies the sequences order[first .. first + B) of `from` into the batch arrays.
void gather_batch(const Dataset& from, const std::vector<int>& order, std::size_t first, int B, float* tokens,
                  float* targets) {
  const std::size_t token_floats = std::size_t(from.n) * from.width, target_floats = std::size_t(from.n) * from.d;
  for (int row = 0; row < B; ++row) {
    const std::size_t s = std::size_t(order[first + std::size_t(row)]);
    std::copy_n(from.tokens.begin() + std::ptrdiff_t(s * token_floats), token_floats, tokens + row * token_floats);
    std::copy_n(from.targets.begin() + std::ptrdiff_t(s * target_floats), target_floats,
                targets + row * target_floats);
  }
}

std::string f(double v, int digits) { return text::format_fixed(v, digits); }

}  // namespace

int token_width(AuthorsTokens kind, int d) { return kind == AuthorsTokens::augmented ? 3 * d : 2 * d; }

Dataset make_dataset(AuthorsTokens kind, int d, int n, int count, Rng& rng) {
  task::IcarTask t;
  t.p = d;
  t.n = n + 1;
  t.setting = task::Setting::haar;
  t.fixed_start = true;
  check(task::validate(t));
  const int w = token_width(kind, d);
  Dataset s{kind, count, n, d, w, std::vector<float>(std::size_t(count) * n * w),
            std::vector<float>(std::size_t(count) * n * d), std::vector<float>(std::size_t(count) * (n + 1) * d)};
  std::vector<float> pairs(std::size_t(n + 1) * 2 * d), next(std::size_t(n + 1) * d);
  for (int b = 0; b < count; ++b) {
    float* states = s.states.data() + std::size_t(b) * (n + 1) * d;
    task::icar_batch<float>(t, rng, 1, states, pairs.data(), next.data(), nullptr);
    for (int i = 0; i < n; ++i) {  // token of s_i -> s_{i+1}
      write_token(kind, d, pairs.data() + std::size_t(i) * 2 * d, s.tokens.data() + (std::size_t(b) * n + i) * w);
      std::copy(next.begin() + std::ptrdiff_t(i) * d, next.begin() + std::ptrdiff_t(i + 1) * d,
                s.targets.begin() + (std::ptrdiff_t(b) * n + i) * d);
    }
  }
  return s;
}

AuthorsRun train_authors_model(const ModelSpec& spec, const Dataset& train, const Dataset& test,
                               const AuthorsTraining& how, std::uint64_t seed, const Options& o,
                               const std::function<void(const Model<float>&)>& inspect) {
  const int n = train.n, B = how.batch;
  platform::ThreadPool pool(std::max(1, std::min(2, platform::hardware_threads())));
  const Capacity cap{n, std::max(B, kEvalChunk), pool.workers()};
  std::vector<unsigned char> buffer(Model<float>::plan(spec, cap).total);
  Model<float> m;
  const std::int64_t per_epoch = train.count / B, steps = per_epoch * how.epochs;
  check(m.init(spec, torch_adam(how.lr), cap, buffer.data(), buffer.size()));
  m.set_parallel(&pool);
  Rng init_rng(seed, 0xa0);
  m.init_weights(init_rng);
  std::vector<float> tokens(std::size_t(B) * n * train.width), targets(std::size_t(B) * n * train.d);
  std::vector<int> order(std::size_t(train.count));
  for (int i = 0; i < train.count; ++i) order[std::size_t(i)] = i;
  Rng shuffle(seed, 0xa1);
  StepNote note;
  note.name = how.name;
  note.steps = steps;
  AuthorsRun r;
  r.seed = seed;
  const double t0 = platform::now_seconds();
  for (int epoch = 0; epoch < how.epochs; ++epoch) {
    for (int i = train.count - 1; i > 0; --i)
      std::swap(order[std::size_t(i)], order[shuffle.uniform_int(std::uint32_t(i + 1))]);
    for (std::int64_t k = 0; k < per_epoch; ++k) {
      gather_batch(train, order, std::size_t(k * B), B, tokens.data(), targets.data());
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
  r.model = evaluate_curve(m, test);
  r.rate = fitted_rate(r.model);
  if (inspect) inspect(m);
  return r;
}

double fitted_rate(const std::vector<double>& curve) {
  using Matrix = xt::xtensor<double, 2>;
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

std::vector<double> zero_curve(const Dataset& test) {
  const int n = test.n, d = test.d;
  std::vector<double> zero(std::size_t(n), 0.0);
  for (int b = 0; b < test.count; ++b)
    for (int t = 0; t < n; ++t)
      for (int c = 0; c < d; ++c) {
        const double v = test.targets[(std::size_t(b) * n + t) * d + c];
        zero[std::size_t(t)] += v * v / d / test.count;
      }
  return zero;
}

double mean_from_1(const std::vector<double>& c) {
  double s = 0;
  for (std::size_t t = 1; t < c.size(); ++t) s += c[t];
  return s / double(c.size() - 1);
}

std::string loss_chart(const std::string& title, const std::vector<NamedCurve>& curves) {
  svg::LineChart c;
  c.title = title;
  c.x_label = "position t (predicting s_{t+1})";
  c.y_label = "test MSE per component";
  c.log_y = true;
  for (const NamedCurve& nc : curves) {
    svg::Series s;
    s.label = nc.label;
    s.dashed = nc.reference;
    for (std::size_t t = 1; t < nc.curve->size(); ++t) {  // t = 0 is unpredictable for every model
      s.x.push_back(double(t));
      s.y.push_back((*nc.curve)[t]);
    }
    c.series.push_back(s);
  }
  svg::Figure fig("", 1, 640, 400);
  fig.add(c);
  return fig.render();
}

std::string loss_csv(const std::vector<std::pair<std::string, const std::vector<double>*>>& columns) {
  std::string csv = "t";
  for (const auto& col : columns) csv += "," + col.first;
  csv += "\n";
  const std::size_t n = columns.empty() ? 0 : columns.front().second->size();
  for (std::size_t t = 0; t < n; ++t) {
    csv += std::to_string(t);
    for (const auto& col : columns) csv += "," + text::format_g9((*col.second)[t]);
    csv += "\n";
  }
  return csv;
}

void loss_table(std::string& md, const std::vector<NamedCurve>& curves) {
  md += "| t |";
  for (const NamedCurve& c : curves) md += " " + c.label + " |";
  md += "\n|---:|";
  for (std::size_t i = 0; i < curves.size(); ++i) md += "---:|";
  md += "\n";
  const int n = curves.empty() ? 0 : int(curves.front().curve->size());
  for (int t : {0, 1, 2, 3, 5, 10, 20, 30, 40, n - 1}) {
    if (t >= n || (t == 40 && n - 1 == 40)) continue;
    md += "| " + std::to_string(t) + " |";
    for (const NamedCurve& c : curves) md += " " + f((*c.curve)[std::size_t(t)], 5) + " |";
    md += "\n";
  }
  md += "| mean over t = 1.." + std::to_string(n - 1) + " |";
  for (const NamedCurve& c : curves) md += " " + f(mean_from_1(*c.curve), 5) + " |";
  md += "\n| fitted rate b of a t^-b (t = 2.." + std::to_string(n - 1) + ") |";
  for (const NamedCurve& c : curves) md += c.rate ? " " + f(fitted_rate(*c.curve), 3) + " |" : " |";
  md += "\n";
}

}  // namespace tinyloop::study::icar
