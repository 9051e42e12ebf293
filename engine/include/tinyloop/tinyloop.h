/* tinyloop.h: the C interface to tinyloop inference.
 *
 * It runs a trained looped transformer from C, or from any language with a C FFI, without a
 * heap. The caller owns every byte:
 *
 *   - the checkpoint: the bytes of a model.tlc file (docs/CHECKPOINT.md), anywhere in memory;
 *   - the model: one buffer, sized by tinyloop_model_bytes();
 *   - the tokens, predictions and logits arrays.
 *
 *   static unsigned char memory[64 * 1024];
 *   tinyloop_error err;
 *   tinyloop_model* model;
 *   if (tinyloop_model_init(ckpt, ckpt_size, 128, memory, sizeof memory, &model, &err) != TINYLOOP_OK ||
 *       tinyloop_predict(model, tokens, n, predictions, NULL, &err) != TINYLOOP_OK)
 *     fprintf(stderr, "%s\n", err.message);
 *
 * Conventions:
 *   - A function that can fail returns a tinyloop_status; TINYLOOP_OK is 0. When `error` is not
 *     NULL, it receives the same code and a one-line message.
 *   - No function allocates, throws, blocks, or touches files or the OS.
 *   - A model lives inside the caller's buffer and nowhere else. To free it, free or reuse the
 *     buffer; nothing needs to be closed.
 *   - A model keeps no pointer to the checkpoint, whose memory is free again once
 *     tinyloop_model_init() returns.
 *   - Two threads must not use one model at the same time. Separate models are independent.
 *
 * Link with the tinyloop_engine library and the C++ runtime. CMake does this by itself through
 * find_package(tinyloop) and tinyloop::engine; by hand, use pkg-config tinyloop or add
 * -ltinyloop_engine -lstdc++ -lm.
 */
#ifndef TINYLOOP_TINYLOOP_H
#define TINYLOOP_TINYLOOP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define TINYLOOP_NOEXCEPT noexcept
extern "C" {
#else
#define TINYLOOP_NOEXCEPT
#endif

/* The codes mirror tinyloop::Error (tinyloop/status.hpp), plus TINYLOOP_INVALID_ARGUMENT for
 * misuse of this interface: a NULL pointer where one is required, or a negative length. */
typedef enum tinyloop_status {
  TINYLOOP_OK = 0,
  TINYLOOP_BAD_CONFIG = 1,          /* the checkpoint's configuration is invalid */
  TINYLOOP_BUFFER_TOO_SMALL = 2,    /* the model buffer is smaller than tinyloop_model_bytes() */
  TINYLOOP_TOKEN_OUT_OF_RANGE = 3,  /* a token is outside [0, vocab_in) */
  TINYLOOP_SEQUENCE_TOO_LONG = 4,   /* len > the max_len given to tinyloop_model_init() */
  TINYLOOP_BATCH_TOO_LARGE = 5,
  TINYLOOP_TARGET_OUT_OF_RANGE = 6,
  TINYLOOP_NON_FINITE = 7,
  TINYLOOP_BAD_CHECKPOINT = 8,      /* truncated, corrupted or not a tinyloop checkpoint */
  TINYLOOP_IO_ERROR = 9,
  TINYLOOP_NOT_INITIALIZED = 10,    /* the model handle is not an initialised model */
  TINYLOOP_UNSUPPORTED = 11,        /* a configuration this build cannot run */
  TINYLOOP_INVALID_ARGUMENT = 100
} tinyloop_status;

/* Filled in on failure, when the caller passes one. The message is a single NUL-terminated line
 * and is cut to fit. */
typedef struct tinyloop_error {
  tinyloop_status code;
  char message[160];
} tinyloop_error;

/* A model. It is opaque and lives inside the buffer given to tinyloop_model_init(). */
typedef struct tinyloop_model tinyloop_model;

typedef struct tinyloop_model_info {
  int32_t vocab_in;      /* tokens must be in [0, vocab_in) */
  int32_t vocab_out;     /* classes per position; one row of logits has vocab_out floats */
  int32_t loops;         /* times the shared block is applied */
  int32_t dim;           /* model width d */
  int32_t max_len;       /* the longest sequence this model accepts (from tinyloop_model_init) */
  int64_t trained_steps; /* the training step at which the checkpoint was saved */
  size_t param_count;    /* float parameters, padding included */
  size_t bytes;          /* bytes of the caller's buffer the model uses */
  int32_t positions;     /* position scheme: 0 sinusoidal, 1 none, 2 ALiBi, 3 ALiBi + sinusoidal, 4 RoPE */
  float alibi_slope;     /* the learned recency slope softplus(rho) with ALiBi, else 0 */
} tinyloop_model_info;

/* The library version, e.g. "0.1.0". */
const char* tinyloop_version(void) TINYLOOP_NOEXCEPT;

/* A short name for a status code, e.g. "bad checkpoint". Unknown codes give "unknown error". */
const char* tinyloop_status_name(tinyloop_status status) TINYLOOP_NOEXCEPT;

/* How many bytes tinyloop_model_init() needs for this checkpoint and sequences of up to max_len
 * tokens. The result goes to *bytes. The count covers the weights, the working memory (which
 * grows linearly in max_len), a staging copy of the weights, and up to 63 bytes of alignment
 * padding, so any buffer address works. The checkpoint is fully validated (sizes, shapes,
 * checksum, finite weights). max_len < 1 is TINYLOOP_INVALID_ARGUMENT; a max_len beyond what
 * the engine supports is TINYLOOP_SEQUENCE_TOO_LONG. */
tinyloop_status tinyloop_model_bytes(const void* checkpoint, size_t checkpoint_size, int32_t max_len,
                                     size_t* bytes, tinyloop_error* error) TINYLOOP_NOEXCEPT;

/* Builds a model in buffer[0, buffer_size) from a checkpoint held in memory and puts its handle
 * in *model. The checkpoint's weights are copied, so its memory may be reused afterwards. The
 * optimizer state some checkpoints carry is ignored. Fails with TINYLOOP_BUFFER_TOO_SMALL when
 * buffer_size < tinyloop_model_bytes(). */
tinyloop_status tinyloop_model_init(const void* checkpoint, size_t checkpoint_size, int32_t max_len,
                                    void* buffer, size_t buffer_size, tinyloop_model** model,
                                    tinyloop_error* error) TINYLOOP_NOEXCEPT;

/* Describes the model: its vocabulary, loops, max_len, size and so on. */
tinyloop_status tinyloop_model_get_info(const tinyloop_model* model, tinyloop_model_info* info,
                                        tinyloop_error* error) TINYLOOP_NOEXCEPT;

/* Runs the model on tokens[0, len), where 1 <= len <= max_len and every token is in
 * [0, vocab_in). Results go to whichever outputs are not NULL (at least one must be given):
 *   predictions  len entries, the arg-max class at every position;
 *   logits       len * vocab_out floats, row-major (position by position).
 * Position i sees tokens 0..i only when the model is causal (the default), so one call on a
 * whole sequence answers every prefix. Results are deterministic for a given build. */
tinyloop_status tinyloop_predict(tinyloop_model* model, const int32_t* tokens, int32_t len,
                                 int32_t* predictions, float* logits,
                                 tinyloop_error* error) TINYLOOP_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TINYLOOP_TINYLOOP_H */
