// The freestanding platform: the application's hooks, with fixed fallbacks where it has none.
// No OS headers, no allocation, no threads, no files.
#include "tinyloop/platform/freestanding.hpp"

namespace tinyloop::platform {
namespace {

double zero_clock(void*) { return 0.0; }
void drop_line(void*, LogLevel, const char*) {}
std::uint64_t fixed_seed(void*) { return kFreestandingSeed; }

Status no_read(void*, const char* path, void*, std::size_t, std::size_t* size) {
  if (size != nullptr) *size = 0;
  return Status::fail(Error::unsupported, "cannot read '%s': no file system on this platform",
                      path != nullptr ? path : "");
}

Status no_write(void*, const char* path, const void*, std::size_t) {
  return Status::fail(Error::unsupported, "cannot write '%s': no file system on this platform",
                      path != nullptr ? path : "");
}

int one_worker(void*) { return 1; }

void serial_for(void*, int tasks, TaskFn fn, void* ctx) {
  for (int t = 0; t < tasks; ++t) fn(ctx, t, 0);
}

}  // namespace

Platform freestanding_platform(const FreestandingHooks& hooks) {
  Platform p;
  p.name = "freestanding";
  p.user = hooks.user;
  p.now_seconds = hooks.now_seconds != nullptr ? hooks.now_seconds : &zero_clock;
  p.log = hooks.log != nullptr ? hooks.log : &drop_line;
  p.seed = hooks.seed != nullptr ? hooks.seed : &fixed_seed;
  p.read_file = &no_read;
  p.write_file = &no_write;
  p.workers = &one_worker;
  p.parallel_for = &serial_for;
  return p;
}

}  // namespace tinyloop::platform
