#pragma once
// Test fixtures: a trainer or an inference engine with its buffer, and batch helpers.
#include <cstdint>
#include <vector>

#include "tinyloop/induction.hpp"
#include "tinyloop/inference.hpp"
#include "tinyloop/trainer.hpp"

namespace tinyloop::test {

// A small configuration that exercises every code path quickly.
inline TrainConfig small_config(int loops = 3, int alphabet = 4) {
  TrainConfig c = preset_lam2026();
  c.model.layers = loops;
  c.task.alphabet = alphabet;
  sync_vocab_with_task(c);
  return c;
}

template <class T>
struct TrainerHarness {
  std::vector<unsigned char> buffer;
  Trainer<T> trainer;
  Status status;

  TrainerHarness(const TrainConfig& cfg, const Capacity& cap) {
    buffer.resize(Trainer<T>::plan(cfg, cap).total);
    status = trainer.init(cfg, cap, buffer.data(), buffer.size());
  }
};

struct InductionData {
  std::vector<std::int32_t> tokens, targets;
  int batch, len;
  Batch view() const { return Batch{tokens.data(), targets.data(), batch, len}; }
};

inline InductionData make_induction(std::uint64_t seed, int batch, int len, int alphabet, int hops = 1) {
  InductionData d{std::vector<std::int32_t>(std::size_t(batch) * len), std::vector<std::int32_t>(std::size_t(batch) * len),
                  batch, len};
  std::vector<std::int32_t> prev(len), last(alphabet);
  Rng rng(seed, 7);
  for (int b = 0; b < batch; ++b) {
    induction_sample(rng, alphabet, d.tokens.data() + b * len, len);
    induction_targets(d.tokens.data() + b * len, len, alphabet, hops, d.targets.data() + b * len, last.data(),
                      prev.data());
  }
  return d;
}

}  // namespace tinyloop::test
