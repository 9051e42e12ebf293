// Flag table and parsing of `tinyloop train`.
#include "train_options.hpp"

#include <algorithm>
#include <cfloat>
#include <climits>

#include "commands.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::cli {

const CommandSpec& train_spec() {
  static const CommandSpec spec{
      "train",
      "tinyloop train [--preset lam2026] [options]",
      "train a looped transformer on the k-hop induction task",
      {
          {"--preset", "NAME", "starting configuration: lam2026 (SPEC §1-§3; the default)"},
          {"--steps", "N", "optimizer steps (default 20000)"},
          {"--seed", "S", "seed: weights from Rng(S, 1), data from Rng(S, 2) (default 1)"},
          {"--threads", "T", "worker threads, 1..1024 (default: the hardware threads)"},
          {"--batch", "B", "sequences per batch (default 32)"},
          {"--lr", "X", "AdamW learning rate (default 0.001)"},
          {"--warmup", "N", "linear warm-up steps (default 0)"},
          {"--schedule", "NAME", "learning-rate schedule: constant or cosine (default constant)"},
          {"--lambda-p", "X", "weight of the potential U (default 0.1)"},
          {"--lambda-k", "X", "weight of the kinetic energy K (default 0.001)"},
          {"--lambda-s", "X", "weight of the Tsallis entropy term (default 0.02)"},
          {"--q", "X", "Tsallis q (default 1.5)"},
          {"--eta", "X", "Tsallis entropy target eta (default 0)"},
          {"--loops", "L", "loop iterations of the block (default 25)"},
          {"--alphabet", "A", "induction alphabet size; vocab_in = A, vocab_out = A + 1 (default 4)"},
          {"--hops", "K", "k of the k-hop induction task (default 1)"},
          {"--min-len", "N", "shortest training sequence (default 16)"},
          {"--max-len", "N", "longest training sequence, reached halfway through (default 64)"},
          {"--pe-scale", "X", "scale of the sinusoidal positions (default 0.15)"},
          {"--no-positions", nullptr, "no positional encoding"},
          {"--no-mask", nullptr, "attention without the causal mask"},
          {"--loop", "KIND", "standard or hamiltonian (default standard)"},
          {"--mu", "X", "hamiltonian loop momentum mu (default 0.9)"},
          {"--alpha", "X", "hamiltonian loop step alpha (default 1)"},
          {"--out", "DIR", "output directory, created if missing (default runs/lam2026-seed<S>)"},
          {"--overwrite", nullptr, "replace an existing DIR/model.tlc"},
          {"--eval-lengths", "N,N,...", "lengths of the final evaluation (default 64,100,200,500,1000)"},
          {"--eval-samples", "N", "sequences per evaluation length (default 256)"},
          {"--log-every", "N", "log interval in steps: a train_log.csv row and a progress line "
                               "(default: a row every 100 steps, a line about every second)"},
      },
      "Writes DIR/model.tlc (weights, optimizer state and data-generator state), DIR/train_log.csv\n"
      "(one row per log interval: means over the interval of the loss terms, gradient norm and\n"
      "accuracy; lr and len, the curriculum's longest length, at its last step) and DIR/eval.json\n"
      "(the length-generalisation table with evaluation seed 1234, per-loop readout included).\n"
      "Ctrl-C stops cleanly: the checkpoint and log are saved, then the exit code is 130."};
  return spec;
}


