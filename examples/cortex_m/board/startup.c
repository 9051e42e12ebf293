/* Reset and exceptions for any Cortex-M with an FPU: the vector table, the C runtime set-up
 * (.data, .bss, constructors), the FPU switched on, and the stack painted so that its
 * high-water mark can be read later. */
#include <stdint.h>

#include "../board.h"
#include "semihosting.h"
#include "systick.h"

extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];
extern uint32_t __stack_limit[], __stack_top[];
extern void (*__init_array_start[])(void), (*__init_array_end[])(void);

int main(void);

#define STACK_PAINT 0x5afe57acu
#define CPACR (*(volatile uint32_t*)0xE000ED88u)

void Reset_Handler(void) {
  /* CP10 and CP11 (the FPU) to full access before any floating-point instruction. */
  CPACR |= 0xFu << 20;
  __asm volatile("dsb\n\tisb" ::: "memory");
  for (uint32_t *d = __data_start, *s = __data_load; d < __data_end;) *d++ = *s++;
  for (uint32_t* d = __bss_start; d < __bss_end;) *d++ = 0;
  /* Below this function's frame, the stack is free: paint it. */
  uint32_t* sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  for (volatile uint32_t* p = __stack_limit; p < sp - 16;) *p++ = STACK_PAINT;
  for (void (**f)(void) = __init_array_start; f < __init_array_end; ++f) (*f)();
  systick_start();
  semihosting_exit(main());
}

size_t board_stack_size(void) { return (size_t)((uintptr_t)__stack_top - (uintptr_t)__stack_limit); }

size_t board_stack_used(void) {
  const uint32_t* p = __stack_limit;
  while (p < __stack_top && *p == STACK_PAINT) ++p;
  return (size_t)((uintptr_t)__stack_top - (uintptr_t)p);
}

static void fault(const char* what) {
  board_print("%s: stopped", what);
  semihosting_exit(1);
}

static void hard_fault(void) { fault("hard fault"); }
static void mem_manage(void) { fault("memory management fault"); }
static void bus_fault(void) { fault("bus fault"); }
static void usage_fault(void) { fault("usage fault"); }
static void unexpected(void) { fault("unexpected exception"); }

typedef union {
  const void* stack;
  void (*handler)(void);
} vector;

__attribute__((section(".vectors"), used)) static const vector vectors[16] = {
    {.stack = __stack_top},         {.handler = Reset_Handler}, {.handler = unexpected},  {.handler = hard_fault},
    {.handler = mem_manage},        {.handler = bus_fault},     {.handler = usage_fault}, {0},
    {0},                            {0},                        {0},                      {.handler = unexpected},
    {.handler = unexpected},        {0},                        {.handler = unexpected},  {.handler = systick_handler},
};
