#pragma once
// The POSIX platform layer: everything that touches the OS lives behind these calls.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tinyloop/parallel.hpp"
#include "tinyloop/status.hpp"

namespace tinyloop::platform {

// Monotonic clock in seconds.
double now_seconds();

int hardware_threads();

// Whole-file read; fails with Error::io_error and a message naming the path.
Status read_file(const char* path, std::vector<std::uint8_t>* out);

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
