// Flag table and parsing of `tinyloop train`.
#include "train_options.hpp"

#include "recipes.hpp"

#include <algorithm>
#include <cfloat>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "commands.hpp"
#include "model_io.hpp"
#include "report.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::cli {

namespace {
std::string plausible_ranges_help();
}  // namespace

const CommandSpec& train_spec() {
  static const std::string notes =
      "Writes DIR/model.tlc (weights, optimizer state and data-generator state), DIR/train_log.csv\n"
      "(one row per log interval: means over the interval of the loss terms, gradient norm and\n"
      "accuracy; lr and len, the curriculum's longest length, at its last step) and DIR/eval.json\n"
      "(the length-generalisation table with evaluation seed 1234, per-loop readout included).\n"
      "Every file is replaced atomically: a crash or a full disk never damages the previous one.\n"
      "Ctrl-C stops cleanly: the checkpoint and log are saved, then the exit code is 130.\n"
      "\n"
      "Resuming: 'train --resume DIR/model.tlc' continues to the end of the run's plan, bit for\n"
      "bit as if it had never stopped. Flags that would change the configuration (the model, loss,\n"
      "optimizer, task, curriculum, batch, seed or --steps) are refused; --threads, --out, --quiet,\n"
      "--log-every, --save-every, --eval-* may differ. --steps is the plan the curriculum and the\n"
      "lr schedule are laid out over, so it cannot change; --stop-at K trains past the plan, with\n"
      "the plan's final state (longest length max-len, the schedule's last lr). The log continues\n"
      "the train_log.csv beside the checkpoint.\n"
      "A step whose loss or gradient is not finite leaves the weights untouched and is reported\n"
      "(step and term) and counted; --max-skipped consecutive ones end the run with exit 1.\n" +
      plausible_ranges_help();
  static const CommandSpec spec{
      "train",
      "tinyloop train [--preset tinyloop-alibi] [options]\n       tinyloop train --resume DIR/model.tlc [run options]",
      "train a looped transformer on the k-hop induction task",
      {
          {"--preset", "NAME", "starting configuration: tinyloop-alibi (the default: ALiBi positions, solves the "
                               "task at every length), lam2026 (the paper's, docs/MODEL.md §1-§3) or tinyloop-induction "
                               "(the best sinusoid-free recipe before ALiBi); docs/RESULTS.md"},
          {"--steps", "N", "planned optimizer steps; the curriculum and lr schedule span them (default 20000)"},
          {"--seed", "S", "seed: weights from Rng(S, 1), data from Rng(S, 2) (default 1)"},
          {"--threads", "T", "worker threads, 1..1024 (default: the hardware threads)"},
          {"--batch", "B", "sequences per batch (default 32)"},
          {"--lr", "X", "AdamW learning rate (preset: tinyloop-alibi 0.02, lam2026 0.001)"},
          {"--weight-decay", "X", "AdamW weight decay on every parameter (preset: tinyloop-alibi 0, lam2026 0.1)"},
          {"--warmup", "N", "linear warm-up steps (preset: tinyloop-alibi 200, lam2026 0)"},
          {"--schedule", "NAME", "learning-rate schedule: constant or cosine (preset: tinyloop-alibi cosine, lam2026 constant)"},
          {"--lambda-p", "X", "weight of the potential U (preset: tinyloop-alibi 0, lam2026 0.1)"},
          {"--lambda-k", "X", "weight of the kinetic energy K (preset: tinyloop-alibi 0, lam2026 0.001)"},
          {"--lambda-s", "X", "weight of the Tsallis entropy term (preset: tinyloop-alibi 0, lam2026 0.02)"},
          {"--q", "X", "Tsallis q (default 1.5)"},
          {"--eta", "X", "Tsallis entropy target eta; with --eta-schedule cosine, its value at the first "
                         "step (default 0)"},
          {"--eta-schedule", "NAME", "entropy target schedule: constant (the paper's) or cosine, from --eta "
                                     "to --eta-final over the run (default constant)"},
          {"--eta-final", "X", "entropy target at the last step of --eta-schedule cosine (default 0)"},
          {"--loops", "L", "loop iterations of the block (preset: tinyloop-alibi 8, lam2026 25)"},
          {"--alphabet", "A", "induction alphabet size; vocab_in = A, vocab_out = A + 1 (default 4)"},
          {"--hops", "K", "k of the k-hop induction task (default 1)"},
          {"--min-len", "N", "shortest training sequence (default 16)"},
          {"--max-len", "N", "longest training sequence, reached halfway through (default 64)"},
          {"--ramp", "F", "fraction of the run over which the longest length grows from --min-len to "
                          "--max-len; 0: --max-len from the start (default 0.5)"},
          {"--init-scale", "X", "multiplies the random initial weights (PyTorch's defaults at 1; default 1)"},
          {"--positions", "KIND", "sinusoidal (the paper's, added to the input), none (only the causal mask "
                                  "orders), alibi (learned recency slope in the scores), alibi+sinusoidal, or "
                                  "rope (rotated queries and keys); docs/MODEL.md §1.1 (preset: tinyloop-alibi alibi, lam2026 sinusoidal)"},
          {"--pe-scale", "X", "scale of the sinusoidal positions (default 0.15)"},
          {"--alibi-rho", "X", "initial rho of the ALiBi slope softplus(rho), in [-30, 30] (default 0.5)"},
          {"--rope-base", "X", "RoPE base: pair k turns by position * base^(-2k/d) (default 10000)"},
          {"--no-positions", nullptr, "same as --positions none"},
          {"--no-mask", nullptr, "attention without the causal mask"},
          {"--loop", "KIND", "standard or hamiltonian (default standard)"},
          {"--mu", "X", "hamiltonian loop momentum mu (default 0.9)"},
          {"--alpha", "X", "hamiltonian loop step alpha (default 1)"},
          {"--resume", "FILE", "continue the run saved in FILE (configuration, weights, AdamW state, "
                               "step and data generator all from the file)"},
          {"--stop-at", "K", "stop after step K and save (default: the planned --steps); on --resume K "
                             "may exceed the plan"},
          {"--save-every", "N", "save DIR/model.tlc (and train_log.csv) every N steps; 0: only at the "
                                "end (default 1000)"},
          {"--keep-checkpoints", nullptr, "also keep DIR/model-step<K>.tlc at every save"},
          {"--max-skipped", "N", "stop after N consecutive skipped steps (non-finite loss or gradient); "
                                 "0: never (default 100)"},
          {"--out", "DIR", "output directory, created if missing (default runs/<preset>-seed<S>; on "
                           "--resume the checkpoint's directory)"},
          {"--overwrite", nullptr, "replace an existing DIR/model.tlc"},
          {"--eval-lengths", "N,N,...", "lengths of the final evaluation (default 64,100,200,500,1000)"},
          {"--eval-samples", "N", "sequences per evaluation length (default 256)"},
          {"--no-eval", nullptr, "skip the final evaluation (no eval.json)"},
          {"--log-every", "N", "log interval in steps: a train_log.csv row and a progress line "
                               "(default: a row every 100 steps; the line is redrawn in place on a "
                               "terminal, printed every 5 s in a pipe or file)"},
          {"--quiet", nullptr, "no progress line; the first and last lines, warnings and errors are still printed"},
      },
      notes.c_str()};
  return spec;
}

