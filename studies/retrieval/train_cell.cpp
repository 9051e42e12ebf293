// Trains one cell of the retrieval study and evaluates it per depth over training.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "common/optimizer.hpp"
#include "retrieval/progress.hpp"
#include "retrieval/retrieval.hpp"
#include "tinyloop/checkpoint.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::study::retrieval {

namespace rt = tinyloop::retrieval;

namespace {

// Batches of one task, drawn into buffers planned once.
struct Batches {
  rt::RetrievalTask task;
  int rows, stride;
  std::vector<std::int32_t> tokens, labels, depth, scratch, lengths;
  std::vector<std::uint8_t> mask;
  int len = 0;
  Batches(const rt::RetrievalTask& t, int r)
      : task(t), rows(r), stride(rt::max_length(t)), tokens(std::size_t(r) * stride), labels(tokens.size()),
        depth(tokens.size()), scratch(rt::scratch_size(t)), lengths(std::size_t(r)), mask(tokens.size()) {}
  // Each row with its own length: the model skips the padding up to the longest.
  ModelBatch<float> draw(Rng& rng, int count) {
    const rt::RetrievalBuffers b{tokens.data(), labels.data(), mask.data(), depth.data(), scratch.data(),
                                 lengths.data()};
    check(rt::retrieval_batch(task, rng, count, stride, b, &len));
    ModelBatch<float> fb;
    fb.tokens = tokens.data();
    fb.labels = labels.data();
    fb.mask = mask.data();
    fb.lengths = lengths.data();
    fb.batch = count;
    fb.len = len;
    return fb;
  }
};

ModelSpec model_config(const CellOptions& o) {
  ModelSpec c;
  c.layers = o.layers;
  c.looped = o.looped;
  c.heads = o.heads;
  c.width = o.width;
  c.positions = o.positions;
  c.max_len = rt::max_length(o.task);
  c.vocab_in = rt::vocab(o.task);
  c.out_dim = rt::vocab(o.task);
  return c;
}

int argmax(const float* y, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (y[i] > y[best]) best = i;
  return best;
}

// The position of the statement that defines the variable at odd position i (its left side), or
// -1. Statements sit at (2s, 2s + 1); the query's '?' and variable are the last two positions, so
// every odd position is a right side or the query. Each variable is defined once.
int definition_of(const std::int32_t* tokens, int i) {
  for (int j = i - 3; j >= 0; j -= 2)  // i is odd: the left sides before its own statement
    if (tokens[j] == tokens[i]) return j;
  return -1;
}

// Adds one instance's head-role weights (sums and counts) for every layer and head; its maps
// are len x len, len being the instance's own length (Model::length).
void add_roles(const Model<float>& m, int seq, const std::int32_t* tokens, int values, std::vector<HeadRole>* sum,
               double* count) {
  const ModelSpec& c = m.config();
  const int len = m.length(seq);
  for (int i = 1; i < len; i += 2) {
    if (tokens[i] < values) continue;  // a value: nothing to resolve
    const int j = definition_of(tokens, i);
    if (j < 0) continue;
    *count += 1;
    for (int l = 0; l < c.layers; ++l)
      for (int h = 0; h < c.heads; ++h) {
        const float* P = m.attention(seq, l, h);
        HeadRole& r = (*sum)[std::size_t(l) * c.heads + h];
        r.match += P[std::size_t(i) * len + j];
        r.retrieve += P[std::size_t(i) * len + j + 1];
        r.own += P[std::size_t(i) * len + i - 1];
      }
  }
}

std::string token_name(int t, const rt::RetrievalTask& task) {
  if (t < task.values) return std::to_string(t);
  if (t < task.values + task.variables) return "x" + std::to_string(t - task.values);
  return "?";
}

// Accuracy per depth and at the query on the held-out set (drawn again from eval_seed each time),
// the heads' roles, and (when `maps` is set) the attention maps of the first instance.
EvalPoint evaluate(Model<float>& m, Batches& eval, const CellOptions& o, AttentionMaps* maps = nullptr) {
  const int K = o.task.max_depth, V = rt::vocab(o.task);
  std::vector<double> right(K + 1, 0.0), total(K + 1, 0.0);
  double q_right = 0, q_total = 0;
  const ModelSpec& spec = m.config();
  const bool softmax = spec.attention == AttentionKind::softmax;
  std::vector<HeadRole> roles(softmax ? std::size_t(spec.layers) * spec.heads : 0);
  double role_count = 0;
  Rng rng(o.eval_seed, 0xe7a1);
  for (int done = 0; done < o.eval_instances; done += eval.rows) {
    const int count = std::min(eval.rows, o.eval_instances - done);
    const ModelBatch<float> b = eval.draw(rng, count);
    ModelStats stats;
    check(m.evaluate(b, &stats));
    for (int s = 0; s < count; ++s) {
      const std::int32_t* tokens = eval.tokens.data() + std::size_t(s) * b.len;
      if (softmax) add_roles(m, s, tokens, o.task.values, &roles, &role_count);
      if (maps && done == 0 && s == 0) {
        const int n = m.length(0);
        maps->len = n;
        maps->tokens.clear();
        maps->maps.clear();
        for (int i = 0; i < n; ++i) maps->tokens.push_back(token_name(tokens[i], o.task));
        for (int l = 0; l < spec.layers; ++l)
          for (int h = 0; h < spec.heads; ++h) {
            const float* P = m.attention(0, l, h);
            maps->maps.emplace_back(P, P + std::size_t(n) * n);
          }
      }
      const float* y = m.outputs(s);
      for (int i = 0; i < b.len; ++i) {
        const std::size_t at = std::size_t(s) * b.len + i;
        if (!eval.mask[at]) continue;
        const bool ok = argmax(y + std::size_t(i) * V, V) == eval.labels[at];
        if (i == b.len - 1) {
          q_right += ok;
          q_total += 1;
        } else {
          right[eval.depth[at]] += ok;
          total[eval.depth[at]] += 1;
        }
      }
    }
  }
  EvalPoint p;
  for (int h = 1; h <= K; ++h) p.depth.push_back(total[h] > 0 ? right[h] / total[h] : 0.0);
  p.query = q_total > 0 ? q_right / q_total : 0.0;
  for (HeadRole& r : roles) {
    const double n = role_count > 0 ? role_count : 1.0;
    r = HeadRole{r.match / n, r.retrieve / n, r.own / n};
  }
  p.heads = roles;
  return p;
}

void show(const std::string& label, const EvalPoint& p, std::int64_t steps, double seconds) {
  if (label.empty()) return;
  std::fprintf(stderr, "retrieval %s: step %lld/%lld  loss %.4f  query %.3f  depths", label.c_str(),
               (long long)p.step, (long long)steps, p.train_loss, p.query);
  for (double a : p.depth) std::fprintf(stderr, " %.2f", a);
  std::fprintf(stderr, "  (%.0f s)\n", seconds);
}

// The trained model, its AdamW state and the data generator's position, as a checkpoint.
std::string checkpoint_of(Model<float>& m, const CellOptions& o, const Rng& data) {
  CheckpointData d;
  d.config.optim = m.optim();
  d.config.batch = o.batch;
  d.config.steps = o.steps;
  d.config.seed = o.seed;
  d.config.model = m.config();
  d.params = m.params();
  d.adam_m = m.adam_m();
  d.adam_v = m.adam_v();
  d.step = m.step();
  d.rng_state = data.state();
  d.rng_inc = data.increment();
  std::string bytes(checkpoint_bytes(d.config, true), '\0');
  std::size_t written = 0;
  check(checkpoint_write(d, reinterpret_cast<std::uint8_t*>(&bytes[0]), bytes.size(), &written));
  return bytes;
}

}  // namespace

