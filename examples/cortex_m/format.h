/* A float as text with 6 significant digits, "-1.23457e-05", for a printf without float
 * conversions (board.h). */
#ifndef TINYLOOP_EXAMPLE_FORMAT_H
#define TINYLOOP_EXAMPLE_FORMAT_H

#include <stddef.h>

const char* format_e(float value, char* out, size_t size);

#endif
