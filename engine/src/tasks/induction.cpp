#include "tinyloop/induction.hpp"

namespace tinyloop {

void induction_sample(Rng& rng, int alphabet, std::int32_t* tokens, int len) {
  if (len <= 0) return;
  tokens[0] = std::int32_t(rng.uniform_int(std::uint32_t(alphabet)));
  for (int i = 1; i < len; ++i) {
    // Uniform among the A - 1 symbols that differ from the predecessor.
    auto r = std::int32_t(rng.uniform_int(std::uint32_t(alphabet - 1)));
    tokens[i] = r >= tokens[i - 1] ? r + 1 : r;
  }
}

void induction_targets(const std::int32_t* tokens, int len, int alphabet, int hops, std::int32_t* targets,
                       std::int32_t* last_seen, std::int32_t* prev) {
  for (int a = 0; a < alphabet; ++a) last_seen[a] = -1;
  for (int i = 0; i < len; ++i) {
    prev[i] = last_seen[tokens[i]];
    last_seen[tokens[i]] = i;
  }
  for (int i = 0; i < len; ++i) {
    int pos = i;
    for (int h = 0; h < hops && pos >= 0; ++h) pos = prev[pos] >= 0 ? prev[pos] + 1 : -1;
    targets[i] = pos >= 0 ? tokens[pos] : alphabet;
  }
}

int curriculum_longest(const CurriculumConfig& c, std::int64_t step, std::int64_t total_steps) {
  const int span = c.max_len - c.min_len;
  if (span <= 0) return c.max_len;
  if (c.ramp <= 0.0f || total_steps <= 0) return c.max_len;
  double progress = double(step) / (double(c.ramp) * double(total_steps));
  if (progress > 1.0) progress = 1.0;
  return c.min_len + int(progress * span);
}

int induction_batch(Rng& rng, const TrainConfig& cfg, std::int64_t step, InductionBatchBuffers buf) {
  const CurriculumConfig& c = cfg.curriculum;
  const int longest = curriculum_longest(c, step, cfg.steps);
  const int len = c.min_len + int(rng.uniform_int(std::uint32_t(longest - c.min_len + 1)));
  for (int b = 0; b < cfg.batch; ++b) {
    std::int32_t* tokens = buf.tokens + std::size_t(b) * len;
    induction_sample(rng, cfg.task.alphabet, tokens, len);
    induction_targets(tokens, len, cfg.task.alphabet, cfg.task.hops, buf.targets + std::size_t(b) * len,
                      buf.last_seen, buf.prev);
  }
  return len;
}

}  // namespace tinyloop
