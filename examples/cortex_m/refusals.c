#include "refusals.h"

#include <stdio.h>
#include <string.h>

#include "board.h"

/* 0 when `got` is the expected refusal, else 1; prints the case either way. */
static int expect(const char* what, tinyloop_status got, const tinyloop_error* error, tinyloop_status want) {
  if (got == want) {
    board_print("refused %s: %s (%d): %s", what, tinyloop_status_name(got), (int)got, error->message);
    return 0;
  }
  board_print("NOT REFUSED as it should be: %s gave %s (%d), expected %s (%d)", what, tinyloop_status_name(got),
              (int)got, tinyloop_status_name(want), (int)want);
  return 1;
}

int check_damaged_models(const uint8_t* checkpoint, size_t size, int32_t max_len, uint8_t* scratch,
                         size_t scratch_size) {
  int failures = 0;
  tinyloop_model* model;
  tinyloop_error error;
  /* The copy sits at the start of the scratch; the model buffer is what remains after it. */
  const size_t copy_room = (size + 63) / 64 * 64;
  uint8_t* buffer = scratch + copy_room;
  const size_t buffer_size = scratch_size - copy_room;
  const size_t flips[] = {0, 40, size / 2, size - 1}; /* magic, configuration, weights, CRC */
  char what[64];
  for (size_t k = 0; k < sizeof flips / sizeof flips[0]; ++k) {
    memcpy(scratch, checkpoint, size);
    scratch[flips[k]] ^= 0x10u;
    snprintf(what, sizeof what, "a checkpoint with byte %u flipped", (unsigned)flips[k]);
    failures += expect(what, tinyloop_model_init(scratch, size, max_len, buffer, buffer_size, &model, &error), &error,
                       TINYLOOP_BAD_CHECKPOINT);
  }
  memcpy(scratch, checkpoint, size);
  snprintf(what, sizeof what, "a checkpoint cut to %u bytes", (unsigned)(size - 1));
  failures += expect(what, tinyloop_model_init(scratch, size - 1, max_len, buffer, buffer_size, &model, &error),
                     &error, TINYLOOP_BAD_CHECKPOINT);

  size_t need = 0;
  if (tinyloop_model_bytes(checkpoint, size, max_len, &need, &error) != TINYLOOP_OK) {
    board_print("cannot size the arena: %s", error.message);
    return failures + 1;
  }
  failures += expect("an arena one byte short",
                     tinyloop_model_init(checkpoint, size, max_len, scratch, need - 1, &model, &error), &error,
                     TINYLOOP_BUFFER_TOO_SMALL);
  return failures;
}

int check_bad_sequences(tinyloop_model* model, int32_t* tokens, int32_t len, int32_t max_len, int32_t vocab_in,
                        int32_t* predictions) {
  int failures = 0;
  tinyloop_error error;
  const int32_t at = len / 2, kept = tokens[at];
  const int32_t bad[] = {vocab_in, -1};
  char what[64];
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; ++k) {
    tokens[at] = bad[k];
    snprintf(what, sizeof what, "token %d at position %d", (int)bad[k], (int)at);
    failures += expect(what, tinyloop_predict(model, tokens, len, predictions, NULL, &error), &error,
                       TINYLOOP_TOKEN_OUT_OF_RANGE);
  }
  tokens[at] = kept;

  /* max_len + 1 valid tokens: the sequence itself is fine, only too long. */
  for (int32_t i = len; i <= max_len; ++i) tokens[i] = tokens[i % len];
  snprintf(what, sizeof what, "a sequence of %d tokens", (int)(max_len + 1));
  failures += expect(what, tinyloop_predict(model, tokens, max_len + 1, predictions, NULL, &error), &error,
                     TINYLOOP_SEQUENCE_TOO_LONG);
  return failures;
}
