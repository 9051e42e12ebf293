// Trains a small looped transformer on the induction task with the C++ API and saves its
// checkpoint. The engine does the maths in one planned buffer; the platform interface (POSIX
// here) gives the clock, the log, the threads and the file. The other examples, and their
// tests, get their model from it.
//
//   train_tiny OUT.tlc [STEPS=200] [SEED=1]
//
// For a fully trained model use the CLI instead: tools/dev.sh train, or
// tinyloop train --preset lam2026 (about 3-4 minutes on 2 cores).
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tinyloop/checkpoint.hpp"
#include "tinyloop/induction.hpp"
#include "tinyloop/platform/posix.hpp"
#include "tinyloop/trainer.hpp"

using namespace tinyloop;
namespace tp = tinyloop::platform;

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: %s OUT.tlc [STEPS=200] [SEED=1]\n", argv[0]);
    return 2;
  }
  TrainConfig cfg = preset_lam2026();  // the paper's block: d = 8, 25 loops, energy-entropy loss
  cfg.steps = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 200;
  cfg.seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
  cfg.batch = 8;
  cfg.curriculum.max_len = 32;
  if (cfg.steps < 0) {
    std::fprintf(stderr, "train_tiny: STEPS must be >= 0\n");
    return 2;
  }

  tp::ThreadPool pool(0);  // one worker per available CPU
  const tp::Platform os = tp::posix_platform(&pool);
  tp::PlatformParallelFor parallel(os);

  // One buffer for the whole run: weights, gradients, AdamW state, activations, scratch.
  const Capacity cap{cfg.curriculum.max_len, cfg.batch, parallel.workers()};
  std::vector<unsigned char> memory(Trainer<float>::plan(cfg, cap).total);
  Trainer<float> trainer;
  Status s = trainer.init(cfg, cap, memory.data(), memory.size());
  if (!s) {
    tp::logf(os, tp::LogLevel::error, "cannot set up training: %s", s.message());
    return 1;
  }
  trainer.set_parallel(&parallel);
  Rng init_rng(cfg.seed, 1), data_rng(cfg.seed, 2);  // the CLI's streams: same seed, same model
  trainer.init_weights(init_rng);

  const std::size_t n = std::size_t(cfg.batch) * std::size_t(cfg.curriculum.max_len);
  std::vector<std::int32_t> tokens(n), targets(n), prev(std::size_t(cfg.curriculum.max_len)),
      last_seen(std::size_t(cfg.task.alphabet));
  const InductionBatchBuffers bufs{tokens.data(), targets.data(), prev.data(), last_seen.data()};

  const double t0 = os.now_seconds(os.user);
  for (std::int64_t step = 0; step < cfg.steps; ++step) {
    const int len = induction_batch(data_rng, cfg, step, bufs);
    StepStats st;
    s = trainer.train_step(Batch{tokens.data(), targets.data(), cfg.batch, len}, &st);
    if (!s) {
      tp::logf(os, tp::LogLevel::error, "step %lld: %s", static_cast<long long>(step + 1), s.message());
      return 1;
    }
    if ((step + 1) % 50 == 0 || step + 1 == cfg.steps)
      tp::logf(os, tp::LogLevel::info, "step %lld/%lld  loss %.4f  acc %.3f", static_cast<long long>(step + 1),
               static_cast<long long>(cfg.steps), st.loss.total, st.token_accuracy);
  }

  CheckpointData ck;
  ck.config = cfg;
  ck.params = trainer.params();  // no optimizer state: a model for inference
  ck.step = trainer.step();
  ck.rng_state = data_rng.state();
  ck.rng_inc = data_rng.increment();
  std::vector<std::uint8_t> bytes(checkpoint_bytes(cfg, false));
  std::size_t written = 0;
  s = checkpoint_write(ck, bytes.data(), bytes.size(), &written);
  if (s) s = os.write_file(os.user, argv[1], bytes.data(), written);
  if (!s) {
    tp::logf(os, tp::LogLevel::error, "cannot save the model: %s", s.message());
    return 1;
  }
  tp::logf(os, tp::LogLevel::info, "wrote %s: %zu bytes, %lld steps in %.1f s on %d thread(s)", argv[1], written,
           static_cast<long long>(cfg.steps), os.now_seconds(os.user) - t0, parallel.workers());
  return 0;
}
