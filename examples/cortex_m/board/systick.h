/* SysTick as a 64-bit cycle counter (board.h: board_ticks). */
#ifndef TINYLOOP_EXAMPLE_SYSTICK_H
#define TINYLOOP_EXAMPLE_SYSTICK_H

void systick_start(void);
void systick_handler(void);

#endif