namespace {

// The flags that make up the run's configuration (what a checkpoint stores), each with the
// text of the value(s) it sets: a resumed run names the flag that would change it, and reports
// print the flags that make a run's configuration. A switch (a flag without a value) also says
// whether a configuration has it on.
struct ConfigFlag {
  const char* name;
  std::function<std::string(const TrainConfig&)> text;
  std::function<bool(const TrainConfig&)> switched_on = nullptr;
};

// The shortest "%g" text that reads back to the same float ("0.002", not "0.00200000009").
std::string g(float v) {
  char buf[40];
  for (int digits = 6; digits < 9; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, double(v));
    if (std::strtof(buf, nullptr) == v) return buf;
  }
  return format_g9(double(v));
}

// Values a flag accepts (finite and valid) but no sensible run uses. Outside its range the run
// still starts, after a warning: a hard limit would also forbid the absurd learning rate with
// which the fault tests provoke non-finite steps on purpose.
struct PlausibleRange {
  const char* flag;
  double lo, hi;
  float (*value)(const TrainConfig&);
};

const PlausibleRange kPlausibleRanges[] = {
    {"--lr", 1e-6, 1, [](const TrainConfig& c) { return c.optim.lr; }},
    {"--weight-decay", 0, 1, [](const TrainConfig& c) { return c.optim.weight_decay; }},
    {"--lambda-p", 0, 100, [](const TrainConfig& c) { return c.loss.lambda_p; }},
    {"--lambda-k", 0, 100, [](const TrainConfig& c) { return c.loss.lambda_k; }},
    {"--lambda-s", 0, 100, [](const TrainConfig& c) { return c.loss.lambda_s; }},
    {"--q", 0.1, 10, [](const TrainConfig& c) { return c.loss.q; }},
    {"--eta", 0, 100, [](const TrainConfig& c) { return c.loss.eta; }},
    {"--eta-final", 0, 100, [](const TrainConfig& c) { return c.loss.eta_final; }},
    {"--init-scale", 0.01, 10, [](const TrainConfig& c) { return c.init_scale; }},
    {"--pe-scale", -10, 10, [](const TrainConfig& c) { return c.model.pe_scale; }},
    {"--mu", 0, 1, [](const TrainConfig& c) { return c.model.mu; }},
    {"--alpha", 0, 10, [](const TrainConfig& c) { return c.model.alpha; }},
};

