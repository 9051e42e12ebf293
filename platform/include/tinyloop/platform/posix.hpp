#pragma once
// The POSIX platform layer: everything that touches the OS lives behind these calls. It
// implements the platform interface (tinyloop/platform/platform.hpp) through posix_platform(),
// and offers a few more calls of its own (directories, bounded reads, Ctrl-C) for the CLI.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tinyloop/parallel.hpp"
#include "tinyloop/platform/platform.hpp"
#include "tinyloop/status.hpp"

namespace tinyloop::platform {

class ThreadPool;

// The platform interface on POSIX: now_seconds, log lines on stderr ("[level] line"), seeds from
// random_seed(), read_file into caller memory, write_file_atomic, and `pool` as the thread
// pool (nullptr: one worker, serial). The pool must outlive the returned Platform.
Platform posix_platform(ThreadPool* pool = nullptr);

// 64 bits from /dev/urandom; where that cannot be read, a mix of the clock, the process id and
// a counter (distinct per call, not cryptographic).
std::uint64_t random_seed();

// Monotonic clock in seconds.
double now_seconds();

int hardware_threads();

// Bounded reads. Only regular files are read: a FIFO, a device, a socket or a directory may have
// no size and no end, so it is refused (Error::io_error) before a byte is read from it, and a
// FIFO without a writer does not block the call. Every message is one line naming the path.

// The whole file, when it holds at most `cap` bytes (cap < SIZE_MAX). A larger file fails with
// Error::buffer_too_small, naming the limit, without being read; one that grows past the cap
// while being read fails after cap + 1 bytes.
Status read_file(const char* path, std::size_t cap, std::vector<std::uint8_t>* out);

// The first min(n, file size) bytes, for formats whose header says how long the file must be.
Status read_file_head(const char* path, std::size_t n, std::vector<std::uint8_t>* out);

// Standard input to its end, when it holds at most `cap` bytes; more fails with
// Error::buffer_too_small once cap + 1 bytes have arrived.
Status read_stdin(std::size_t cap, std::vector<std::uint8_t>* out);

// Whole-file read into caller memory (the Platform::read_file contract): *size receives the
// file's size; a file larger than `capacity` fails with Error::buffer_too_small and *size set
// (capacity + 1 for a file that grew while being read).
Status read_file(const char* path, void* buffer, std::size_t capacity, std::size_t* size);

// Atomic replace: writes `path.tmp.<pid>`, flushes it to disk, renames over `path`, and syncs
// the directory. On any failure the previous file at `path` is untouched and the temporary
// is removed.
Status write_file_atomic(const char* path, const void* data, std::size_t size);

// Creates a directory and its parents if missing.
Status make_directories(const char* path);

// Ctrl-C (SIGINT) and SIGTERM set a flag instead of killing the process.
void install_interrupt_handler();
bool interrupted();

// A fixed pool: threads are created once in the constructor; run() neither allocates nor
// creates threads. The calling thread works too, as worker 0.
class ThreadPool final : public ParallelFor {
 public:
  explicit ThreadPool(int workers);
  ~ThreadPool() override;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  int workers() const override;
  void run(int tasks, TaskFn fn, void* ctx) override;

  struct Impl;

 private:
  Impl* impl_;
};

}  // namespace tinyloop::platform
