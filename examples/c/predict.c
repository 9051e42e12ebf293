/* Predicts with a trained tinyloop model from plain C, using the C API in tinyloop/tinyloop.h. It
 * uses no heap: the checkpoint and the model each sit in a static buffer.
 *   predict MODEL.tlc TOKEN...      e.g.  predict model.tlc 0 1 2 3 0 1 2 3 */
#include <stdio.h>
#include <stdlib.h>
#include <tinyloop/tinyloop.h>

#define MAX_LEN 256
static unsigned char checkpoint[1 << 20]; /* the file's bytes */
static unsigned char memory[1 << 20];     /* the model: weights and working memory */

int main(int argc, char** argv) {
  int32_t tokens[MAX_LEN], predictions[MAX_LEN], len = 0;
  tinyloop_model* model;
  tinyloop_model_info info;
  tinyloop_error err;
  FILE* f = argc > 2 ? fopen(argv[1], "rb") : NULL;
  size_t size = f ? fread(checkpoint, 1, sizeof checkpoint, f) : 0;
  if (f) fclose(f);
  if (size == 0 || argc - 2 > MAX_LEN) {
    fprintf(stderr, "usage: %s MODEL.tlc TOKEN... (at most %d tokens; model readable)\n", argv[0], MAX_LEN);
    return 2;
  }
  for (int i = 2; i < argc; ++i) tokens[len++] = (int32_t)atoi(argv[i]);
  if (tinyloop_model_init(checkpoint, size, len, memory, sizeof memory, &model, &err) != TINYLOOP_OK ||
      tinyloop_model_get_info(model, &info, &err) != TINYLOOP_OK ||
      tinyloop_predict(model, tokens, len, predictions, NULL, &err) != TINYLOOP_OK) {
    fprintf(stderr, "predict: %s (%s)\n", err.message, tinyloop_status_name(err.code));
    return 1;
  }
  fprintf(stderr, "tinyloop %s: %d loops, %zu bytes of model memory\n", tinyloop_version(), info.loops, info.bytes);
  for (int32_t i = 0; i < len; ++i) printf("%d%s", predictions[i], i + 1 < len ? " " : "\n");
  return 0;
}