std::string range_text(const PlausibleRange& r) { return format_g9(r.lo) + ".." + format_g9(r.hi); }

// The ranges for --help, wrapped like the rest of the notes.
std::string plausible_ranges_help() {
  std::string text = "\nPlausible ranges (a value outside its range is accepted, with a warning, as it rarely\n"
                     "trains anything):";
  std::size_t line = text.size() - text.rfind('\n') - 1;
  for (const PlausibleRange& r : kPlausibleRanges) {
    const std::string item = std::string(r.flag) + " " + range_text(r) + ",";
    if (line + 1 + item.size() > 92) {
      text += "\n" + item;
      line = item.size();
    } else {
      text += " " + item;
      line += 1 + item.size();
    }
  }
  text.back() = '.';
  return text + "\n";
}

// One warning per flag given with a value outside its plausible range.
std::vector<std::string> implausible_values(const ParsedArgs& a, const TrainConfig& c) {
  std::vector<std::string> warnings;
  for (const PlausibleRange& r : kPlausibleRanges) {
    const float v = r.value(c);
    if (a.has(r.flag) && (v < r.lo || v > r.hi))
      warnings.push_back(std::string(r.flag) + " " + g(v) + " is outside the plausible range " + range_text(r) +
                         "; the run goes ahead, but expect it to diverge or to learn nothing");
  }
  return warnings;
}

