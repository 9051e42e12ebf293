#pragma once
// The platform interface: the few OS services an application around the engine needs (clock,
// log sink, seed source, whole-file read and write, a thread pool), as one struct of function
// pointers, in the spirit of TensorFlow Lite Micro's porting layer. The engine core itself
// never calls it: it takes memory, bytes and a ParallelFor from the caller. Applications
// (the CLI, the examples, an embedded firmware) get a complete Platform from one of the two
// implementations and call through it:
//
//   posix_platform(&pool)          tinyloop/platform/posix.hpp: Linux, macOS, Raspberry Pi OS
//   freestanding_platform(hooks)   tinyloop/platform/freestanding.hpp: no OS; the application
//                                  passes its clock, log and seed callbacks; no file system,
//                                  no threads
//
// A port to another system fills a Platform itself; every pointer must be set (the helpers
// below assume it). Nothing here allocates.
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "tinyloop/parallel.hpp"
#include "tinyloop/status.hpp"

namespace tinyloop::platform {

enum class LogLevel : int { debug = 0, info = 1, warning = 2, error = 3 };

inline const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warning: return "warning";
    case LogLevel::error: return "error";
  }
  return "log";
}

struct Platform {
  const char* name = "unset";  // "posix", "freestanding", ...
  void* user = nullptr;        // passed back to every callback

  // Monotonic time in seconds (only differences are meaningful).
  double (*now_seconds)(void* user) = nullptr;
  // One line of text, without a trailing newline.
  void (*log)(void* user, LogLevel level, const char* line) = nullptr;
  // 64 bits for seeding Rng when the user asked for no particular seed. Not cryptographic.
  std::uint64_t (*seed)(void* user) = nullptr;

  // Reads the whole file at `path` into buffer[0, capacity). *size receives the file's size.
  // A file larger than `capacity` fails with Error::buffer_too_small and *size set, so that a
  // call with capacity 0 asks for the size. Only regular files are read: a FIFO or a device,
  // which may have no size and no end, is refused. No file system: Error::unsupported.
  Status (*read_file)(void* user, const char* path, void* buffer, std::size_t capacity,
                      std::size_t* size) = nullptr;
  // Replaces `path` with `size` bytes, atomically where the system allows (the old file stays
  // intact on failure). No file system: Error::unsupported.
  Status (*write_file)(void* user, const char* path, const void* data, std::size_t size) = nullptr;

  // The thread pool: how many workers parallel_for uses (1: serial), and a call that runs
  // fn(ctx, task, worker) for every task in [0, tasks) and returns when all are done, with
  // worker in [0, workers). It must not allocate.
  int (*workers)(void* user) = nullptr;
  void (*parallel_for)(void* user, int tasks, TaskFn fn, void* ctx) = nullptr;
};

// True when every callback is set.
inline bool is_complete(const Platform& p) {
  return p.now_seconds && p.log && p.seed && p.read_file && p.write_file && p.workers && p.parallel_for;
}

// printf-style log line through p.log; longer lines are truncated to 255 characters.
inline void logf(const Platform& p, LogLevel level, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
inline void logf(const Platform& p, LogLevel level, const char* fmt, ...) {
  char line[256];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(line, sizeof(line), fmt, args);
  va_end(args);
  p.log(p.user, level, line);
}

// The platform's pool as the engine's ParallelFor, for Trainer::set_parallel and the like.
// Holds a copy of the Platform; the pool it points to must outlive this object.
class PlatformParallelFor final : public ParallelFor {
 public:
  explicit PlatformParallelFor(const Platform& p) : p_(p) {}
  int workers() const override { return p_.workers(p_.user); }
  void run(int tasks, TaskFn fn, void* ctx) override { p_.parallel_for(p_.user, tasks, fn, ctx); }

 private:
  Platform p_;
};

}  // namespace tinyloop::platform
