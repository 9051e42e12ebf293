// The induction study's look inside the first seed of each group: the attention of one sequence
// at chosen loops (attention-<group>.svg, attention.csv) and the attention mass of every loop on
// the positions that matter for the task (mechanism.csv and the tables of report.md).
#include <algorithm>
#include <cstdio>

#include "common/svg.hpp"
#include "induction/parts.hpp"
#include "tinyloop/induction.hpp"
#include "tinyloop/inference.hpp"

namespace tinyloop::study::induction {

namespace {

constexpr std::uint64_t kEvalSeed = 1234;  // the product's evaluation seed: the same sequences

// An inference engine with its own buffer and the weights loaded.
struct Session {
  std::vector<std::uint8_t> buffer;
  Inference engine;
  Session(const Weights& w, int max_len) : buffer(Inference::plan(w.cfg.model, max_len).total) {
    check(engine.init(w.cfg.model, max_len, buffer.data(), buffer.size()));
    check(engine.load_params(w.params.data(), w.params.size()));
  }
};

struct Sequence {
  std::vector<std::int32_t> tokens, targets;
  std::vector<int> recent;  // most recent earlier j with x_j == x_i, -1 if none
};

// Sample `index` of the evaluation set at length n: Rng(seed, stream n) as evaluate_induction.
Sequence eval_sequence(const TrainConfig& cfg, int n, int index) {
  Sequence s;
  s.tokens.resize(n);
  s.targets.resize(n);
  std::vector<std::int32_t> prev(n), last(cfg.task.alphabet);
  Rng rng(kEvalSeed, std::uint64_t(n));
  for (int k = 0; k <= index; ++k) induction_sample(rng, cfg.task.alphabet, s.tokens.data(), n);
  induction_targets(s.tokens.data(), n, cfg.task.alphabet, cfg.task.hops, s.targets.data(), last.data(), prev.data());
  s.recent.assign(n, -1);
  std::vector<int> seen(cfg.task.alphabet, -1);
  for (int i = 0; i < n; ++i) {
    s.recent[i] = seen[s.tokens[i]];
    seen[s.tokens[i]] = i;
  }
  return s;
}

// Attention mass of loop t on: the previous token, itself, the most recent earlier copy of
// x_i, the token after it (where the answer is), and every position after any earlier copy;
// means over query positions with a target. Also the per-loop readout accuracy.
struct MechanismRow {
  int len = 0, loop = 0;
  double prev = 0, self = 0, copy = 0, answer = 0, all_answers = 0, readout = 0;
  double peak = 0;  // largest weight of the row: how sharp the attention is
  double count = 0;
};

void add_loop(const Sequence& s, const float* P, const std::int32_t* readout, int n, int none, MechanismRow& r) {
  for (int i = 1; i < n; ++i) {
    if (s.targets[i] == none) continue;
    const float* row = P + std::size_t(i) * n;
    r.peak += *std::max_element(row, row + i + 1);
    r.prev += row[i - 1];
    r.self += row[i];
    const int j = s.recent[i];
    if (j >= 0) {
      r.copy += row[j];
      r.answer += row[j + 1];
    }
    double all = 0;
    for (int m = 1; m < i; ++m)
      if (s.tokens[m - 1] == s.tokens[i]) all += row[m];
    r.all_answers += all;
    r.readout += readout[i] == s.targets[i] ? 1.0 : 0.0;
    r.count += 1;
  }
}

// The rows of every loop over `samples` sequences of length n; first_attention (optional) gets
// the attention of the first sequence (loops x n x n).
std::vector<MechanismRow> measure(const Weights& w, int n, int samples, std::vector<float>* first_attention) {
  const int L = w.cfg.model.layers;
  Session session(w, n);
  std::vector<float> att(std::size_t(L) * n * n);
  std::vector<std::int32_t> per_loop(std::size_t(L) * n);
  std::vector<MechanismRow> rows(L);
  for (int k = 0; k < samples; ++k) {
    const Sequence s = eval_sequence(w.cfg, n, k);
    InferOutputs out;
    out.attention = att.data();
    out.attention_loop = 0;
    out.per_loop_predictions = per_loop.data();
    const Status st = session.engine.run(s.tokens.data(), n, out);
    if (!st) fail(std::string("attention readout failed: ") + st.message());
    if (k == 0 && first_attention) *first_attention = att;
    for (int t = 0; t < L; ++t)
      add_loop(s, att.data() + std::size_t(t) * n * n, per_loop.data() + std::size_t(t) * n, n, w.cfg.task.alphabet,
               rows[t]);
  }
  for (int t = 0; t < L; ++t) {
    MechanismRow& r = rows[t];
    const double c = std::max(r.count, 1.0);
    r.len = n;
    r.loop = t + 1;
    r.prev /= c; r.self /= c; r.copy /= c; r.answer /= c; r.all_answers /= c; r.readout /= c; r.peak /= c;
  }
  return rows;
}

// Loop list clipped to 1..loops, in order, without repeats.
std::vector<int> clip_loops(const std::vector<int>& want, int loops) {
  std::vector<int> out;
  for (int t : want)
    if (t >= 1 && t <= loops && std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  if (out.empty()) out.push_back(loops);
  return out;
}

std::vector<int> drawn_loops(const Options& o, int L) {
  if (o.attention_loops_given) return clip_loops(o.attention_loops, L);
  std::vector<int> loops;
  for (int t = 1; t <= L; ++t)
    if (L <= 8 || t == L || std::find(o.attention_loops.begin(), o.attention_loops.end(), t) != o.attention_loops.end())
      loops.push_back(t);
  return loops;
}

std::string attention_svg(const Options& o, const Group& g, const Weights& w, const std::vector<float>& first) {
  const int n = o.attention_len;
  const Sequence s = eval_sequence(w.cfg, n, 0);
  svg::Figure fig(g.name + " seed " + std::to_string(w.cfg.seed) + ": attention of one n=" + std::to_string(n) +
                      " sequence (evaluation seed 1234); row i = query, labels = tokens",
                  4, 300, 320);
  for (int t : drawn_loops(o, w.cfg.model.layers)) {
    svg::HeatMap m;
    m.rows = m.cols = n;
    m.values.assign(first.begin() + std::size_t(t - 1) * n * n, first.begin() + std::size_t(t) * n * n);
    m.vmax = std::max(1e-6, double(*std::max_element(m.values.begin(), m.values.end())));
    m.title = "loop " + std::to_string(t) + " (white 0, dark " + text::format_fixed(m.vmax, 2) + ")";
    for (int i = 0; i < n; ++i) {
      m.row_labels.push_back(std::to_string(s.tokens[i]));
      m.col_labels.push_back(std::to_string(s.tokens[i]));
    }
    fig.add(m);
  }
  return fig.render();
}

std::string attention_rows(const std::string& group, const std::vector<float>& first, int L, int n) {
  std::string csv;
  for (int t = 1; t <= L; ++t)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j <= i; ++j)
        csv += group + "," + std::to_string(t) + "," + std::to_string(i) + "," + std::to_string(j) + "," +
               text::format_g9(first[(std::size_t(t - 1) * n + i) * n + j]) + "\n";
  return csv;
}

std::string mechanism_rows(const std::string& group, const std::vector<MechanismRow>& rows) {
  std::string csv;
  for (const MechanismRow& m : rows)
    csv += group + "," + std::to_string(m.len) + "," + std::to_string(m.loop) + "," + text::format_g9(m.prev) + "," +
           text::format_g9(m.self) + "," + text::format_g9(m.copy) + "," + text::format_g9(m.answer) + "," +
           text::format_g9(m.all_answers) + "," + text::format_g9(m.peak) + "," + text::format_g9(m.readout) + "\n";
  return csv;
}

std::string mechanism_table(const Options& o, const Group& g, const Weights& w, const std::vector<MechanismRow>& rows) {
  std::string md = "\n**" + g.name + "** (seed " + std::to_string(w.cfg.seed) + ", n = 64, " +
                   std::to_string(o.mechanism_samples) + " sequences): mean attention mass per loop\n\n"
                   "| loop | previous token | itself | last copy of x_i | token after it (answer) | after any copy | "
                   "largest weight | readout acc |\n"
                   "|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const MechanismRow& m : rows)
    md += "| " + std::to_string(m.loop) + " | " + text::format_fixed(m.prev, 4) + " | " +
          text::format_fixed(m.self, 4) + " | " + text::format_fixed(m.copy, 4) + " | " +
          text::format_fixed(m.answer, 4) + " | " + text::format_fixed(m.all_answers, 4) + " | " +
          text::format_fixed(m.peak, 4) + " | " + text::format_fixed(100.0 * m.readout, 1) + "% |\n";
  return md;
}

}  // namespace

Mechanism mechanism(const Options& o, const std::vector<Group>& groups, const std::vector<Run>& runs, Lab& lab) {
  Mechanism out;
  std::string mech_csv = "group,len,loop,prev,self,copy,answer,all_answers,peak,readout_accuracy\n";
  std::string att_csv = "group,loop,query,key,p\n";
  for (const Group& g : groups) {
    const Run& r = runs[std::size_t(&g - groups.data()) * std::size_t(o.seeds)];
    if (!r.have_cfg) continue;
    const Weights w = lab.load(r.dir + "/model.tlc");
    std::vector<float> first;
    measure(w, o.attention_len, 1, &first);
    out.files.push_back({"attention-" + g.name + ".svg", attention_svg(o, g, w, first)});
    att_csv += attention_rows(g.name, first, w.cfg.model.layers, o.attention_len);
    const std::vector<MechanismRow> short_rows = measure(w, 64, o.mechanism_samples, nullptr);
    out.markdown += mechanism_table(o, g, w, short_rows);
    mech_csv += mechanism_rows(g.name, short_rows) + mechanism_rows(g.name, measure(w, 1000, 2, nullptr));
  }
  out.files.push_back({"attention.csv", att_csv});
  out.files.push_back({"mechanism.csv", mech_csv});
  return out;
}

double alibi_slope(const Weights& w) {
  Session session(w, 1);
  return session.engine.alibi_slope();
}

}  // namespace tinyloop::study::induction
