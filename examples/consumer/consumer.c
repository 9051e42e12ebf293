/* Uses an installed tinyloop from C, through the C API. It prints the model's prediction at
 * each position of the tokens given on the command line.
 *   consumer_c MODEL.tlc TOKEN... */
#include <stdio.h>
#include <stdlib.h>
#include <tinyloop/tinyloop.h>

static unsigned char file[1 << 20], memory[1 << 20];

int main(int argc, char** argv) {
  int32_t tokens[64], predictions[64], len = 0;
  tinyloop_model* model;
  tinyloop_error err;
  FILE* f = argc > 2 ? fopen(argv[1], "rb") : NULL;
  size_t size = f ? fread(file, 1, sizeof file, f) : 0;
  if (f) fclose(f);
  if (size == 0 || argc - 2 > 64) {
    fprintf(stderr, "usage: %s MODEL.tlc TOKEN... (at most 64)\n", argv[0]);
    return 2;
  }
  for (int i = 2; i < argc; ++i) tokens[len++] = (int32_t)atoi(argv[i]);
  if (tinyloop_model_init(file, size, len, memory, sizeof memory, &model, &err) != TINYLOOP_OK ||
      tinyloop_predict(model, tokens, len, predictions, NULL, &err) != TINYLOOP_OK) {
    fprintf(stderr, "consumer_c: %s\n", err.message);
    return 1;
  }
  for (int32_t i = 0; i < len; ++i) printf("%d%s", predictions[i], i + 1 < len ? " " : "\n");
  return 0;
}