const std::vector<ConfigFlag>& config_flags() {
  static const std::vector<ConfigFlag> flags = {
      {"--steps", [](const TrainConfig& c) { return std::to_string(c.steps); }},
      {"--seed", [](const TrainConfig& c) { return std::to_string(c.seed); }},
      {"--batch", [](const TrainConfig& c) { return std::to_string(c.batch); }},
      {"--lr", [](const TrainConfig& c) { return g(c.optim.lr); }},
      {"--weight-decay", [](const TrainConfig& c) { return g(c.optim.weight_decay); }},
      {"--warmup", [](const TrainConfig& c) { return std::to_string(c.optim.warmup_steps); }},
      {"--schedule",
       [](const TrainConfig& c) { return std::string(c.optim.schedule == Schedule::cosine ? "cosine" : "constant"); }},
      {"--lambda-p", [](const TrainConfig& c) { return g(c.loss.lambda_p); }},
      {"--lambda-k", [](const TrainConfig& c) { return g(c.loss.lambda_k); }},
      {"--lambda-s", [](const TrainConfig& c) { return g(c.loss.lambda_s); }},
      {"--q", [](const TrainConfig& c) { return g(c.loss.q); }},
      {"--eta", [](const TrainConfig& c) { return g(c.loss.eta); }},
      {"--eta-schedule",
       [](const TrainConfig& c) {
         return std::string(c.loss.eta_schedule == Schedule::cosine ? "cosine" : "constant");
       }},
      {"--eta-final", [](const TrainConfig& c) { return g(c.loss.eta_final); }},
      {"--loops", [](const TrainConfig& c) { return std::to_string(c.model.loops); }},
      {"--alphabet", [](const TrainConfig& c) { return std::to_string(c.task.alphabet); }},
      {"--hops", [](const TrainConfig& c) { return std::to_string(c.task.hops); }},
      {"--min-len", [](const TrainConfig& c) { return std::to_string(c.curriculum.min_len); }},
      {"--max-len", [](const TrainConfig& c) { return std::to_string(c.curriculum.max_len); }},
      {"--ramp", [](const TrainConfig& c) { return g(c.curriculum.ramp); }},
      {"--init-scale", [](const TrainConfig& c) { return g(c.init_scale); }},
      {"--positions", [](const TrainConfig& c) { return std::string(position_name(c.model.positions)); }},
      {"--pe-scale", [](const TrainConfig& c) { return g(c.model.pe_scale); }},
      {"--alibi-rho", [](const TrainConfig& c) { return g(c.model.alibi_rho); }},
      {"--rope-base", [](const TrainConfig& c) { return g(c.model.rope_base); }},
      {"--no-mask", [](const TrainConfig& c) { return std::string(c.model.causal ? "causal mask" : "no mask"); },
       [](const TrainConfig& c) { return !c.model.causal; }},
      {"--loop",
       [](const TrainConfig& c) { return std::string(c.model.loop == LoopKind::hamiltonian ? "hamiltonian" : "standard"); }},
      {"--mu", [](const TrainConfig& c) { return g(c.model.mu); }},
      {"--alpha", [](const TrainConfig& c) { return g(c.model.alpha); }},
  };
  return flags;
}

// Every field of the configuration, compared exactly (floats by value, as parsed).
bool same_config(const TrainConfig& x, const TrainConfig& y) {
  const ModelConfig &a = x.model, &b = y.model;
  const LossConfig &la = x.loss, &lb = y.loss;
  const OptimConfig &oa = x.optim, &ob = y.optim;
  return a.loops == b.loops && a.vocab_in == b.vocab_in && a.vocab_out == b.vocab_out && a.positions == b.positions &&
         a.pe_scale == b.pe_scale && a.alibi_rho == b.alibi_rho && a.rope_base == b.rope_base && a.causal == b.causal && a.loop == b.loop && a.mu == b.mu && a.alpha == b.alpha &&
         a.beta == b.beta && a.tau == b.tau && la.lambda_p == lb.lambda_p && la.lambda_k == lb.lambda_k &&
         la.lambda_s == lb.lambda_s && la.q == lb.q && la.eta == lb.eta && la.eta_schedule == lb.eta_schedule &&
         la.eta_final == lb.eta_final && oa.lr == ob.lr && oa.beta1 == ob.beta1 &&
         oa.beta2 == ob.beta2 && oa.eps == ob.eps && oa.weight_decay == ob.weight_decay &&
         oa.clip_norm == ob.clip_norm && oa.warmup_steps == ob.warmup_steps && oa.schedule == ob.schedule &&
         oa.min_lr_ratio == ob.min_lr_ratio && x.task.alphabet == y.task.alphabet && x.task.hops == y.task.hops &&
         x.curriculum.min_len == y.curriculum.min_len && x.curriculum.max_len == y.curriculum.max_len &&
         x.curriculum.ramp == y.curriculum.ramp && x.batch == y.batch && x.steps == y.steps && x.seed == y.seed &&
         x.init_scale == y.init_scale;
}

