// libFuzzer target: the CLI's flag and configuration parsing (tools/args/args.cpp,
// tools/cli/train_options.cpp, tokens.cpp) as `tinyloop <command> ...` would run it, without
// running the command.
//
// Input: one selector byte, then the arguments separated by NUL bytes. Selector % 6:
//   0 train (fresh run: preset + flags, validate(TrainConfig))
//   1 train --resume (the flags checked against a stored lam2026 configuration)
//   2 eval, 3 infer, 4 export (flag table + the getters the command uses)
//   5 the --tokens parser on the raw text
// Every outcome must be a parsed result or a CliError with exit code 1 or 2 and a message; any
// other exception, a crash or a sanitizer report is a finding; so is a CliError on a known-good
// seed (known_good.hpp). Accepted training options must describe a configuration the engine
// accepts and can plan.
#include <cfloat>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "args.hpp"
#include "commands.hpp"
#include "evaluation.hpp"
#include "known_good.hpp"
#include "tinyloop/checkpoint.hpp"
#include "tinyloop/config.hpp"
#include "tinyloop/inference.hpp"
#include "tinyloop/trainer.hpp"
#include "tokens.hpp"
#include "train_options.hpp"

using namespace tinyloop;
using namespace tinyloop::cli;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void run(int selector, const std::vector<std::string>& args, const std::string& raw) {
  switch (selector) {
    case 0:
    case 1: {
      ParsedArgs a = ParsedArgs::parse(train_spec(), args);
      if (a.help_requested()) return;
      const TrainConfig stored = preset_lam2026();
      TrainOptions o = parse_train_options(a, selector == 1 ? &stored : nullptr);
      check(validate(o.cfg).is_ok());
      check(check_cli_limits(o.cfg).empty());
      check(o.threads >= 1 && o.threads <= kMaxThreads);
      check(o.log_every >= 1 && o.save_every >= 0 && o.max_skipped >= 0 && o.stop_at >= 0);
      check(checkpoint_bytes(o.cfg, true) > 0);
      if (selector == 1) check(o.cfg.steps == stored.steps && o.cfg.optim.lr == stored.optim.lr);
      Capacity cap;
      cap.max_len = o.cfg.curriculum.max_len;
      cap.max_batch = o.cfg.batch;
      cap.workers = o.threads;
      MemoryPlan plan = Trainer<float>::plan(o.cfg, cap);
      check(plan.total >= plan.params);
      for (int len : o.eval.lengths) (void)Inference::plan(o.cfg.model, len);
      return;
    }
    case 2: {
      ParsedArgs a = ParsedArgs::parse(eval_spec(), args);
      if (a.help_requested()) return;
      (void)a.get_string("--checkpoint", "");
      std::vector<int> lengths = a.get_int_list("--lengths", default_eval_lengths(), 1, kMaxSequenceLength);
      for (int len : lengths) check(len >= 1 && len <= kMaxSequenceLength);
      (void)a.get_int("--samples", kDefaultEvalSamples, 1, 1000000);
      (void)a.get_u64("--seed", kDefaultEvalSeed);
      return;
    }
    case 3: {
      ParsedArgs a = ParsedArgs::parse(infer_spec(), args);
      if (a.help_requested()) return;
      if (const std::string* t = a.find("--tokens")) {
        TokenList l = parse_tokens(*t, "--tokens", kExitUsage);
        check(!l.ids.empty() && l.ids.size() == l.text.size());
      }
      return;
    }
    case 4: {
      ParsedArgs a = ParsedArgs::parse(export_spec(), args);
      if (a.help_requested()) return;
      (void)a.get_string("--checkpoint", "");
      (void)a.get_string("--json", "");
      return;
    }
    default: {
      TokenList l = parse_tokens(raw, "--tokens", kExitUsage);
      check(!l.ids.empty() && l.ids.size() == l.text.size() &&
            l.ids.size() <= static_cast<std::size_t>(kMaxSequenceLength));
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 4096) {
    tinyloop::fuzz::note_rejected("input size outside 1..4096");
    return 0;
  }
  const int selector = data[0] % 6;
  const std::string raw(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string> args;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= raw.size(); ++i) {
    if (i == raw.size() || raw[i] == '\0') {
      if (i > start || i < raw.size()) args.push_back(raw.substr(start, i - start));
      start = i + 1;
    }
  }
  try {
    run(selector, args, raw);
  } catch (const CliError& e) {
    tinyloop::fuzz::note_rejected(e.message.c_str());
    check(e.exit_code == kExitUsage || e.exit_code == kExitRuntime);
    check(!e.message.empty());
  }
  return 0;
}
