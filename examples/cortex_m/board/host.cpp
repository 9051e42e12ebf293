// The Cortex-M example's board support (board.h) for the MPS2 boards under qemu: start-up, linker
// script, SysTick, semihosting output, the no-heap guard; host.cpp stands in on the build machine.
//
// board.h on the build machine, so that every test leg runs the example's own code: output to
// stdout through write(2) (stdio could allocate its buffer), nanoseconds as ticks, no stack
// figures, and the heap's use from the project's allocation counter.
#include <unistd.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>

#include "../board.h"
#include "alloc_counter.hpp"

namespace {

const long g_allocations_at_start = tinyloop::alloc_counter::allocations();

}  // namespace

extern "C" {

void board_print(const char* format, ...) {
  char line[256];
  va_list args;
  va_start(args, format);
  int n = std::vsnprintf(line, sizeof line - 1, format, args);
  va_end(args);
  if (n < 0) n = 0;
  if (n > int(sizeof line) - 2) n = int(sizeof line) - 2;
  line[n] = '\n';
  if (::write(1, line, std::size_t(n) + 1) < 0) return;
}

uint64_t board_ticks(void) {
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count());
}

uint64_t board_ticks_per_2m_instructions(void) { return 0; }

size_t board_stack_used(void) { return 0; }
size_t board_stack_size(void) { return 0; }

unsigned board_heap_requests(void) {
  return unsigned(tinyloop::alloc_counter::allocations() - g_allocations_at_start);
}

}  // extern "C"
