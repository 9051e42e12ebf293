/* Bad input must be refused with its error code, never undefined behaviour. */
#ifndef TINYLOOP_EXAMPLE_REFUSALS_H
#define TINYLOOP_EXAMPLE_REFUSALS_H

#include <stddef.h>
#include <stdint.h>

#include "tinyloop/tinyloop.h"

/* A damaged checkpoint (a flipped byte at several places, a truncated one) and an arena one
 * byte short. `scratch` holds the damaged copies: the arena, before the model lives there.
 * Returns the number of cases that were not refused as they should be. */
int check_damaged_models(const uint8_t* checkpoint, size_t size, int32_t max_len, uint8_t* scratch,
                         size_t scratch_size);

/* A token outside the vocabulary (one over, and -1) and a sequence one token over capacity.
 * `tokens` has room for max_len + 1 tokens and holds `len` valid ones, which it keeps. */
int check_bad_sequences(tinyloop_model* model, int32_t* tokens, int32_t len, int32_t max_len, int32_t vocab_in,
                        int32_t* predictions);

#endif
