#include "results.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "args.hpp"
#include "model_io.hpp"
#include "recipes.hpp"
#include "text_format.hpp"
#include "tinyloop/platform/posix.hpp"
#include "train_options.hpp"

namespace tinyloop::cli {

namespace {

// eval.json: the default 5 lengths with a 25-loop per-loop readout take 2 KB, and 1 MiB holds 40
// lengths of a 1,000-loop model. A larger file is refused unread.
constexpr std::size_t kMaxEvalJsonBytes = std::size_t(1) << 20;

// A minimal JSON reader for the files tinyloop itself writes. Nesting and the number of values
// are capped (eval.json has 4 levels), so a hostile file can exhaust neither stack nor memory.
struct JValue {
  enum Kind { null, boolean, number, string, array, object } kind = null;
  double num = 0;
  std::string str;
  std::vector<JValue> items;
  std::vector<std::pair<std::string, JValue>> members;
  const JValue* get(const std::string& k) const {
    for (auto& m : members)
      if (m.first == k) return &m.second;
    return nullptr;
  }
};

class JParser {
 public:
  explicit JParser(const std::string& t) : t_(t) {}
  bool parse(JValue* out) {
    if (!value(out, 0)) return false;
    ws();
    return p_ == t_.size();
  }

 private:
  void ws() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\n' || t_[p_] == '\t' || t_[p_] == '\r')) ++p_;
  }
  bool lit(const char* w) {
    std::size_t n = std::char_traits<char>::length(w);
    if (t_.compare(p_, n, w) != 0) return false;
    p_ += n;
    return true;
  }
  bool str(std::string* s) {
    if (p_ >= t_.size() || t_[p_] != '"') return false;
    ++p_;
    while (p_ < t_.size() && t_[p_] != '"') {
      char c = t_[p_++];
      if (c == '\\' && p_ < t_.size()) {
        char e = t_[p_++];
        if (e == 'n') c = '\n';
        else if (e == 't') c = '\t';
        else if (e == 'u') { p_ += 4; c = '?'; }
        else c = e;
      }
      s->push_back(c);
    }
    if (p_ >= t_.size()) return false;
    ++p_;
    return true;
  }
  static constexpr int kMaxDepth = 16;
  static constexpr std::size_t kMaxValues = 65536;

  bool value(JValue* v, int depth) {
    ws();
    if (p_ >= t_.size() || depth > kMaxDepth || ++values_ > kMaxValues) return false;
    char c = t_[p_];
    if (c == '{') {
      v->kind = JValue::object;
      ++p_;
      ws();
      if (p_ < t_.size() && t_[p_] == '}') { ++p_; return true; }
      for (;;) {
        ws();
        std::string k;
        if (!str(&k)) return false;
        ws();
        if (p_ >= t_.size() || t_[p_++] != ':') return false;
        JValue m;
        if (!value(&m, depth + 1)) return false;
        v->members.emplace_back(k, std::move(m));
        ws();
        if (p_ < t_.size() && t_[p_] == ',') { ++p_; continue; }
        if (p_ < t_.size() && t_[p_] == '}') { ++p_; return true; }
        return false;
      }
    }
    if (c == '[') {
      v->kind = JValue::array;
      ++p_;
      ws();
      if (p_ < t_.size() && t_[p_] == ']') { ++p_; return true; }
      for (;;) {
        JValue m;
        if (!value(&m, depth + 1)) return false;
        v->items.push_back(std::move(m));
        ws();
        if (p_ < t_.size() && t_[p_] == ',') { ++p_; continue; }
        if (p_ < t_.size() && t_[p_] == ']') { ++p_; return true; }
        return false;
      }
    }
    if (c == '"') { v->kind = JValue::string; return str(&v->str); }
    if (lit("null")) { v->kind = JValue::null; return true; }
    if (lit("true")) { v->kind = JValue::boolean; v->num = 1; return true; }
    if (lit("false")) { v->kind = JValue::boolean; return true; }
    const char* begin = t_.c_str() + p_;
    char* end = nullptr;
    v->num = std::strtod(begin, &end);
    if (end == begin) return false;
    v->kind = JValue::number;
    p_ += std::size_t(end - begin);
    return true;
  }
  const std::string& t_;
  std::size_t p_ = 0;
  std::size_t values_ = 0;
};

std::string read_eval_json(const std::string& path) {
  std::vector<std::uint8_t> bytes;
  const Status s = platform::read_file(path.c_str(), kMaxEvalJsonBytes, &bytes);
  if (s.code() == Error::buffer_too_small)
    runtime_error("'" + path + "' is larger than 1 MiB, the most an eval.json may hold");
  if (!s) runtime_error("cannot read '" + path + "': " + s.message());
  return std::string(bytes.begin(), bytes.end());
}

std::string pct_range(double mean, double lo, double hi, int runs) {
  if (runs > 1)
    return text::format_percent(mean) + " (" + text::format_percent(lo) + "-" + text::format_percent(hi) + ")";
  return text::format_percent(mean);
}

bool is_seed_folder(const std::string& name) {
  if (name.size() < 5 || name.compare(0, 4, "seed") != 0) return false;
  return name.find_first_not_of("0123456789", 4) == std::string::npos;
}

}  // namespace