rt::RetrievalTask eval_task(const rt::RetrievalTask& train) {
  rt::RetrievalTask t = train;
  t.fixed_depth = true;
  t.curriculum = true;
  return t;
}

Status validate(const CellOptions& o) {
  const Status st = rt::validate(o.task);
  return st ? validate(model_config(o)) : st;
}

CellResult train_cell(const CellOptions& o, const std::string& label) {
  CellResult r;
  r.options = o;
  check(validate(o));
  const ModelSpec cfg = model_config(o);
  const OptimConfig opt = adamw_cosine(o.lr, o.steps, 200);
  Batches train(o.task, o.batch), eval(eval_task(o.task), 64);
  Capacity cap{rt::max_length(o.task), std::max(train.rows, eval.rows), 1};
  cap.keep_attention = true;  // the head roles read every sequence's attention maps
  std::vector<unsigned char> buffer(Model<float>::plan(cfg, cap).total);
  Model<float> m;
  check(m.init(cfg, opt, cap, buffer.data(), buffer.size()));
  Rng init_rng(o.seed, 0x1417);
  m.init_weights(init_rng);
  r.params = long(m.param_count());

  Rng data(o.seed, 0xda7a);
  double earlier = 0;  // seconds spent before a continued run
  std::int64_t start = 0;
  if (!o.progress.empty() && load_progress(o.progress, o, m, &data, &r.curve, &earlier)) {
    start = m.step();
    if (!label.empty())
      std::fprintf(stderr, "retrieval %s: continuing from step %lld (%s)\n", label.c_str(), (long long)start,
                   o.progress.c_str());
  }
  const double t0 = platform::now_seconds() - earlier;
  double loss_sum = 0;
  long loss_count = 0;
  for (std::int64_t s = start; s <= o.steps; ++s) {
    // A continued run's first evaluation is the last of its curve, and the loss sums restart there.
    if ((s % o.eval_every == 0 || s == o.steps) && !(s == start && start > 0)) {
      EvalPoint p = evaluate(m, eval, o);
      p.step = s;
      p.train_loss = loss_count > 0 ? loss_sum / loss_count : 0.0;
      loss_sum = 0;
      loss_count = 0;
      r.curve.push_back(p);
      show(label, p, o.steps, platform::now_seconds() - t0);
      if (o.stop_at > 0 && p.query >= o.stop_at) break;
      if (s == o.steps) break;
      if (!o.progress.empty()) save_progress(o.progress, checkpoint_of(m, o, data), r.curve, platform::now_seconds() - t0);
      if (o.interrupt_at >= 0 && s >= o.interrupt_at) {
        r.seconds = platform::now_seconds() - t0;
        return r;
      }
    }
    if (s == o.steps) break;
    ModelStats stats;
    check(m.train_step(train.draw(data, o.batch), o.steps, &stats));
    loss_sum += stats.loss;
    ++loss_count;
  }
  r.seconds = platform::now_seconds() - t0;
  r.checkpoint = checkpoint_of(m, o, data);
  if (m.config().attention == AttentionKind::softmax) evaluate(m, eval, o, &r.attention);
  return r;
}

std::int64_t first_step_at(const CellResult& r, int depth, double level) {
  for (const EvalPoint& p : r.curve) {
    const double a = depth == 0 ? p.query : p.depth[std::size_t(depth) - 1];
    if (a >= level) return p.step;
  }
  return -1;
}

}  // namespace tinyloop::study::retrieval
