#include "train_log.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "args.hpp"
#include "text_format.hpp"
#include "tinyloop/induction.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::cli {

void StatsWindow::add(const StepStats& s) {
  ++steps_;
  if (s.skipped) return;
  ++used_;
  sum_.ce += s.loss.ce;
  sum_.potential += s.loss.potential;
  sum_.kinetic += s.loss.kinetic;
  sum_.tsallis += s.loss.tsallis;
  sum_.entropy += s.loss.entropy;
  sum_.total += s.loss.total;
  sum_.grad_norm += s.grad_norm;
  sum_.acc += s.token_accuracy;
}

LogRow StatsWindow::row(std::int64_t step, double lr, int len) const {
  LogRow r;
  r.step = step;
  r.lr = lr;
  r.len = len;
  const double n = used_ > 0 ? double(used_) : std::numeric_limits<double>::quiet_NaN();
  r.ce = sum_.ce / n;
  r.potential = sum_.potential / n;
  r.kinetic = sum_.kinetic / n;
  r.tsallis = sum_.tsallis / n;
  r.entropy = sum_.entropy / n;
  r.total = sum_.total / n;
  r.grad_norm = sum_.grad_norm / n;
  r.acc = sum_.acc / n;
  return r;
}

double expected_work(const TrainConfig& cfg, std::int64_t from, std::int64_t to) {
  if (to <= from) return 0.0;
  // At most ~4096 samples of the mean length, each standing for `stride` steps: the length
  // changes slowly, and a run may plan up to 2^40 steps.
  const std::int64_t stride = std::max<std::int64_t>(1, (to - from) / 4096);
  double tokens = 0;
  for (std::int64_t s = from; s < to; s += stride) {
    const std::int64_t k = std::min(stride, to - s);
    const int longest = curriculum_longest(cfg.curriculum, s + k / 2, cfg.steps);
    tokens += double(k) * 0.5 * double(cfg.curriculum.min_len + longest);
  }
  return tokens * double(cfg.batch) * double(cfg.model.layers);
}

TrainProgress::TrainProgress(const TrainConfig& cfg, std::int64_t start, std::int64_t stop, bool enabled)
    : cfg_(cfg), stop_(stop), display_(enabled) {
  const double now = platform::now_seconds();
  steps_rate_.add(now, double(start));
  work_rate_.add(now, 0.0);
}

void TrainProgress::add(const StepStats& s, int len) {
  window_.add(s);
  work_ += double(cfg_.batch) * double(len) * double(cfg_.model.layers);
}

void TrainProgress::report(std::int64_t done, double lr, int longest, std::int64_t skipped, const char* last_fault,
                           bool force, const LogRow& row) {
  if (!display_.enabled() || (!force && !display_.due())) return;
  const double now = platform::now_seconds();
  steps_rate_.add(now, double(done));
  work_rate_.add(now, work_);
  const double rate = steps_rate_.per_second(now, double(done));
  const double eta = work_rate_.eta(now, work_, expected_work(cfg_, done, stop_));
  const LogRow r = window_.steps() > 0 ? window_.row(done, lr, longest) : row;
  window_.reset();
  char text[256];
  if (!std::isfinite(rate) || rate <= 0) std::snprintf(text, sizeof text, "?");
  else if (rate >= 100) std::snprintf(text, sizeof text, "%.0f", rate);
  else std::snprintf(text, sizeof text, "%.3g", rate);
  const std::string speed = text;
  std::snprintf(text, sizeof text, "step %lld/%lld  loss %.4f  acc %.3f  len %d  %s steps/s  ETA %s",
                static_cast<long long>(r.step), static_cast<long long>(stop_), r.total, r.acc, r.len, speed.c_str(),
                text::format_duration(done >= stop_ ? 0.0 : eta).c_str());
  std::string line = text;
  if (skipped > 0) {
    line += "  skipped " + std::to_string(skipped);
    if (last_fault && *last_fault) line += std::string(" (last: ") + last_fault + ")";
  }
  std::snprintf(text, sizeof text, "  (ce %.3g U %.3g K %.3g S %.3g)", r.ce, r.potential, r.kinetic, r.entropy);
  display_.show(line + text, true);
}

const char* train_log_header() { return "step,ce,potential,kinetic,tsallis,entropy,total,grad_norm,lr,acc,len\n"; }

std::size_t max_train_log_bytes(std::int64_t step) {
  const std::size_t header = std::char_traits<char>::length(train_log_header());
  // Saturates a step count too large for size_t one row short of the top, so cap + 1 still fits.
  const std::size_t most_rows = (std::numeric_limits<std::size_t>::max() - header) / kMaxLogRowBytes - 1;
  const std::size_t rows = step <= 0 ? 0 : std::uint64_t(step) > most_rows ? most_rows : std::size_t(step);
  return header + rows * kMaxLogRowBytes;
}

Status read_train_log_file(const std::string& path, std::int64_t step, std::string* text) {
  const std::size_t cap = max_train_log_bytes(step);
  std::vector<std::uint8_t> bytes;
  const Status s = platform::read_file(path.c_str(), cap, &bytes);
  if (s.code() == Error::buffer_too_small)
    return Status::fail(Error::buffer_too_small, "larger than the %zu bytes a training log of %lld steps holds", cap,
                        static_cast<long long>(step));
  if (s) text->assign(bytes.begin(), bytes.end());
  return s;
}

std::string train_log_prefix(const std::string& text, std::int64_t step) {
  const std::string header = train_log_header();
  if (text.compare(0, header.size(), header) != 0) return std::string();
  std::string out = header;
  std::size_t pos = header.size();
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) break;  // a line without its newline is not a complete row
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    std::size_t comma = line.find(',');
    std::int64_t row_step = 0;
    bool overflow = false;
    if (comma == std::string::npos || !parse_int64(line.substr(0, comma), &row_step, &overflow)) return std::string();
    if (row_step > step) break;
    out += line;
    out += '\n';
  }
  return out;
}

std::string train_log_csv(const std::vector<LogRow>& rows, const std::string& earlier) {
  std::string out = earlier.empty() ? std::string(train_log_header()) : earlier;
  char line[512];
  for (const LogRow& r : rows) {
    std::snprintf(line, sizeof line, "%lld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%d\n",
                  static_cast<long long>(r.step), r.ce, r.potential, r.kinetic, r.tsallis, r.entropy, r.total,
                  r.grad_norm, r.lr, r.acc, r.len);
    out += line;
  }
  return out;
}

}  // namespace tinyloop::cli
