// posix_platform(): the platform interface (tinyloop/platform/platform.hpp) on POSIX systems,
// built from the calls of this layer, plus the log sink and the seed source.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "tinyloop/platform/posix.hpp"

namespace tinyloop::platform {
namespace {

// A 64-bit finaliser (SplitMix64), so that nearby inputs give unrelated seeds.
std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double clock_cb(void*) { return now_seconds(); }

// One write() per line, so that lines from several threads do not interleave.
void log_cb(void*, LogLevel level, const char* line) {
  char buf[512];
  int n = snprintf(buf, sizeof(buf), "[%s] %s\n", log_level_name(level), line != nullptr ? line : "");
  if (n < 0) return;
  std::size_t len = static_cast<std::size_t>(n) < sizeof(buf) ? static_cast<std::size_t>(n) : sizeof(buf) - 1;
  if (buf[len - 1] != '\n') buf[len - 1] = '\n';  // truncated: keep the line break
  const char* p = buf;
  while (len > 0) {
    const ssize_t w = ::write(STDERR_FILENO, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    len -= static_cast<std::size_t>(w);
  }
}

std::uint64_t seed_cb(void*) { return random_seed(); }

Status read_cb(void*, const char* path, void* buffer, std::size_t capacity, std::size_t* size) {
  return read_file(path, buffer, capacity, size);
}

Status write_cb(void*, const char* path, const void* data, std::size_t size) {
  return write_file_atomic(path, data, size);
}

int workers_cb(void* user) { return user != nullptr ? static_cast<ThreadPool*>(user)->workers() : 1; }

void parallel_cb(void* user, int tasks, TaskFn fn, void* ctx) {
  if (user != nullptr) {
    static_cast<ThreadPool*>(user)->run(tasks, fn, ctx);
    return;
  }
  for (int t = 0; t < tasks; ++t) fn(ctx, t, 0);
}

}  // namespace

std::uint64_t random_seed() {
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t value = 0;
  int fd;
  do {
    fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd >= 0) {
    std::uint8_t bytes[8];
    std::size_t got = 0;
    while (got < sizeof(bytes)) {
      const ssize_t n = ::read(fd, bytes + got, sizeof(bytes) - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (got == sizeof(bytes)) {
      memcpy(&value, bytes, sizeof(value));
      return value;
    }
  }
  // No /dev/urandom (a chroot, a sandbox): clock, pid and a per-call counter, mixed.
  double t = now_seconds();
  std::uint64_t bits = 0;
  memcpy(&bits, &t, sizeof(bits));
  value = mix64(bits ^ mix64(static_cast<std::uint64_t>(getpid()) ^ mix64(counter.fetch_add(1) + 1)));
  return value;
}

Platform posix_platform(ThreadPool* pool) {
  Platform p;
  p.name = "posix";
  p.user = pool;
  p.now_seconds = &clock_cb;
  p.log = &log_cb;
  p.seed = &seed_cb;
  p.read_file = &read_cb;
  p.write_file = &write_cb;
  p.workers = &workers_cb;
  p.parallel_for = &parallel_cb;
  return p;
}

}  // namespace tinyloop::platform
