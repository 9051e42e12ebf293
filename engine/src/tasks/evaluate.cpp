// The tasks: the k-hop induction generator and curriculum (induction.cpp), retrieval and ICAR
// data (retrieval.cpp, icar.cpp), and here the evaluation of a model on induction.
#include "tinyloop/evaluate.hpp"

#include "tinyloop/induction.hpp"

namespace tinyloop {

std::int64_t eval_scratch_ints(int len, int alphabet, int loops) {
  return std::int64_t(len) * (4 + std::int64_t(loops)) + alphabet;
}

EvalScratch bind_eval_scratch(std::int32_t* ints, int len, int alphabet, int loops) {
  EvalScratch s{};
  s.tokens = ints;
  s.targets = s.tokens + len;
  s.prev = s.targets + len;
  s.predictions = s.prev + len;
  s.last_seen = s.predictions + len;
  s.per_loop = loops > 0 ? s.last_seen + alphabet : nullptr;
  return s;
}

Status evaluate_induction(Inference& model, const TaskConfig& task, int len, int samples, std::uint64_t seed,
                          EvalScratch scratch, EvalResult* out, double* per_loop_accuracy) {
  if (samples < 1) return Status::fail(Error::bad_config, "evaluation needs at least one sample");
  if (task.alphabet != model.config().vocab_in)
    return Status::fail(Error::bad_config, "task alphabet %d does not match the model's vocabulary %d",
                        task.alphabet, model.config().vocab_in);
  const int loops = model.config().layers;
  const bool per_loop = per_loop_accuracy != nullptr && scratch.per_loop != nullptr;
  if (per_loop)
    for (int t = 0; t < loops; ++t) per_loop_accuracy[t] = 0;
  Rng rng(seed, std::uint64_t(len));
  std::int64_t positions = 0, correct = 0, perfect = 0;
  for (int s = 0; s < samples; ++s) {
    induction_sample(rng, task.alphabet, scratch.tokens, len);
    induction_targets(scratch.tokens, len, task.alphabet, task.hops, scratch.targets, scratch.last_seen,
                      scratch.prev);
    InferOutputs outputs;
    outputs.predictions = scratch.predictions;
    outputs.per_loop_predictions = per_loop ? scratch.per_loop : nullptr;
    TINYLOOP_TRY(model.run(scratch.tokens, len, outputs));
    bool all_right = true;
    for (int i = 0; i < len; ++i) {
      if (scratch.targets[i] == task.alphabet) continue;  // NONE: no target to get right
      ++positions;
      const bool right = scratch.predictions[i] == scratch.targets[i];
      correct += right;
      all_right = all_right && right;
      if (per_loop)
        for (int t = 0; t < loops; ++t)
          per_loop_accuracy[t] += scratch.per_loop[std::size_t(t) * len + i] == scratch.targets[i];
    }
    perfect += all_right;
  }
  if (per_loop)
    for (int t = 0; t < loops; ++t) per_loop_accuracy[t] = positions ? per_loop_accuracy[t] / double(positions) : 0;
  out->len = len;
  out->samples = samples;
  out->positions = positions;
  out->token_accuracy = positions ? double(correct) / double(positions) : 1.0;
  out->sequence_accuracy = double(perfect) / double(samples);
  return Status::ok();
}

}  // namespace tinyloop
