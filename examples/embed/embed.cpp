// A complete embedded application in one static arena. The model is compiled into the binary
// (model_data.h is generated from a checkpoint at build time), and every byte the engine
// uses comes from g_arena below: no heap, no file system, no threads. The freestanding
// platform layer covers what remains, with a single hook that prints log lines. On a board,
// that hook would write to a UART.
//
// It evaluates the model on the induction task, then prints its predictions for one
// sequence. The stripped sizes of this binary are listed in docs/PORTING.md.
#include <cstdint>
#include <cstdio>

#include "model_data.h"  // kModel[], kModelSize: the checkpoint's bytes
#include "tinyloop/arena.hpp"
#include "tinyloop/checkpoint.hpp"
#include "tinyloop/evaluate.hpp"
#include "tinyloop/inference.hpp"
#include "tinyloop/platform/freestanding.hpp"

using namespace tinyloop;
namespace tp = tinyloop::platform;

namespace {

constexpr int kMaxLen = 64;  // the longest sequence the app will run
alignas(64) std::uint8_t g_arena[32 * 1024];

void print_line(void*, tp::LogLevel level, const char* line) {
  std::printf("[%s] %s\n", tp::log_level_name(level), line);
}

}  // namespace

int main() {
  tp::FreestandingHooks hooks;
  hooks.log = &print_line;
  const tp::Platform board = tp::freestanding_platform(hooks);

  CheckpointHeader h;
  Status s = checkpoint_read_header(kModel, kModelSize, &h);
  if (!s) {
    tp::logf(board, tp::LogLevel::error, "embedded model: %s", s.message());
    return 1;
  }
  const ModelSpec& m = h.config.model;

  // Carve the arena: a staging copy of the weights, the engine's planned buffer, eval scratch.
  Arena arena(g_arena, sizeof(g_arena));
  float* weights = arena.take<float>(h.param_count);
  const MemoryPlan plan = Inference::plan(m, kMaxLen);
  std::uint8_t* work = arena.take<std::uint8_t>(plan.total);
  std::int32_t* ints = arena.take<std::int32_t>(std::size_t(eval_scratch_ints(kMaxLen, h.config.task.alphabet, 0)));
  if (arena.overflowed()) {
    tp::logf(board, tp::LogLevel::error, "the arena needs %zu bytes but has %zu", arena.used(), sizeof(g_arena));
    return 1;
  }
  tp::logf(board, tp::LogLevel::info, "arena: %zu of %zu bytes used (model %zu bytes, %d loops, trained %lld steps)",
           arena.used(), sizeof(g_arena), kModelSize, m.layers, static_cast<long long>(h.step));

  Inference model;
  s = checkpoint_read_tensors(kModel, kModelSize, weights, nullptr, nullptr);
  if (s) s = model.init(m, kMaxLen, work, plan.total);
  if (s) s = model.load_params(weights, h.param_count);
  if (!s) {
    tp::logf(board, tp::LogLevel::error, "cannot load the model: %s", s.message());
    return 1;
  }

  // Accuracy on fresh sequences; the seed comes from the board (the fixed default here).
  EvalResult r;
  s = evaluate_induction(model, h.config.task, kMaxLen, 32, board.seed(board.user),
                         bind_eval_scratch(ints, kMaxLen, h.config.task.alphabet, 0), &r);
  if (!s) {
    tp::logf(board, tp::LogLevel::error, "evaluation failed: %s", s.message());
    return 1;
  }
  tp::logf(board, tp::LogLevel::info, "accuracy on %d sequences of %d tokens: %.1f%% of %lld positions", r.samples,
           r.len, 100.0 * r.token_accuracy, static_cast<long long>(r.positions));

  // One sequence: the prediction at each position (the class after the most recent earlier
  // occurrence of the token; NONE = vocab_out - 1 where there is none).
  const std::int32_t tokens[12] = {0, 1, 2, 3, 1, 0, 2, 1, 3, 0, 1, 2};
  std::int32_t predictions[12];
  InferOutputs out;
  out.predictions = predictions;
  s = model.run(tokens, 12, out);
  if (!s) {
    tp::logf(board, tp::LogLevel::error, "inference failed: %s", s.message());
    return 1;
  }
  char line[128];
  int at = std::snprintf(line, sizeof(line), "predictions:");
  for (int i = 0; i < 12 && at > 0 && at < int(sizeof(line)); ++i)
    at += std::snprintf(line + at, sizeof(line) - std::size_t(at), " %d", int(predictions[i]));
  tp::logf(board, tp::LogLevel::info, "%s", line);
  return 0;
}
