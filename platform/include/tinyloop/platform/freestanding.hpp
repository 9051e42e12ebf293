#pragma once
// The platform interface (platform.hpp) and the headers of its two layers: posix.hpp (clock,
// files, folders, threads, signals, terminal) and, here, freestanding.hpp (callbacks, no OS).
//
// The freestanding platform: for a board with no operating system (or one the engine should not
// know about). The application passes the few services it has as callbacks; everything else
// has a fixed, documented fallback:
//
//   clock      hooks.now_seconds, or a clock that always reads 0 (durations come out as 0)
//   log        hooks.log (a UART, a ring buffer, ...), or lines are dropped
//   seed       hooks.seed (a hardware RNG, an ADC's noise bits, ...), or kFreestandingSeed
//   files      none: read_file and write_file fail with Error::unsupported ("no file system");
//              checkpoints come from memory (a linked-in array, flash, a buffer the app fills)
//   threads    none: one worker, tasks run in order on the calling thread
//
// This layer uses no OS header and allocates nothing (the same build check as the engine core
// proves it), so it links on bare-metal toolchains.
#include <cstdint>

#include "tinyloop/platform/platform.hpp"

namespace tinyloop::platform {

constexpr std::uint64_t kFreestandingSeed = 0x74696e796c6f6f70ULL;  // "tinyloop"

struct FreestandingHooks {
  void* user = nullptr;                                              // passed to each hook
  double (*now_seconds)(void* user) = nullptr;                       // optional
  void (*log)(void* user, LogLevel level, const char* line) = nullptr;  // optional
  std::uint64_t (*seed)(void* user) = nullptr;                       // optional
};

// A complete Platform (is_complete() holds) built from the hooks.
Platform freestanding_platform(const FreestandingHooks& hooks = FreestandingHooks{});

}  // namespace tinyloop::platform
