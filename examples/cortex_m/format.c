#include "format.h"

#include <math.h>
#include <stdio.h>

const char* format_e(float value, char* out, size_t size) {
  if (isnan(value) || isinf(value)) {
    snprintf(out, size, "%s", isnan(value) ? "nan" : value > 0 ? "inf" : "-inf");
    return out;
  }
  const char* sign = value < 0 ? "-" : "";
  float v = fabsf(value);
  int exponent = 0;
  if (v != 0.0f) {
    while (v >= 10.0f) v /= 10.0f, ++exponent;
    while (v < 1.0f) v *= 10.0f, --exponent;
  }
  unsigned long digits = (unsigned long)(v * 100000.0f + 0.5f);
  if (digits >= 1000000ul) digits /= 10, ++exponent;
  snprintf(out, size, "%s%lu.%05lue%+d", sign, digits / 100000ul, digits % 100000ul, exponent);
  return out;
}
