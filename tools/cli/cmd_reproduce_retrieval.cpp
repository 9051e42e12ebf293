// `tinyloop reproduce retrieval`: flags -> the retrieval study's options (studies/retrieval),
// then its report folder.
#include <cstdio>

#include "args.hpp"
#include "reproduce.hpp"
#include "retrieval/retrieval.hpp"

namespace tinyloop::cli {

namespace {

namespace sr = tinyloop::study::retrieval;

const CommandSpec& spec() {
  static const CommandSpec s{
      "reproduce retrieval",
      "tinyloop reproduce retrieval [--quick] [options]",
      "the retrieval problem (SPEC §4.2): accuracy per chain depth over training, curriculum on and off",
      {
          {"--quick", nullptr, "small cell: K 4, 3 chains, 2 layers, 2 heads, width 32, 8000 steps, evaluated every 200 (about 4 minutes on 2 cores)"},
          {"--K", "K", "largest chain depth (default 8; --quick 4)"},
          {"--chains", "M", "chains per instance (default 4; --quick 3)"},
          {"--values", "N", "value tokens (default 8)"},
          {"--variables", "N", "variable tokens (default 32)"},
          {"--layers", "L", "layers, or loops with --looped (default 4; --quick 2)"},
          {"--heads", "H", "heads per layer (default 2)"},
          {"--width", "D", "model width (default 64; --quick 32)"},
          {"--looped", nullptr, "one shared block run L times instead of L layers"},
          {"--positions", "KIND", "learned or none (default learned)"},
          {"--curriculum", "WHICH", "on, off or both (default both)"},
          {"--steps", "N", "training steps (default 10000; --quick 8000)"},
          {"--batch", "N", "instances per step (default 32)"},
          {"--lr", "X", "peak learning rate (default 0.003)"},
          {"--seed", "S", "initialisation and data seed (default 1)"},
          {"--eval-every", "N", "steps between evaluations (default 100; --quick 200)"},
          {"--eval-instances", "N", "held-out instances (default 256)"},
          {"--eval-seed", "S", "seed of the held-out set (default 1234)"},
          {"--out", "DIR", "report folder (default runs/reproduce-retrieval)"},
          {"--quiet", nullptr, "no progress lines"},
      },
      "Writes DIR/report.md (first step at >= 95% and final accuracy per depth and at the query, the\n"
      "emergence order), DIR/accuracy.csv (every evaluation point) and DIR/accuracy.svg (one curve per\n"
      "depth, one panel per curriculum setting)."};
  return s;
}

sr::CellOptions parse(const ParsedArgs& a) {
  const bool quick = a.has("--quick");
  sr::CellOptions o;
  o.task.max_depth = int(a.get_int("--K", quick ? 4 : 8, 1, 4096));
  o.task.chains = int(a.get_int("--chains", quick ? 3 : 4, 1, 4096));
  o.task.values = int(a.get_int("--values", 8, 2, 1 << 20));
  o.task.variables = int(a.get_int("--variables", 32, 1, 1 << 20));
  o.layers = int(a.get_int("--layers", quick ? 2 : 4, 1, kMaxBlocks));
  o.heads = int(a.get_int("--heads", 2, 1, 64));
  o.width = int(a.get_int("--width", quick ? 32 : 64, 1, 4096));
  o.looped = a.has("--looped");
  o.positions = a.get_choice("--positions", "learned", {"learned", "none"}) == "learned" ? Positions::learned
                                                                                        : Positions::none;
  o.steps = a.get_int("--steps", quick ? 8000 : 10000, 1, 100000000);
  o.batch = int(a.get_int("--batch", 32, 1, 4096));
  o.lr = a.get_float("--lr", 0.003f, 0.0, 10.0, true);
  o.seed = a.get_u64("--seed", 1);
  o.eval_every = int(a.get_int("--eval-every", quick ? 200 : 100, 1, 100000000));
  o.eval_instances = int(a.get_int("--eval-instances", 256, 1, 10000000));
  o.eval_seed = a.get_u64("--eval-seed", 1234);
  const Status st = sr::validate(o);
  if (!st) usage_error(st.message());
  return o;
}

std::string command_line(const std::vector<std::string>& args) {
  std::string s = "tinyloop reproduce retrieval";
  for (const std::string& x : args) s += " " + x;
  return s;
}

}  // namespace

int run_reproduce_retrieval(const std::vector<std::string>& args) {
  ParsedArgs a = ParsedArgs::parse(spec(), args);
  if (a.help_requested()) {
    std::fputs(format_help(spec()).c_str(), stdout);
    return kExitOk;
  }
  sr::Options o;
  o.base = parse(a);
  const std::string which = a.get_choice("--curriculum", "both", {"on", "off", "both"});
  o.curriculum_on = which != "off";
  o.curriculum_off = which != "on";
  o.quiet = a.has("--quiet");
  o.command = command_line(args);
  const std::string out = a.get_string("--out", "runs/reproduce-retrieval");
  const study::Report rep = sr::run(o);
  write_report(out, rep);
  std::fputs(rep.summary.c_str(), stdout);
  std::fputs(wrote_line(out, rep).c_str(), stdout);
  return kExitOk;
}

}  // namespace tinyloop::cli
