#include "train_log.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "args.hpp"
#include "report.hpp"
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

void print_progress(std::FILE* out, const LogRow& r, std::int64_t total_steps, double steps_per_second,
                    double eta_seconds, std::int64_t skipped, const char* last_fault) {
  char rate[32];
  if (!std::isfinite(steps_per_second) || steps_per_second <= 0) std::snprintf(rate, sizeof rate, "?");
  else if (steps_per_second >= 100) std::snprintf(rate, sizeof rate, "%.0f", steps_per_second);
  else std::snprintf(rate, sizeof rate, "%.3g", steps_per_second);
  std::fprintf(out, "step %lld/%lld  loss %.4f (ce %.3g U %.3g K %.3g S %.3g)  acc %.3f  len %d  %s steps/s  ETA %s",
               static_cast<long long>(r.step), static_cast<long long>(total_steps), r.total, r.ce, r.potential,
               r.kinetic, r.entropy, r.acc, r.len, rate, format_duration(eta_seconds).c_str());
  if (skipped > 0)
    std::fprintf(out, "  skipped %lld%s%s%s", static_cast<long long>(skipped), last_fault && *last_fault ? " (last: " : "",
                 last_fault && *last_fault ? last_fault : "", last_fault && *last_fault ? ")" : "");
  std::fprintf(out, "\n");
  std::fflush(out);
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
