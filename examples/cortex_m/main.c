/* tinyloop on a Cortex-M, bare metal. The model is a const array in flash (model.h, written by
 * `tinyloop export --c-array --tokens ...`), the engine's memory is one static arena of the size
 * model.h plans, and nothing uses a heap, an OS or C++ exceptions. The program
 *   1. refuses damaged copies of the model and an arena that is too small, each with its code;
 *   2. loads the model from flash and runs the test vector of model.h, counting cycles;
 *   3. compares its predictions and logits with the host's, which model.h carries;
 *   4. refuses an out-of-range token and a sequence over capacity;
 * then prints its memory use and PASS (exit status 0) or FAIL (1). */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "compare.h"
#include "model.h"
#include "refusals.h"
#include "tinyloop/tinyloop.h"

#ifndef MODEL_TEST_LEN
#error "model.h has no test vector: export it with tinyloop export --c-array ... --tokens \"0 1 2 ...\""
#endif

_Static_assert(MODEL_ARENA_BYTES >= MODEL_CHECKPOINT_BYTES + 64, "the arena holds the damaged copies too");

static uint8_t g_arena[MODEL_ARENA_BYTES] __attribute__((aligned(64)));
/* The app's own buffers, one token over capacity so that the over-capacity case passes a real
 * sequence and nothing could be written past the end if it were not refused. */
static int32_t g_tokens[MODEL_MAX_LEN + 1];
static int32_t g_predictions[MODEL_MAX_LEN + 1];
static float g_logits[MODEL_TEST_LEN * MODEL_VOCAB_OUT];

static unsigned long per(uint64_t total, uint64_t count) {
  return count == 0 ? 0ul : (unsigned long)((total + count / 2) / count);
}

int main(void) {
  board_print("tinyloop %s: model of %u bytes in flash (CRC-32 0x%08lx), %d loops, positions kind %d",
              tinyloop_version(), (unsigned)MODEL_CHECKPOINT_BYTES, (unsigned long)MODEL_CRC32, MODEL_LOOPS,
              MODEL_POSITIONS);
  int failures = check_damaged_models(model_checkpoint, MODEL_CHECKPOINT_BYTES, MODEL_MAX_LEN, g_arena,
                                      sizeof g_arena);

  tinyloop_model* model;
  tinyloop_model_info info;
  tinyloop_error error;
  size_t need = 0;
  const uint64_t t0 = board_ticks();
  if (tinyloop_model_bytes(model_checkpoint, MODEL_CHECKPOINT_BYTES, MODEL_MAX_LEN, &need, &error) != TINYLOOP_OK ||
      tinyloop_model_init(model_checkpoint, MODEL_CHECKPOINT_BYTES, MODEL_MAX_LEN, g_arena, sizeof g_arena, &model,
                          &error) != TINYLOOP_OK ||
      tinyloop_model_get_info(model, &info, &error) != TINYLOOP_OK) {
    board_print("cannot load the model: %s (%s)", error.message, tinyloop_status_name(error.code));
    board_print("FAIL");
    return 1;
  }
  const uint64_t t1 = board_ticks();
  board_print("arena: %lu of %lu bytes for up to %d tokens; vocab %d -> %d classes; loaded in %lu ticks",
              (unsigned long)need, (unsigned long)sizeof g_arena, (int)info.max_len, (int)info.vocab_in,
              (int)info.vocab_out, (unsigned long)(t1 - t0));

  memcpy(g_tokens, model_test_tokens, sizeof model_test_tokens);
  const uint64_t t2 = board_ticks();
  const tinyloop_status s = tinyloop_predict(model, g_tokens, MODEL_TEST_LEN, g_predictions, g_logits, &error);
  const uint64_t t3 = board_ticks();
  if (s != TINYLOOP_OK) {
    board_print("inference failed: %s (%s)", error.message, tinyloop_status_name(s));
    board_print("FAIL");
    return 1;
  }
  const uint64_t calibration = board_ticks_per_2m_instructions();
  board_print("inference: %d tokens in %lu ticks, %lu ticks per token; 2,000,000 counted instructions: %lu ticks"
              " (instructions per token under qemu -icount: %lu)",
              MODEL_TEST_LEN, (unsigned long)(t3 - t2), per(t3 - t2, MODEL_TEST_LEN), (unsigned long)calibration,
              per((t3 - t2) * 2000000u, calibration * (uint64_t)MODEL_TEST_LEN));

  failures += compare_with_host(g_predictions, g_logits, model_test_predictions, model_test_logits, MODEL_TEST_LEN,
                                MODEL_VOCAB_OUT);
  failures += check_bad_sequences(model, g_tokens, MODEL_TEST_LEN, MODEL_MAX_LEN, MODEL_VOCAB_IN, g_predictions);

  const unsigned heap = board_heap_requests();
  board_print("memory: stack %lu of %lu bytes used; heap requests %u", (unsigned long)board_stack_used(),
              (unsigned long)board_stack_size(), heap);
  failures += heap != 0;
  board_print(failures == 0 ? "PASS" : "FAIL (%d problems)", failures);
  return failures == 0 ? 0 : 1;
}
