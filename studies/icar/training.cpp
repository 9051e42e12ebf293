// The ICAR study's one training loop and evaluation pass: every model of parts (a), (b) and (c)
// is set up, trained and evaluated here.
#include <algorithm>

#include "common/optimizer.hpp"
#include "icar/parts.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::study::icar {

namespace {


// Batch buffers of one token kind; fill() draws B sequences and lays out the model's inputs.
struct Buffers {
  int p, n, width;
  std::vector<float> states, aug, inputs, targets;
  std::vector<std::uint8_t> mask;
  Buffers(const task::IcarTask& t, int rows, Tokens tok)
      : p(t.p), n(t.n), width(tok == Tokens::augmented ? 2 * t.p : t.p), states(std::size_t(rows) * n * p),
        aug(std::size_t(rows) * n * 2 * p), inputs(std::size_t(rows) * n * width), targets(std::size_t(rows) * n * p),
        mask(std::size_t(rows) * n) {}
  ModelBatch<float> batch(int count) {
    ModelBatch<float> b;
    b.inputs = inputs.data();
    b.targets = targets.data();
    b.mask = mask.data();
    b.batch = count;
    b.len = n;
    return b;
  }
  // The model's inputs from augmented tokens (the first p entries of each are s_t).
  void lay_out(const float* augmented, int count) {
    for (std::size_t k = 0; k < std::size_t(count) * n; ++k)
      std::copy(augmented + k * 2 * p, augmented + k * 2 * p + width, inputs.begin() + k * width);
  }
  void fill(const task::IcarTask& t, Rng& rng, int count) {
    task::icar_batch<float>(t, rng, count, states.data(), aug.data(), targets.data(), mask.data());
    lay_out(aug.data(), count);
  }
};

void set_up(Trained& r, const ModelSpec& cfg, const task::IcarTask& t, const TrainSpec& spec, const Options& o) {
  const Capacity cap{t.n, std::max(o.batch, o.eval_batch), 1};
  r.buffer.resize(Model<float>::plan(cfg, cap).total);
  check(r.m.init(cfg, adamw_cosine(spec.lr, spec.steps, 100), cap, r.buffer.data(), r.buffer.size()));
  Rng init_rng(o.seed, spec.init_stream);
  r.m.init_weights(init_rng);
  // Learned positions start at N(0, 0.1^2) (the model's default N(0, 1) would dwarf unit states).
  if (r.m.layout().pos != kAbsent)
    for (std::size_t i = 0; i < std::size_t(cfg.max_len) * cfg.width; ++i) r.m.params()[r.m.layout().pos + i] *= 0.1f;
  r.init_params.assign(r.m.params(), r.m.params() + r.m.param_count());
}

void train_steps(Trained& r, const task::IcarTask& t, const TrainSpec& spec, const Options& o) {
  Buffers buf(t, o.batch, spec.tokens);
  StepNote note;
  note.name = spec.name;
  note.steps = spec.steps;
  const double t0 = platform::now_seconds();
  for (std::int64_t s = 0; s < spec.steps; ++s) {
    buf.fill(t, r.data, o.batch);
    ModelStats stats;
    check(r.m.train_step(buf.batch(o.batch), spec.steps, &stats));
    if (o.on_step) {
      note.done = s + 1;
      note.loss = stats.loss;
      note.seconds = platform::now_seconds() - t0;
      o.on_step(note);
    }
  }
  r.seconds = platform::now_seconds() - t0;
}

void evaluate(Trained& r, const task::IcarTask& t, Tokens tok, const Options& o) {
  const int p = t.p, n = t.n;
  Buffers buf(t, o.eval_batch, tok);
  r.curve.assign(n, 0.0);
  for_eval_chunks(t, o, [&](int count, const float*, const float* aug, const float* targets) {
    buf.lay_out(aug, count);
    ModelStats stats;
    check(r.m.evaluate(buf.batch(count), &stats));
    for (int b = 0; b < count; ++b)
      add_position_errors(r.m.outputs(b), targets + std::size_t(b) * n * p, p, 1, n - 1, r.curve);
  });
  for (double& v : r.curve) v /= o.eval_sequences;
}

}  // namespace

task::IcarTask make_task(const Options& o, task::Setting setting, bool fixed_start) {
  task::IcarTask t;
  t.p = o.p;
  t.n = o.n;
  t.setting = setting;
  t.fixed_start = fixed_start;
  Rng rng(o.seed, 0x7a5c);
  task::init_task(&t, rng);
  return t;
}

std::unique_ptr<Trained> train(const ModelSpec& cfg, const task::IcarTask& t, const TrainSpec& spec,
                               const Options& o) {
  auto r = std::make_unique<Trained>();
  set_up(*r, cfg, t, spec, o);
  r->data = Rng(o.seed, spec.data_stream);
  train_steps(*r, t, spec, o);
  evaluate(*r, t, spec.tokens, o);
  return r;
}

void add_position_errors(const float* y, const float* targets, int p, int from, int to, std::vector<double>& curve) {
  for (int i = from; i < to; ++i) {
    const float* yi = y + std::size_t(i) * p;
    const float* ti = targets + std::size_t(i) * p;
    double e = 0;
    for (int c = 0; c < p; ++c) e += (double(yi[c]) - ti[c]) * (double(yi[c]) - ti[c]);
    curve[std::size_t(i)] += e / p;
  }
}

double curve_mean(const std::vector<double>& c, int n) {
  double s = 0;
  for (int i = 1; i <= n - 2; ++i) s += c[i] / (n - 2);
  return s;
}

}  // namespace tinyloop::study::icar
