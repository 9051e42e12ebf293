// The C interface (tinyloop/tinyloop.h) over the checkpoint reader and the streaming
// inference engine. Every entry point is noexcept and works only in caller memory.
//
// Layout of the caller's buffer, from its first 64-byte boundary on:
//   [Model object][staging copy of the weights][Inference buffer (Inference::plan)]
// The staging copy is where checkpoint_read_tensors decodes the weights before
// Inference::load_params takes them; it is a few KiB for the models this engine trains.
#include "tinyloop/tinyloop.h"

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <new>

#include "tinyloop/arena.hpp"
#include "tinyloop/checkpoint.hpp"
#include "tinyloop/inference.hpp"
#include "tinyloop/params.hpp"
#include "tinyloop/status.hpp"

#ifndef TINYLOOP_VERSION_STRING
#define TINYLOOP_VERSION_STRING "unknown"
#endif

using tinyloop::Error;
using tinyloop::Status;

struct tinyloop_model {
  std::uint32_t magic;
  tinyloop::Inference engine;
  std::int64_t step;
  std::size_t bytes;
};

namespace {

constexpr std::uint32_t kModelMagic = 0x4d4c5401u;  // "\1TLM"

static_assert(int(TINYLOOP_OK) == int(Error::ok), "status codes mirror tinyloop::Error");
static_assert(int(TINYLOOP_BAD_CONFIG) == int(Error::bad_config), "");
static_assert(int(TINYLOOP_BUFFER_TOO_SMALL) == int(Error::buffer_too_small), "");
static_assert(int(TINYLOOP_TOKEN_OUT_OF_RANGE) == int(Error::token_out_of_range), "");
static_assert(int(TINYLOOP_SEQUENCE_TOO_LONG) == int(Error::sequence_too_long), "");
static_assert(int(TINYLOOP_BATCH_TOO_LARGE) == int(Error::batch_too_large), "");
static_assert(int(TINYLOOP_TARGET_OUT_OF_RANGE) == int(Error::target_out_of_range), "");
static_assert(int(TINYLOOP_NON_FINITE) == int(Error::non_finite), "");
static_assert(int(TINYLOOP_BAD_CHECKPOINT) == int(Error::bad_checkpoint), "");
static_assert(int(TINYLOOP_IO_ERROR) == int(Error::io_error), "");
static_assert(int(TINYLOOP_NOT_INITIALIZED) == int(Error::not_initialized), "");
static_assert(int(TINYLOOP_UNSUPPORTED) == int(Error::unsupported), "");

constexpr std::size_t round_up(std::size_t n) {
  return (n + tinyloop::kAlignment - 1) / tinyloop::kAlignment * tinyloop::kAlignment;
}

void clear(tinyloop_error* error) {
  if (error == nullptr) return;
  error->code = TINYLOOP_OK;
  error->message[0] = '\0';
}

tinyloop_status report(const Status& s, tinyloop_error* error) {
  const auto code = static_cast<tinyloop_status>(static_cast<int>(s.code()));
  if (error != nullptr) {
    error->code = code;
    std::snprintf(error->message, sizeof(error->message), "%s", s.message());
  }
  return code;
}

tinyloop_status invalid(tinyloop_error* error, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
tinyloop_status invalid(tinyloop_error* error, const char* fmt, ...) {
  if (error != nullptr) {
    error->code = TINYLOOP_INVALID_ARGUMENT;
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(error->message, sizeof(error->message), fmt, args);
    va_end(args);
  }
  return TINYLOOP_INVALID_ARGUMENT;
}

struct Plan {
  tinyloop::CheckpointHeader header;
  std::size_t staging = 0;    // bytes of the weight staging area
  std::size_t inference = 0;  // bytes Inference::init wants
  std::size_t total = 0;      // everything, alignment slack included
};

// Validates the checkpoint and the length, and sizes the buffer.
Status make_plan(const void* checkpoint, std::size_t size, std::int32_t max_len, Plan* plan) {
  TINYLOOP_TRY(tinyloop::checkpoint_read_header(static_cast<const std::uint8_t*>(checkpoint), size, &plan->header));
  if (!plan->header.looped_block)
    return Status::fail(Error::unsupported,
                        "checkpoint holds a %d-layer model of width %d (format version 4); the C ABI runs the "
                        "looped block only",
                        plan->header.config.model.layers, plan->header.config.model.width);
  const tinyloop::ModelSpec& m = plan->header.config.model;
  const std::size_t expected = tinyloop::ParamLayout::make(m).total;
  if (plan->header.param_count != expected)
    return Status::fail(Error::bad_checkpoint, "checkpoint holds %zu parameters, its configuration needs %zu",
                        plan->header.param_count, expected);
  if (max_len < 1) return Status::fail(Error::sequence_too_long, "max_len must be >= 1, got %d", int(max_len));
  const tinyloop::MemoryPlan ip = tinyloop::Inference::plan(m, max_len);
  if (ip.total == 0)
    return Status::fail(Error::sequence_too_long, "max_len %d is more than inference supports", int(max_len));
  plan->staging = round_up(plan->header.param_count * sizeof(float));
  plan->inference = ip.total;
  plan->total = tinyloop::Arena::slack() + round_up(sizeof(tinyloop_model)) + plan->staging + plan->inference;
  return Status::ok();
}

}  // namespace

extern "C" {

const char* tinyloop_version(void) noexcept { return TINYLOOP_VERSION_STRING; }

const char* tinyloop_status_name(tinyloop_status status) noexcept {
  if (status == TINYLOOP_INVALID_ARGUMENT) return "invalid argument";
  if (int(status) < int(TINYLOOP_OK) || int(status) > int(TINYLOOP_UNSUPPORTED)) return "unknown error";
  return tinyloop::error_name(static_cast<Error>(static_cast<int>(status)));
}

tinyloop_status tinyloop_model_bytes(const void* checkpoint, size_t checkpoint_size, int32_t max_len, size_t* bytes,
                                     tinyloop_error* error) noexcept {
  clear(error);
  if (bytes != nullptr) *bytes = 0;
  if (checkpoint == nullptr) return invalid(error, "tinyloop_model_bytes: checkpoint is NULL");
  if (bytes == nullptr) return invalid(error, "tinyloop_model_bytes: bytes is NULL");
  if (max_len < 1) return invalid(error, "tinyloop_model_bytes: max_len must be >= 1, got %d", int(max_len));
  Plan plan;
  const Status s = make_plan(checkpoint, checkpoint_size, max_len, &plan);
  if (!s.is_ok()) return report(s, error);
  *bytes = plan.total;
  return TINYLOOP_OK;
}

tinyloop_status tinyloop_model_init(const void* checkpoint, size_t checkpoint_size, int32_t max_len, void* buffer,
                                    size_t buffer_size, tinyloop_model** model, tinyloop_error* error) noexcept {
  clear(error);
  if (model != nullptr) *model = nullptr;
  if (checkpoint == nullptr) return invalid(error, "tinyloop_model_init: checkpoint is NULL");
  if (model == nullptr) return invalid(error, "tinyloop_model_init: model is NULL");
  if (buffer == nullptr) return invalid(error, "tinyloop_model_init: buffer is NULL");
  if (max_len < 1) return invalid(error, "tinyloop_model_init: max_len must be >= 1, got %d", int(max_len));
  Plan plan;
  Status s = make_plan(checkpoint, checkpoint_size, max_len, &plan);
  if (!s.is_ok()) return report(s, error);
  if (buffer_size < plan.total)
    return report(Status::fail(Error::buffer_too_small, "model buffer of %zu bytes is smaller than the %zu bytes needed",
                               buffer_size, plan.total),
                  error);

  std::size_t usable = 0;
  auto* base = static_cast<std::uint8_t*>(tinyloop::align_buffer(buffer, buffer_size, &usable));
  auto* staging = reinterpret_cast<float*>(base + round_up(sizeof(tinyloop_model)));
  std::uint8_t* work = base + round_up(sizeof(tinyloop_model)) + plan.staging;

  tinyloop_model* m = new (base) tinyloop_model{kModelMagic, tinyloop::Inference{}, plan.header.step, plan.total};
  s = tinyloop::checkpoint_read_tensors(static_cast<const std::uint8_t*>(checkpoint), checkpoint_size, staging,
                                        nullptr, nullptr);
  if (s.is_ok()) s = m->engine.init(plan.header.config.model, max_len, work, plan.inference);
  if (s.is_ok()) s = m->engine.load_params(staging, plan.header.param_count);
  if (!s.is_ok()) {
    m->magic = 0;
    return report(s, error);
  }
  *model = m;
  return TINYLOOP_OK;
}

tinyloop_status tinyloop_model_get_info(const tinyloop_model* model, tinyloop_model_info* info,
                                        tinyloop_error* error) noexcept {
  clear(error);
  if (info == nullptr) return invalid(error, "tinyloop_model_get_info: info is NULL");
  if (model == nullptr || model->magic != kModelMagic)
    return report(Status::fail(Error::not_initialized, "tinyloop_model_get_info: not an initialised model"), error);
  const tinyloop::ModelSpec& c = model->engine.config();
  info->vocab_in = c.vocab_in;
  info->vocab_out = c.out_dim;
  info->loops = c.layers;
  info->dim = tinyloop::kDim;
  info->max_len = model->engine.max_len();
  info->trained_steps = model->step;
  info->param_count = model->engine.layout().total;
  info->bytes = model->bytes;
  info->positions = static_cast<int32_t>(c.positions);
  info->alibi_slope = model->engine.alibi_slope();
  return TINYLOOP_OK;
}

tinyloop_status tinyloop_predict(tinyloop_model* model, const int32_t* tokens, int32_t len, int32_t* predictions,
                                 float* logits, tinyloop_error* error) noexcept {
  clear(error);
  if (model == nullptr || model->magic != kModelMagic)
    return report(Status::fail(Error::not_initialized, "tinyloop_predict: not an initialised model"), error);
  if (tokens == nullptr) return invalid(error, "tinyloop_predict: tokens is NULL");
  if (len < 1) return invalid(error, "tinyloop_predict: len must be >= 1, got %d", int(len));
  if (predictions == nullptr && logits == nullptr)
    return invalid(error, "tinyloop_predict: predictions and logits are both NULL");
  tinyloop::InferOutputs out;
  out.logits = logits;
  out.predictions = predictions;
  const Status s = model->engine.run(tokens, len, out);
  return s.is_ok() ? TINYLOOP_OK : report(s, error);
}

}  // extern "C"