double RunResult::token_at(int len) const {
  for (const LengthAccuracy& l : lengths)
    if (l.len == len) return l.token;
  return NAN;
}

double RunResult::sequence_at(int len) const {
  for (const LengthAccuracy& l : lengths)
    if (l.len == len) return l.sequence;
  return NAN;
}

std::vector<LogRow> read_train_log(const std::string& path, std::int64_t step) {
  std::vector<LogRow> rows;
  std::string text;
  const Status s = read_train_log_file(path, step, &text);
  if (s.code() == Error::buffer_too_small) runtime_error("'" + path + "' is " + s.message());
  if (!s) return rows;
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> cols;
  if (!std::getline(in, line)) return rows;
  {
    std::istringstream h(line);
    std::string c;
    while (std::getline(h, c, ',')) cols.push_back(c);
  }
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    LogRow r;
    std::istringstream l(line);
    std::string cell;
    for (std::size_t k = 0; std::getline(l, cell, ',') && k < cols.size(); ++k) {
      const double v = cell.empty() ? NAN : std::strtod(cell.c_str(), nullptr);
      const std::string& c = cols[k];
      if (c == "step") r.step = std::int64_t(v);
      else if (c == "ce") r.ce = v;
      else if (c == "potential") r.potential = v;
      else if (c == "kinetic") r.kinetic = v;
      else if (c == "tsallis") r.tsallis = v;
      else if (c == "entropy") r.entropy = v;
      else if (c == "total") r.total = v;
      else if (c == "grad_norm") r.grad_norm = v;
      else if (c == "lr") r.lr = v;
      else if (c == "acc") r.acc = v;
      else if (c == "len") r.len = int(v);
    }
    rows.push_back(r);
  }
  return rows;
}

RunResult read_run(const std::string& dir, const std::string& group) {
  RunResult r;
  r.dir = dir;
  r.group = group;
  const std::string eval_path = dir + "/eval.json";
  const std::string text = read_eval_json(eval_path);
  JValue j;
  if (!JParser(text).parse(&j) || j.kind != JValue::object) runtime_error("'" + eval_path + "' is not valid JSON");
  const JValue* results = j.get("results");
  if (!results || results->kind != JValue::array) runtime_error("'" + eval_path + "' has no \"results\" array");
  if (const JValue* s = j.get("samples")) r.samples = int(s->num);
  for (const JValue& row : results->items) {
    LengthAccuracy l;
    const JValue *len = row.get("len"), *tok = row.get("token_accuracy"), *seq = row.get("sequence_accuracy");
    if (!len || !tok) runtime_error("'" + eval_path + "': a result lacks \"len\" or \"token_accuracy\"");
    l.len = int(len->num);
    l.token = tok->kind == JValue::number ? tok->num : NAN;
    l.sequence = seq && seq->kind == JValue::number ? seq->num : NAN;
    if (const JValue* pl = row.get("per_loop"))
      for (const JValue& v : pl->items) l.per_loop.push_back(v.kind == JValue::number ? v.num : NAN);
    r.lengths.push_back(l);
  }
  const std::string model = dir + "/model.tlc";
  if (platform::exists(model.c_str())) {
    LoadedCheckpoint ck = load_checkpoint(model);
    r.cfg = ck.header.config;
    r.step = ck.header.step;
    r.have_cfg = true;
    r.log = read_train_log(dir + "/train_log.csv", std::max(r.step, r.cfg.steps));  // the plan bounds the log
  }
  return r;
}

