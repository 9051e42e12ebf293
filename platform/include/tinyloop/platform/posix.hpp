#pragma once
// The POSIX platform layer: everything that touches the OS lives behind these calls. It
// implements the platform interface (tinyloop/platform/platform.hpp) through posix_platform(),
// and offers a few more calls of its own (files and folders, bounded reads, a subprocess, the
// terminal, Ctrl-C, a ticker thread) for the CLI and the tools, which reach the OS only here.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
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

// What is at a path, through symbolic links. These never fail: a path that cannot be examined
// (missing, no permission, empty) is simply not there.
bool exists(const char* path);
bool is_regular_file(const char* path);
bool is_directory(const char* path);

// True when both paths name the same existing file (same device and inode, so "a/../b/f",
// "./b/f" and a hard link are one file); false when either cannot be examined.
bool same_file(const char* a, const char* b);

struct DirectoryEntry {
  std::string name;           // without the folder: "eval.json"
  bool directory = false;     // a folder itself, not a symbolic link to one (a walk cannot loop)
  bool regular_file = false;  // a regular file, also through a symbolic link
};

// The entries of folder `path`, sorted by name, without "." and "..". Fails (one line naming
// the path) when it is missing, not a folder or cannot be read; *out is then empty.
Status list_directory(const char* path, std::vector<DirectoryEntry>* out);

// Removes a file (not a folder). A missing file is an error too.
Status remove_file(const char* path);

// The running executable's absolute path; empty when the OS does not say.
std::string executable_path();

// Physical memory in bytes; 0 when unknown.
std::size_t physical_memory();

// Runs `command` through /bin/sh, collecting its standard output (stderr stays the caller's
// unless the command redirects it) up to `cap` bytes; *exit_code receives its exit status (128 +
// N when killed by signal N). Fails when it cannot be started, or with Error::buffer_too_small
// when it prints more than `cap` bytes (the command is still waited for).
Status run_command(const char* command, std::size_t cap, std::string* output, int* exit_code);

// Whether `f` writes to a terminal, and that terminal's width in columns (0 when unknown).
bool is_terminal(std::FILE* f);
int terminal_columns(std::FILE* f);

// CPU time of the calling thread in seconds: what a measurement costs without the time spent
// waiting for a core on a busy machine.
double thread_cpu_seconds();

// Past a file-size limit (ulimit -f) a write then fails with EFBIG instead of killing the
// process with SIGXFSZ, so a save reports a clean error. A no-op where the OS has no such signal.
void ignore_file_size_signal();

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

// Calls `tick` on a thread of its own, first `delay` seconds after construction and then every
// `interval` seconds, until destroyed; the destructor wakes the thread at once and joins it, and
// no tick runs after it returns. For progress of work done in one long call that cannot report
// from inside.
class Ticker {
 public:
  Ticker(double delay, double interval, std::function<void()> tick);
  ~Ticker();
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  struct Impl;

 private:
  Impl* impl_;
};

}  // namespace tinyloop::platform