TrainOptions parse_train_options(const ParsedArgs& a) {
  TrainOptions o;
  std::string preset = a.get_choice("--preset", "lam2026", {"lam2026"});
  (void)preset;
  TrainConfig& c = o.cfg;
  c = preset_lam2026();
  c.steps = a.get_int("--steps", c.steps, 0, kMaxSteps);
  c.seed = a.get_u64("--seed", c.seed);
  int hw = std::min(std::max(platform::hardware_threads(), 1), kMaxThreads);
  o.threads = static_cast<int>(a.get_int("--threads", hw, 1, kMaxThreads));
  c.batch = static_cast<int>(a.get_int("--batch", c.batch, 1, kMaxBatch));
  c.optim.lr = a.get_float("--lr", c.optim.lr, 0.0, FLT_MAX, /*min_exclusive=*/true);
  c.optim.warmup_steps = static_cast<int>(a.get_int("--warmup", c.optim.warmup_steps, 0, INT_MAX));
  std::string schedule = a.get_choice("--schedule", "constant", {"constant", "cosine"});
  if (a.has("--schedule")) c.optim.schedule = schedule == "cosine" ? Schedule::cosine : Schedule::constant;
  c.loss.lambda_p = a.get_float("--lambda-p", c.loss.lambda_p, 0.0, FLT_MAX);
  c.loss.lambda_k = a.get_float("--lambda-k", c.loss.lambda_k, 0.0, FLT_MAX);
  c.loss.lambda_s = a.get_float("--lambda-s", c.loss.lambda_s, 0.0, FLT_MAX);
  c.loss.q = a.get_float("--q", c.loss.q, 0.0, FLT_MAX, true);
  if (c.loss.q == 1.0f) usage_error("--q must not be 1 (the Tsallis entropy divides by q - 1)");
  c.loss.eta = a.get_float("--eta", c.loss.eta, -FLT_MAX, FLT_MAX);
  c.model.loops = static_cast<int>(a.get_int("--loops", c.model.loops, 1, 10000));
  c.task.alphabet = static_cast<int>(a.get_int("--alphabet", c.task.alphabet, 2, 65536));
  sync_vocab_with_task(c);
  c.task.hops = static_cast<int>(a.get_int("--hops", c.task.hops, 1, 64));
  c.curriculum.min_len = static_cast<int>(a.get_int("--min-len", c.curriculum.min_len, 1, kMaxSequenceLength));
  c.curriculum.max_len = static_cast<int>(a.get_int("--max-len", c.curriculum.max_len, 1, kMaxSequenceLength));
  if (c.curriculum.min_len > c.curriculum.max_len)
    usage_error("--min-len (" + std::to_string(c.curriculum.min_len) + ") must be <= --max-len (" +
                std::to_string(c.curriculum.max_len) + ")");
  c.model.pe_scale = a.get_float("--pe-scale", c.model.pe_scale, -FLT_MAX, FLT_MAX);
  if (a.has("--no-positions")) c.model.positions = PositionKind::none;
  if (a.has("--no-mask")) c.model.causal = false;
  std::string loop = a.get_choice("--loop", "standard", {"standard", "hamiltonian"});
  c.model.loop = loop == "hamiltonian" ? LoopKind::hamiltonian : LoopKind::standard;
  c.model.mu = a.get_float("--mu", c.model.mu, -FLT_MAX, FLT_MAX);
  c.model.alpha = a.get_float("--alpha", c.model.alpha, -FLT_MAX, FLT_MAX);
  if ((a.has("--mu") || a.has("--alpha")) && c.model.loop != LoopKind::hamiltonian)
    usage_error(std::string(a.has("--mu") ? "--mu" : "--alpha") + " only applies to --loop hamiltonian");

  o.out = a.get_string("--out", "runs/lam2026-seed" + std::to_string(c.seed));
  while (o.out.size() > 1 && o.out.back() == '/') o.out.pop_back();  // "runs/x/" -> "runs/x"
  o.overwrite = a.has("--overwrite");
  o.eval.lengths = a.get_int_list("--eval-lengths", default_eval_lengths(), 1, kMaxSequenceLength);
  o.eval.samples = static_cast<int>(a.get_int("--eval-samples", kDefaultEvalSamples, 1, 1000000));
  o.eval.seed = kDefaultEvalSeed;
  o.eval.per_loop = true;
  o.explicit_log_every = a.has("--log-every");
  o.log_every = a.get_int("--log-every", kDefaultLogEvery, 1, kMaxSteps);

  Status v = validate(c);
  if (!v) usage_error(std::string("invalid configuration: ") + v.message());
  return o;
}


}  // namespace tinyloop::cli