// Applies the configuration flags present in `a` on top of `c` (absent flags keep c's value).
void apply_config_flags(const ParsedArgs& a, TrainConfig& c) {
  c.steps = a.get_int("--steps", c.steps, 0, kMaxSteps);
  c.seed = a.get_u64("--seed", c.seed);
  c.batch = static_cast<int>(a.get_int("--batch", c.batch, 1, kMaxBatch));
  c.optim.lr = a.get_float("--lr", c.optim.lr, 0.0, FLT_MAX, /*min_exclusive=*/true);
  c.optim.weight_decay = a.get_float("--weight-decay", c.optim.weight_decay, 0.0, FLT_MAX);
  c.optim.warmup_steps = static_cast<int>(a.get_int("--warmup", c.optim.warmup_steps, 0, INT_MAX));
  if (a.has("--schedule")) {
    std::string schedule = a.get_choice("--schedule", "constant", {"constant", "cosine"});
    c.optim.schedule = schedule == "cosine" ? Schedule::cosine : Schedule::constant;
  }
  c.loss.lambda_p = a.get_float("--lambda-p", c.loss.lambda_p, 0.0, FLT_MAX);
  c.loss.lambda_k = a.get_float("--lambda-k", c.loss.lambda_k, 0.0, FLT_MAX);
  c.loss.lambda_s = a.get_float("--lambda-s", c.loss.lambda_s, 0.0, FLT_MAX);
  c.loss.q = a.get_float("--q", c.loss.q, 0.0, FLT_MAX, true);
  if (c.loss.q == 1.0f) usage_error("--q must not be 1 (the Tsallis entropy divides by q - 1)");
  c.loss.eta = a.get_float("--eta", c.loss.eta, -FLT_MAX, FLT_MAX);
  if (a.has("--eta-schedule")) {
    std::string schedule = a.get_choice("--eta-schedule", "constant", {"constant", "cosine"});
    c.loss.eta_schedule = schedule == "cosine" ? Schedule::cosine : Schedule::constant;
  }
  c.loss.eta_final = a.get_float("--eta-final", c.loss.eta_final, -FLT_MAX, FLT_MAX);
  if (a.has("--eta-final") && c.loss.eta_schedule != Schedule::cosine)
    usage_error("--eta-final only applies with --eta-schedule cosine");
  c.model.loops = static_cast<int>(a.get_int("--loops", c.model.loops, 1, kMaxLoopsFlag));
  if (a.has("--alphabet")) {
    c.task.alphabet = static_cast<int>(a.get_int("--alphabet", c.task.alphabet, 2, kMaxAlphabet));
    sync_vocab_with_task(c);
  }
  c.task.hops = static_cast<int>(a.get_int("--hops", c.task.hops, 1, 64));
  c.curriculum.min_len = static_cast<int>(a.get_int("--min-len", c.curriculum.min_len, 1, kMaxSequenceLength));
  c.curriculum.max_len = static_cast<int>(a.get_int("--max-len", c.curriculum.max_len, 1, kMaxSequenceLength));
  if (c.curriculum.min_len > c.curriculum.max_len)
    usage_error("--min-len (" + std::to_string(c.curriculum.min_len) + ") must be <= --max-len (" +
                std::to_string(c.curriculum.max_len) + ")");
  c.curriculum.ramp = a.get_float("--ramp", c.curriculum.ramp, 0.0, 1.0);
  c.init_scale = a.get_float("--init-scale", c.init_scale, 0.0, FLT_MAX, /*min_exclusive=*/true);
  c.model.pe_scale = a.get_float("--pe-scale", c.model.pe_scale, -FLT_MAX, FLT_MAX);
  if (a.has("--positions") && a.has("--no-positions"))
    usage_error("--no-positions is --positions none; give one of the two");
  if (a.has("--positions")) {
    const std::string kind =
        a.get_choice("--positions", "sinusoidal", {"sinusoidal", "none", "alibi", "alibi+sinusoidal", "rope"});
    for (PositionKind k : {PositionKind::sinusoidal, PositionKind::none, PositionKind::alibi,
                           PositionKind::alibi_sinusoidal, PositionKind::rope})
      if (kind == position_name(k)) c.model.positions = k;
  }
  if (a.has("--no-positions")) c.model.positions = PositionKind::none;
  c.model.alibi_rho = a.get_float("--alibi-rho", c.model.alibi_rho, -30.0, 30.0);
  c.model.rope_base = a.get_float("--rope-base", c.model.rope_base, 1.0, FLT_MAX, /*min_exclusive=*/true);
  if (a.has("--alibi-rho") && !uses_alibi(c.model.positions))
    usage_error("--alibi-rho only applies to --positions alibi or alibi+sinusoidal");
  if (a.has("--rope-base") && !uses_rope(c.model.positions))
    usage_error("--rope-base only applies to --positions rope");
  if (a.has("--no-mask")) c.model.causal = false;
  if (a.has("--loop")) {
    std::string loop = a.get_choice("--loop", "standard", {"standard", "hamiltonian"});
    c.model.loop = loop == "hamiltonian" ? LoopKind::hamiltonian : LoopKind::standard;
  }
  c.model.mu = a.get_float("--mu", c.model.mu, -FLT_MAX, FLT_MAX);
  c.model.alpha = a.get_float("--alpha", c.model.alpha, -FLT_MAX, FLT_MAX);
  if ((a.has("--mu") || a.has("--alpha")) && c.model.loop != LoopKind::hamiltonian)
    usage_error(std::string(a.has("--mu") ? "--mu" : "--alpha") + " only applies to --loop hamiltonian");
}

