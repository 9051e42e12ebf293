#pragma once
// Progress of the long commands, on stderr. On a terminal: one line rewritten in place ("\r",
// the text cut to the terminal's width, clear to the end of the line) a few times a second,
// ended by a newline or erased when the work is done. In a pipe or a file: a line every few
// seconds. Disabled (--quiet): nothing. Errors and warnings are not progress; they go out as
// always, after clear() has taken the line in place away.
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "tinyloop/platform/posix.hpp"

namespace tinyloop::cli {

class Progress {
 public:
  static constexpr double kTerminalInterval = 0.2;  // seconds between redraws in place
  static constexpr double kPipeInterval = 5.0;      // seconds between lines in a pipe or file

  explicit Progress(bool enabled, std::FILE* out = stderr);
  ~Progress() { finish(true); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool enabled() const { return enabled_; }
  bool in_place() const { return in_place_; }
  // Whether show() would print now; cheap, so a hot loop can ask before it formats a line.
  bool due() const;
  // Prints `text` when due, or at once with `force`.
  void show(const std::string& text, bool force = false);
  // Ends the display: in place, the last line stays (keep, with its newline) or is erased.
  void finish(bool keep);
  // Erases a line shown in place, before other output to the same terminal; the next show()
  // draws it again.
  void clear();
  // Runs `print` (output of its own, flushed) with the line out of the way, then redraws it.
  void above(const std::function<void()>& print);

 private:
  void draw(const std::string& text);  // with mu_ held
  void erase();                        // with mu_ held

  mutable std::mutex mu_;
  std::FILE* out_;
  bool enabled_, in_place_;
  bool shown_ = false;  // a line stands in place without its newline
  double last_ = 0;     // when the last line was drawn
  std::string text_;    // the last line drawn
};

// Shows text(seconds since construction) through a Progress from `delay` seconds on, on a
// thread of its own (platform::Ticker), until destroyed: progress for work done in one long call
// (an evaluation length, an inference) that cannot report from inside. A disabled Progress
// starts no thread.
class ProgressTicker {
 public:
  ProgressTicker(Progress& progress, std::function<std::string(double)> text, double delay = 1.0);
  ProgressTicker(const ProgressTicker&) = delete;
  ProgressTicker& operator=(const ProgressTicker&) = delete;

 private:
  Progress& progress_;
  std::function<std::string(double)> text_;
  double start_;
  std::optional<platform::Ticker> ticker_;  // last: stopped before the members it reads go
};

// Work done per second over the last kWindow seconds (since the start until then), so an ETA
// follows the current speed and is computed from the work that remains, not from a count of
// unequal steps.
class WorkRate {
 public:
  static constexpr double kWindow = 30.0;

  // `work`: the total done by time `now` (seconds).
  void add(double now, double work);
  // NaN until a second sample, or when no time has passed.
  double per_second(double now, double work) const;
  // Seconds for `left` more work at that rate; NaN when unknown.
  double eta(double now, double work, double left) const;

 private:
  struct Sample {
    double t = 0, work = 0;
  };
  static constexpr int kSamples = 64;  // one a second at most: more than the window holds
  Sample ring_[kSamples];
  int first_ = 0, count_ = 0;
};

// Where a series of runs of equal work stands (reproduce's training runs), and an ETA from the
// mean time of the runs done so far in this invocation.
class RunClock {
 public:
  explicit RunClock(int runs) : runs_(runs) {}
  // The next run needs no work (its results exist).
  void kept() { ++index_; }
  // The next run starts: "run 3/10", and once a run has been timed, " (the runs left: about
  // 4m10s)", this one included.
  std::string next();
  // The run next() announced is done.
  void trained();

 private:
  int runs_, index_ = 0, timed_ = 0;
  double started_ = 0, seconds_ = 0;
};

}  // namespace tinyloop::cli
