#include "systick.h"

#include <stdint.h>

#include "../board.h"

#define SYST_CSR (*(volatile uint32_t*)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t*)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t*)0xE000E018u)
#define RELOAD 0xFFFFFFu /* the counter is 24 bits wide */

static volatile uint32_t g_wraps;

void systick_start(void) {
  SYST_RVR = RELOAD;
  SYST_CVR = 0;
  SYST_CSR = 0x7u; /* enable, interrupt on wrap, processor clock */
}

void systick_handler(void) { ++g_wraps; }

uint64_t board_ticks(void) {
  uint32_t wraps, value;
  do {
    wraps = g_wraps;
    value = SYST_CVR;
  } while (wraps != g_wraps);
  return (uint64_t)wraps * (RELOAD + 1u) + (RELOAD - value);
}

uint64_t board_ticks_per_2m_instructions(void) {
  uint32_t n = 1000000u;
  const uint64_t start = board_ticks();
  __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc"); /* 2 instructions a turn */
  return board_ticks() - start;
}