// On --resume: every configuration flag must repeat the stored value.
void check_unchanged(const ParsedArgs& a, const TrainConfig& stored, const std::string& file) {
  if (a.has("--preset"))
    usage_error("--preset cannot be combined with --resume: the configuration comes from '" + file + "'");
  for (const ConfigFlag& f : config_flags()) {
    const std::string* value = a.find(f.name);
    if (!value) continue;
    const std::string one = value->empty() ? std::string(f.name) : std::string(f.name) + "=" + *value;
    // The flag alone on top of the stored configuration: which value would it set?
    ParsedArgs single = ParsedArgs::parse(train_spec(), {one});
    TrainConfig changed = stored;
    apply_config_flags(single, changed);
    const std::string want = f.text(changed), have = f.text(stored);
    if (want == have) continue;
    if (std::string(f.name) == "--steps")
      usage_error("--steps " + want + " would change the plan of '" + file + "' (" + have +
                  " steps; the curriculum and the learning-rate schedule are laid out over it); use --stop-at K "
                  "to stop earlier or to train past the plan");
    usage_error(std::string(f.name) + (value->empty() ? "" : " " + want) + " would change the run saved in '" +
                file + "' (it has " + have + "); a resumed run keeps its configuration: drop the flag, or start a "
                "new run");
  }
}

}  // namespace

std::string config_flags(const TrainConfig& cfg, const TrainConfig& base) {
  std::string s;
  for (const ConfigFlag& f : config_flags()) {
    if (f.text(cfg) == f.text(base)) continue;
    if (f.switched_on && !f.switched_on(cfg)) continue;  // a switch cannot be turned off
    s += (s.empty() ? "" : " ") + std::string(f.name) + (f.switched_on ? "" : " " + f.text(cfg));
  }
  return s;
}

