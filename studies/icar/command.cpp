// `tinyloop reproduce icar`: flags -> the ICAR study's options, its training progress on stderr,
// then its report folder. Built without the study where the target has no BLAS/LAPACK: it says so.
#include <cstdio>

#include "args.hpp"
#include "icar/icar.hpp"
#include "progress.hpp"
#include "text_format.hpp"
#include "tinyloop/icar.hpp"
#include "tinyloop/model.hpp"

namespace tinyloop::study::icar {

namespace {

using cli::CommandSpec;
using cli::ParsedArgs;
using cli::usage_error;

const CommandSpec& reproduce_icar_spec() {
  static const CommandSpec spec{
      "reproduce icar",
      "tinyloop reproduce icar [--quick] [options]",
      "in-context autoregressive learning: trained linear transformer vs one gradient-descent step",
      {
          {"--quick", nullptr, "fewer steps and sequences (1000 steps, (b) 500, (c) 300, 512 evaluation sequences, "
                               "(d) from 3 draws, (e) and (f) one seed on a smaller set); about a minute on 2 cores"},
          {"--steps", "N", "training steps per setting (default 3000)"},
          {"--batch", "N", "sequences per step (default 64)"},
          {"--lr", "X", "peak learning rate (default 0.01)"},
          {"--seed", "S", "task, initialisation and data seed (default 1)"},
          {"--p", "P", "state dimension, even (default 4)"},
          {"--n", "N", "sequence length (default 50)"},
          {"--eval-sequences", "N", "evaluation sequences (default 2048)"},
          {"--plain-steps", "N", "(b) steps of the plain-token multi-head model, per data variant (default 1500; 0 skips)"},
          {"--plain-heads", "H", "(b) heads of the plain-token model (default 4)"},
          {"--softmax-steps", "N", "(c) steps of the non-commuting softmax stack (default 1000; 0 skips)"},
          {"--softmax-layers", "L", "(c) layers of the softmax stack (default 2)"},
          {"--authors-seeds", "N", "(e) the authors' augmented run (their Fig. 5): seeds trained from --seed on "
                                   "(default 3; --quick 1; 0 skips (e))"},
          {"--authors-epochs", "N", "(e) epochs over the training set (default 200, theirs; --quick 25)"},
          {"--authors-sequences", "N", "(e) training sequences (default 16384, theirs; --quick 2048)"},
          {"--authors-batch", "N", "(e) sequences per step (default 1024, theirs; --quick 256)"},
          {"--gated-seeds", "N", "(f) the authors' non-augmented run (their Fig. 7): seeds trained from --seed on "
                                 "(default 3; --quick 1; 0 skips (f))"},
          {"--gated-heads", "H", "(f) heads (default 16; --quick 8; theirs 64)"},
          {"--gated-epochs", "N", "(f) epochs over the training set (default 50; --quick 10; theirs 200)"},
          {"--gated-sequences", "N", "(f) training sequences (default 4096; --quick 1024; theirs 16384)"},
          {"--gated-batch", "N", "(f) sequences per step (default 256; --quick 128; theirs 1024)"},
          {"--theory-seeds", "N", "(d) the authors' theory of Figs 3 and 6; orthogonal.py also from N initial draws "
                                  "(default 10; 0 skips (d))"},
          {"--out", "DIR", "report folder (default runs/reproduce-icar)"},
          {"--quiet", nullptr, "no progress lines"},
      },
      "Writes DIR/report.md (loss versus t for the trained model, the fitted one-step GD predictor and\n"
      "the zero predictor, in the commuting and non-commuting settings; learned matrices against\n"
      "the predicted structure), DIR/loss_vs_t.csv and DIR/loss_vs_t.svg; (b) plain tokens with learned\n"
      "positions: head overlaps and trigonometric measures of the positions (plain_tokens.csv/.svg,\n"
      "plain_positions.csv); (c) non-commuting loss versus t of a softmax stack next to the linear\n"
      "layer and one GD step (noncommuting_loss_vs_t.csv/.svg); (d) the authors' theory scripts against\n"
      "their closed forms and stored values (fig3_theory.svg, fig6_pe_only.svg, fig6_last_row.csv); (e) the\n"
      "authors' augmented run against one GD step (authors_loss_vs_t.csv/.svg, authors_blocks.svg); (f)\n"
      "their non-augmented run: loss versus t and the heads' positional softmax maps (gated_loss_vs_t.csv/.svg,\n"
      "gated_maps.svg)."};
  return spec;
}

#ifdef TINYLOOP_STUDY_ICAR
Options parse(const ParsedArgs& a) {
  Options o;
  const bool quick = a.has("--quick");
  o.steps = a.get_int("--steps", quick ? 1000 : 3000, 1, 100000000);
  o.batch = int(a.get_int("--batch", 64, 1, 4096));
  o.lr = a.get_float("--lr", 0.01f, 0.0, 10.0, true);
  o.seed = a.get_u64("--seed", 1);
  o.p = int(a.get_int("--p", 4, 2, tinyloop::icar::kMaxP));
  if (o.p % 2 != 0) usage_error("--p must be even (rotations act on pairs), got " + std::to_string(o.p));
  o.n = int(a.get_int("--n", 50, 4, 4096));
  o.eval_sequences = int(a.get_int("--eval-sequences", quick ? 512 : 2048, 1, 10000000));
  o.plain_steps = a.get_int("--plain-steps", quick ? 500 : 1500, 0, 100000000);
  o.plain_heads = int(a.get_int("--plain-heads", 4, 1, 2 * o.p));
  if ((2 * o.p) % o.plain_heads != 0)
    usage_error("--plain-heads must divide the width 2p = " + std::to_string(2 * o.p));
  o.softmax_steps = a.get_int("--softmax-steps", quick ? 300 : 1000, 0, 100000000);
  o.softmax_layers = int(a.get_int("--softmax-layers", 2, 1, kMaxBlocks));
  o.theory_seeds = int(a.get_int("--theory-seeds", quick ? 3 : 10, 0, 1000));
  o.authors_seeds = int(a.get_int("--authors-seeds", quick ? 1 : 3, 0, 1000));
  o.authors_epochs = int(a.get_int("--authors-epochs", quick ? 25 : 200, 1, 1000000));
  o.authors_sequences = int(a.get_int("--authors-sequences", quick ? 2048 : 16384, 1, 1 << 22));
  o.authors_batch = int(a.get_int("--authors-batch", quick ? 256 : 1024, 1, 1 << 16));
  o.gated_seeds = int(a.get_int("--gated-seeds", quick ? 1 : 3, 0, 1000));
  o.gated_heads = int(a.get_int("--gated-heads", quick ? 8 : 16, 1, 1024));
  o.gated_epochs = int(a.get_int("--gated-epochs", quick ? 10 : 50, 1, 1000000));
  o.gated_sequences = int(a.get_int("--gated-sequences", quick ? 1024 : 4096, 1, 1 << 22));
  o.gated_batch = int(a.get_int("--gated-batch", quick ? 128 : 256, 1, 1 << 16));
  if (o.gated_batch > o.gated_sequences)
    usage_error("--gated-batch (" + std::to_string(o.gated_batch) + ") is more than --gated-sequences (" +
                std::to_string(o.gated_sequences) + ")");
  if (o.authors_batch > o.authors_sequences)
    usage_error("--authors-batch (" + std::to_string(o.authors_batch) + ") is more than --authors-sequences (" +
                std::to_string(o.authors_sequences) + ")");
  return o;
}

// "icar NAME: step 300/3000  loss 0.01234  ETA 40s", when due and at the last step.
void show_step(cli::Progress& progress, const StepNote& s) {
  if (s.done < s.steps && !progress.due()) return;
  char line[160];
  std::snprintf(line, sizeof line, "icar %s: step %lld/%lld  loss %.5f  ETA %s", s.name.c_str(), (long long)s.done,
                (long long)s.steps, s.loss,
                text::format_duration(s.seconds / double(s.done) * double(s.steps - s.done)).c_str());
  progress.show(line, true);
  if (s.done == s.steps) progress.finish(true);
}
#endif

}  // namespace

int run_command(const std::vector<std::string>& args) {
  ParsedArgs a = ParsedArgs::parse(reproduce_icar_spec(), args);
  if (a.help_requested()) {
    std::fputs(cli::format_help(reproduce_icar_spec()).c_str(), stdout);
    return cli::kExitOk;
  }
#ifdef TINYLOOP_STUDY_ICAR
  Options o = parse(a);
  cli::Progress progress(!a.has("--quiet"));
  o.on_step = [&](const StepNote& s) { show_step(progress, s); };
  const std::string out = a.get_string("--out", "runs/reproduce-icar");
  const study::Report r = run(o);
  study::write_report(out, r);
  std::fputs(r.summary.c_str(), stdout);
  std::fputs(study::wrote_line(out, r).c_str(), stdout);
  return cli::kExitOk;
#else
  cli::runtime_error("this build has no ICAR study: it needs BLAS, LAPACK and xtensor-blas (libxtensor-blas-dev)");
#endif
}

}  // namespace tinyloop::study::icar
