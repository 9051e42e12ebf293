/* What the example needs from the board: a console, a cycle counter, the stack's high-water
 * mark and the heap's use. board/startup.c, semihosting.c, systick.c and no_heap.c implement it
 * for a Cortex-M (qemu's MPS2 boards print through semihosting; a real board would write to its
 * UART instead); board/host.cpp runs the same program on the build machine. */
#ifndef TINYLOOP_EXAMPLE_BOARD_H
#define TINYLOOP_EXAMPLE_BOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One line, printf-style, without the trailing newline. No float conversions: newlib-nano's
 * printf has none unless linked in, and its float path would use the heap. */
void board_print(const char* format, ...) __attribute__((format(printf, 1, 2)));

/* Core clock cycles since boot on a real board (SysTick, CLKSOURCE = processor clock). Under
 * qemu the SysTick clock is the board's 25 MHz system clock in virtual time, so with -icount
 * one tick is a fixed number of instructions; board_ticks_per_2m_instructions() measures it. */
uint64_t board_ticks(void);
/* Ticks taken by a loop of exactly 2,000,000 instructions (0 where unknown). */
uint64_t board_ticks_per_2m_instructions(void);

/* Bytes of the stack used so far (the lowest point it reached), and its size. */
size_t board_stack_used(void);
size_t board_stack_size(void);

/* Calls to the heap (_sbrk) since boot; the board has no heap, so every call fails. */
unsigned board_heap_requests(void);

#ifdef __cplusplus
}
#endif

#endif
