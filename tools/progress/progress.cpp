#include "progress.hpp"

#include <cmath>
#include <limits>

#include "text_format.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::cli {

Progress::Progress(bool enabled, std::FILE* out)
    : out_(out), enabled_(enabled), in_place_(enabled && platform::is_terminal(out)), last_(platform::now_seconds()) {}

bool Progress::due() const {
  if (!enabled_) return false;
  std::lock_guard<std::mutex> lock(mu_);
  return platform::now_seconds() - last_ >= (in_place_ ? kTerminalInterval : kPipeInterval);
}

void Progress::show(const std::string& text, bool force) {
  if (!enabled_ || (!force && !due())) return;
  std::lock_guard<std::mutex> lock(mu_);
  draw(text);
}

void Progress::draw(const std::string& text) {
  last_ = platform::now_seconds();
  text_ = text;
  if (!in_place_) {
    std::fprintf(out_, "%s\n", text.c_str());
  } else {
    // One column short of the width: a full row would wrap, and "\r" only returns to the
    // start of the last row.
    const int columns = platform::terminal_columns(out_);
    const std::size_t width = columns > 0 ? std::size_t(columns) : 80;
    const std::string cut = text.size() < width ? text : text.substr(0, width - 1);
    std::fprintf(out_, "\r%s\033[K", cut.c_str());
    shown_ = true;
  }
  std::fflush(out_);
}

void Progress::erase() {
  if (!shown_) return;
  std::fputs("\r\033[K", out_);
  std::fflush(out_);
  shown_ = false;
}

void Progress::finish(bool keep) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!shown_) return;
  if (keep) {
    std::fputs("\n", out_);
    std::fflush(out_);
    shown_ = false;
  } else {
    erase();
  }
  text_.clear();
}

void Progress::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  erase();
}

void Progress::above(const std::function<void()>& print) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool redraw = shown_;
  erase();
  print();
  if (redraw) draw(text_);
}

ProgressTicker::ProgressTicker(Progress& progress, std::function<std::string(double)> text, double delay)
    : progress_(progress), text_(std::move(text)), start_(platform::now_seconds()) {
  if (progress_.enabled())
    ticker_.emplace(delay, Progress::kTerminalInterval,
                    [this] { progress_.show(text_(platform::now_seconds() - start_)); });
}

void WorkRate::add(double now, double work) {
  if (count_ > 0 && now - ring_[(first_ + count_ - 1) % kSamples].t < 1.0) return;
  if (count_ == kSamples) {
    first_ = (first_ + 1) % kSamples;
    --count_;
  }
  ring_[(first_ + count_) % kSamples] = {now, work};
  ++count_;
  // The oldest sample stays until the next one is inside the window too, so the rate always
  // spans at least the window (or the whole run when it is shorter).
  while (count_ > 1 && now - ring_[(first_ + 1) % kSamples].t >= kWindow) {
    first_ = (first_ + 1) % kSamples;
    --count_;
  }
}

double WorkRate::per_second(double now, double work) const {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (count_ == 0) return nan;
  const Sample& oldest = ring_[first_];
  const double dt = now - oldest.t;
  return dt > 0 ? (work - oldest.work) / dt : nan;
}

double WorkRate::eta(double now, double work, double left) const {
  const double rate = per_second(now, work);
  return rate > 0 ? left / rate : std::numeric_limits<double>::quiet_NaN();
}

std::string RunClock::next() {
  ++index_;
  started_ = platform::now_seconds();
  std::string line = "run " + std::to_string(index_) + "/" + std::to_string(runs_);
  if (timed_ > 0)
    line += " (the runs left: about " + text::format_duration(seconds_ / timed_ * (runs_ - index_ + 1)) + ")";
  return line;
}

void RunClock::trained() {
  seconds_ += platform::now_seconds() - started_;
  ++timed_;
}

}  // namespace tinyloop::cli