namespace {

// The last part of a path, trailing slashes aside: "runs/a/seed1/" -> "seed1".
std::string base_name(const std::string& path) {
  const std::size_t end = path.find_last_not_of('/');
  if (end == std::string::npos) return std::string();
  const std::size_t slash = path.rfind('/', end);
  return path.substr(slash == std::string::npos ? 0 : slash + 1, end - (slash == std::string::npos ? 0 : slash + 1) + 1);
}

// The folder part of a path: "runs/a/seed1" -> "runs/a"; empty when there is none.
std::string parent_of(const std::string& path) {
  const std::size_t end = path.find_last_not_of('/');
  const std::size_t slash = end == std::string::npos ? std::string::npos : path.rfind('/', end);
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string joined(const std::string& dir, const std::string& name) {
  return dir + (!dir.empty() && dir.back() == '/' ? "" : "/") + name;
}

// Every folder below `dir` (not `dir` itself) that holds an eval.json, into `found`. Symbolic
// links to folders are not followed, and a folder that cannot be listed is skipped.
void find_run_folders(const std::string& dir, std::vector<std::string>* found) {
  std::vector<platform::DirectoryEntry> entries;
  if (!platform::list_directory(dir.c_str(), &entries)) return;
  for (const platform::DirectoryEntry& e : entries) {
    if (!e.directory) continue;
    const std::string sub = joined(dir, e.name);
    if (platform::is_regular_file(joined(sub, "eval.json").c_str())) found->push_back(sub);
    find_run_folders(sub, found);
  }
}

}  // namespace

std::vector<RunResult> collect_runs(const std::vector<std::string>& roots) {
  std::vector<std::string> dirs;
  for (const std::string& root : roots) {
    if (!platform::is_directory(root.c_str())) runtime_error("'" + root + "' is not a directory");
    if (platform::exists(joined(root, "eval.json").c_str())) dirs.push_back(root);
    find_run_folders(root, &dirs);
  }
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  std::vector<RunResult> runs;
  for (const std::string& d : dirs) {
    const std::string name = base_name(d), parent = parent_of(d);
    const std::string group = is_seed_folder(name) && !parent.empty() ? base_name(parent) : name;
    runs.push_back(read_run(d, group));
  }
  return runs;
}

namespace {

struct Spread {
  double mean = NAN, min = NAN, max = NAN;
};

// Mean, min and max of value(run) over the runs of `group`, skipping runs where it is not finite
// (a length that run did not evaluate); NaN when no run has it.
template <class Value>
Spread spread_over(const std::vector<RunResult>& runs, const std::string& group, Value value) {
  double sum = 0, lo = INFINITY, hi = -INFINITY;
  int n = 0;
  for (const RunResult& r : runs) {
    if (r.group != group) continue;
    const double v = value(r);
    if (!std::isfinite(v)) continue;
    sum += v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    ++n;
  }
  if (n == 0) return Spread{};
  return Spread{sum / n, lo, hi};
}

}  // namespace

std::vector<GroupSummary> summarize(const std::vector<RunResult>& runs, double target, int target_len) {
  std::vector<GroupSummary> out;
  for (const RunResult& r : runs) {
    GroupSummary* g = nullptr;
    for (GroupSummary& x : out)
      if (x.group == r.group) g = &x;
    if (!g) {
      out.emplace_back();
      g = &out.back();
      g->group = r.group;
      if (r.have_cfg) {
        TrainConfig base = preset_lam2026();
        base.seed = r.cfg.seed;
        g->flags = config_flags(r.cfg, base);
        g->steps = r.cfg.steps;
      }
      for (const LengthAccuracy& l : r.lengths) g->lengths.push_back(l.len);
    }
    g->runs++;
    if (r.have_cfg) g->seeds.push_back(r.cfg.seed);
    const double at = r.token_at(target_len);
    if (std::isfinite(at) && at >= target) g->success++;
  }
  for (GroupSummary& g : out) {
    std::sort(g.seeds.begin(), g.seeds.end());  // runs merged from several folders arrive in folder order
    for (int len : g.lengths) {
      const Spread token = spread_over(runs, g.group, [&](const RunResult& r) { return r.token_at(len); });
      g.mean.push_back(token.mean);
      g.min.push_back(token.min);
      g.max.push_back(token.max);
      if (len != target_len) continue;
      const Spread seq = spread_over(runs, g.group, [&](const RunResult& r) { return r.sequence_at(len); });
      g.seq_mean = seq.mean;
      g.seq_min = seq.min;
      g.seq_max = seq.max;
    }
  }
  return out;
}

std::string summary_markdown(const std::vector<GroupSummary>& gs, double target, int target_len) {
  std::vector<int> lengths;
  for (const GroupSummary& g : gs)
    for (int l : g.lengths)
      if (std::find(lengths.begin(), lengths.end(), l) == lengths.end()) lengths.push_back(l);
  std::sort(lengths.begin(), lengths.end());
  std::string s = "| recipe | flags (vs lam2026) | seeds | steps |";
  for (int l : lengths) s += " n=" + std::to_string(l) + " |";
  s += " all right at n=" + std::to_string(target_len) + " | >= " + text::format_percent(target) + "% at n=" +
       std::to_string(target_len) + " |\n|---|---|---|---:|";
  for (std::size_t k = 0; k < lengths.size(); ++k) s += "---:|";
  s += "---:|---:|\n";
  for (const GroupSummary& g : gs) {
    std::string seeds;
    for (std::uint64_t x : g.seeds) seeds += (seeds.empty() ? "" : ",") + std::to_string(x);
    s += "| " + g.group + " | " + (g.flags.empty() ? "(none)" : "`" + g.flags + "`") + " | " + seeds + " | " +
         std::to_string(g.steps) + " |";
    for (int l : lengths) {
      auto it = std::find(g.lengths.begin(), g.lengths.end(), l);
      if (it == g.lengths.end()) { s += " - |"; continue; }
      std::size_t k = std::size_t(it - g.lengths.begin());
      s += " " + pct_range(g.mean[k], g.min[k], g.max[k], g.runs) + " |";
    }
    s += " " + pct_range(g.seq_mean, g.seq_min, g.seq_max, g.runs) + " | " + std::to_string(g.success) + "/" +
         std::to_string(g.runs) + " |\n";
  }
  return s;
}

std::string runs_csv(const std::vector<RunResult>& runs) {
  std::string s = "group,seed,steps,len,token_accuracy,sequence_accuracy,dir\n";
  for (const RunResult& r : runs)
    for (const LengthAccuracy& l : r.lengths)
      s += r.group + "," + std::to_string(r.have_cfg ? r.cfg.seed : 0) + "," + std::to_string(r.step) + "," +
           std::to_string(l.len) + "," + text::format_g9(l.token) + "," + text::format_g9(l.sequence) + "," + r.dir +
           "\n";
  return s;
}

std::string summary_csv(const std::vector<GroupSummary>& gs) {
  std::string s = "group,len,mean,min,max,runs,success\n";
  for (const GroupSummary& g : gs)
    for (std::size_t k = 0; k < g.lengths.size(); ++k)
      s += g.group + "," + std::to_string(g.lengths[k]) + "," + text::format_g9(g.mean[k]) + "," +
           text::format_g9(g.min[k]) + "," + text::format_g9(g.max[k]) + "," + std::to_string(g.runs) + "," +
           std::to_string(g.success) + "\n";
  return s;
}

}  // namespace tinyloop::cli