std::string directory_of(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  while (slash > 0 && path[slash - 1] == '/') --slash;
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string check_cli_limits(const TrainConfig& c) {
  auto outside = [](const char* what, std::int64_t v, std::int64_t lo, std::int64_t hi) {
    return std::string(what) + " " + std::to_string(v) + " is outside this tool's range [" + std::to_string(lo) +
           ", " + std::to_string(hi) + "]";
  };
  if (c.steps < 0 || c.steps > kMaxSteps) return outside("steps", c.steps, 0, kMaxSteps);
  if (c.batch < 1 || c.batch > kMaxBatch) return outside("batch", c.batch, 1, kMaxBatch);
  if (c.model.loops < 1 || c.model.loops > kMaxLoopsFlag) return outside("loops", c.model.loops, 1, kMaxLoopsFlag);
  if (c.task.alphabet < 2 || c.task.alphabet > kMaxAlphabet)
    return outside("alphabet", c.task.alphabet, 2, kMaxAlphabet);
  if (c.curriculum.max_len < 1 || c.curriculum.max_len > kMaxSequenceLength)
    return outside("max_len", c.curriculum.max_len, 1, kMaxSequenceLength);
  return std::string();
}

TrainOptions parse_train_options(const ParsedArgs& a, const TrainConfig* resumed) {
  TrainOptions o;
  TrainConfig& c = o.cfg;
  if (resumed) {
    o.resume = a.get_string("--resume", "");
    check_unchanged(a, *resumed, o.resume);
    c = *resumed;
    apply_config_flags(a, c);  // every flag repeats the stored value: c is unchanged
    if (!same_config(c, *resumed))
      usage_error("the flags would change the configuration saved in '" + o.resume + "'");
  } else {
    const std::string preset = a.get_choice("--preset", default_recipe(), recipe_names());
    c = find_recipe(preset)->make();
    apply_config_flags(a, c);
    o.warnings = implausible_values(a, c);
  }

  int hw = std::min(std::max(platform::hardware_threads(), 1), kMaxThreads);
  o.threads = static_cast<int>(a.get_int("--threads", hw, 1, kMaxThreads));
  std::string default_out =
      resumed ? directory_of(o.resume)
              : "runs/" + a.get_string("--preset", default_recipe()) + "-seed" + std::to_string(c.seed);
  o.out = a.get_string("--out", default_out);
  while (o.out.size() > 1 && o.out.back() == '/') o.out.pop_back();  // "runs/x/" -> "runs/x"
  o.overwrite = a.has("--overwrite");
  o.no_eval = a.has("--no-eval");
  if (o.no_eval && (a.has("--eval-lengths") || a.has("--eval-samples")))
    usage_error(std::string(a.has("--eval-lengths") ? "--eval-lengths" : "--eval-samples") +
                " has no effect with --no-eval");
  o.eval.lengths = a.get_int_list("--eval-lengths", default_eval_lengths(), 1, kMaxSequenceLength);
  o.eval.samples = static_cast<int>(a.get_int("--eval-samples", kDefaultEvalSamples, 1, 1000000));
  o.eval.seed = kDefaultEvalSeed;
  o.eval.per_loop = true;
  o.quiet = a.has("--quiet");
  o.explicit_log_every = a.has("--log-every");
  o.log_every = a.get_int("--log-every", kDefaultLogEvery, 1, kMaxSteps);
  o.explicit_stop_at = a.has("--stop-at");
  o.stop_at = a.get_int("--stop-at", c.steps, 0, kMaxSteps);
  o.save_every = a.get_int("--save-every", kDefaultSaveEvery, 0, kMaxSteps);
  o.keep_checkpoints = a.has("--keep-checkpoints");
  o.max_skipped = a.get_int("--max-skipped", kDefaultMaxSkipped, 0, kMaxSteps);

  Status v = validate(c);
  if (!v) usage_error(std::string("invalid configuration: ") + v.message());
  return o;
}

}  // namespace tinyloop::cli
