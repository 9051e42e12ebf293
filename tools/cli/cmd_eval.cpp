// tinyloop eval: the length-generalisation table of a checkpoint (SPEC §5).
#include <cstdio>

#include "commands.hpp"
#include "evaluation.hpp"
#include "model_io.hpp"
#include "progress.hpp"
#include "train_options.hpp"

namespace tinyloop::cli {

const CommandSpec& eval_spec() {
  static const CommandSpec spec{
      "eval",
      "tinyloop eval --checkpoint FILE [options]",
      "evaluate a checkpoint on the induction task at several lengths",
      {
          {"--checkpoint", "FILE", "checkpoint written by 'tinyloop train' (required)"},
          {"--lengths", "N,N,...", "sequence lengths to evaluate (default 64,100,200,500,1000)"},
          {"--samples", "N", "sequences per length (default 256)"},
          {"--seed", "S", "evaluation seed; length n uses Rng(S, stream n) (default 1234)"},
          {"--per-loop", nullptr, "also report the accuracy of the readout applied after each loop"},
          {"--loops", "L", "run the shared block L times instead of the trained count (default: as trained)"},
          {"--json", nullptr, "print one JSON object instead of the table"},
          {"--quiet", nullptr, "no progress line on stderr (errors are still printed)"},
      },
      "Token accuracy counts the positions whose target is not NONE; sequence accuracy is the\n"
      "share of sequences with every such position right. The default seed is fixed, so every\n"
      "checkpoint is measured on the same sequences. A long evaluation shows its progress on stderr\n"
      "(the length being measured and an ETA): in place on a terminal, every few seconds elsewhere."};
  return spec;
}

int run_eval(const Args& args) {
  ParsedArgs a = ParsedArgs::parse(eval_spec(), args);
  if (a.help_requested()) {
    std::fputs(format_help(eval_spec()).c_str(), stdout);
    return kExitOk;
  }
  std::string path = a.require_string("--checkpoint", "FILE");
  EvalOptions opt;
  opt.lengths = a.get_int_list("--lengths", default_eval_lengths(), 1, kMaxSequenceLength);
  opt.samples = static_cast<int>(a.get_int("--samples", kDefaultEvalSamples, 1, 1000000));
  opt.seed = a.get_u64("--seed", kDefaultEvalSeed);
  opt.per_loop = a.has("--per-loop");
  opt.loops = static_cast<int>(a.get_int("--loops", 0, 1, kMaxLoopsFlag));
  const bool json = a.has("--json");
  Progress progress(!a.has("--quiet"));

  LoadedCheckpoint ck = load_checkpoint(path);
  const TrainConfig& cfg = ck.header.config;
  if (!json) {
    const std::string loops = opt.loops > 0 ? std::to_string(opt.loops) + " (trained with " +
                                                  std::to_string(cfg.model.layers) + ")"
                                            : std::to_string(cfg.model.layers);
    std::printf("checkpoint %s: step %lld, positions %s, loops %s, alphabet %d, hops %d; %d samples per length, "
                "seed %llu\n",
                path.c_str(), static_cast<long long>(ck.header.step), position_name(cfg.model.positions),
                loops.c_str(), cfg.task.alphabet, cfg.task.hops, opt.samples, static_cast<unsigned long long>(opt.seed));
    print_eval_header(stdout);
  }
  auto on_row = [&](const LengthResult& r) {
    if (!json) print_eval_row(stdout, r);
  };
  std::vector<LengthResult> rows = run_length_eval(cfg, ck.params.data(), ck.params.size(), opt, on_row, {}, &progress);
  if (json) std::fputs(eval_json(path, opt, rows).c_str(), stdout);
  else print_per_loop_table(stdout, rows);
  return kExitOk;
}

}  // namespace tinyloop::cli
