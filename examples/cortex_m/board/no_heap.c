/* The board has no heap: newlib's malloc gets its memory from _sbrk, which refuses here and
 * counts the attempt. Neither the engine nor the example allocates, and the example checks
 * that the count stays 0. */
#include <errno.h>
#include <stddef.h>

#include "../board.h"

static unsigned g_requests;

void* _sbrk(ptrdiff_t increment) {
  (void)increment;
  ++g_requests;
  errno = ENOMEM;
  return (void*)-1;
}

unsigned board_heap_requests(void) { return g_requests; }
