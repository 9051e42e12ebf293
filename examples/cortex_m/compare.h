/* The device's results against the host's (the test vector in model.h). */
#ifndef TINYLOOP_EXAMPLE_COMPARE_H
#define TINYLOOP_EXAMPLE_COMPARE_H

#include <stdint.h>

/* A logit matches when |device - host| <= 1e-3 + 1e-3 |host|. The host runs the SIMD kernels
 * and glibc's expf/erff, the device the scalar kernels and newlib's: sums are taken in another
 * order and rounded differently, and every loop carries that forward. On trained models at
 * n = 1000 (docs/PORTING.md) the largest difference takes at most 7% of this tolerance with
 * ALiBi, sinusoids, no positions and ALiBi + sinusoids, and 31% with RoPE far past its training
 * lengths, where the host's own scalar and SIMD builds differ by up to 5e-4 as well. */
#define COMPARE_ABS_TOLERANCE 1e-3f
#define COMPARE_REL_TOLERANCE 1e-3f

/* Prints the comparison and returns the number of mismatches. A prediction may differ only
 * where the host's two best logits are within the tolerance of each other (a tie). */
int compare_with_host(const int32_t* predictions, const float* logits, const int32_t* host_predictions,
                      const float* host_logits, int len, int classes);

#endif
