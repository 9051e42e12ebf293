// The flags of `tinyloop train`: the configuration fields (tinyloop/config_fields.hpp) and the
// run's own options, parsed, checked against a resumed run, and printed back as flags.
#include "train_options.hpp"

#include "recipes.hpp"

#include <algorithm>
#include <cfloat>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "commands.hpp"
#include "model_io.hpp"
#include "report.hpp"
#include "tinyloop/config_fields.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::cli {

namespace {

// ---- the configuration fields (tinyloop/config_fields.hpp) as flags ----

struct Fields {
  const ConfigField* begin_ = nullptr;
  std::size_t count = 0;
  const ConfigField* begin() const { return begin_; }
  const ConfigField* end() const { return begin_ + count; }
};
Fields fields() {
  Fields f;
  f.begin_ = config_fields(&f.count);
  return f;
}

std::string integer_text(double v) { return std::to_string(static_cast<long long>(v)); }

// The field's value as its flag would write it: "0.002", "cosine", "causal mask".
std::string text_of(const ConfigField& f, const TrainConfig& c) {
  const std::uint64_t bits = field_bits(f, c);
  switch (f.type) {
    case FieldType::f32: return text::format_float(float(field_number(f, c)));
    case FieldType::u64: return std::to_string(bits);
    case FieldType::choice:
    case FieldType::boolean: return bits < std::uint64_t(f.choice_count) ? f.choices[bits] : std::to_string(bits);
    default: return integer_text(field_number(f, c));
  }
}

// "(default X)", or "(preset: tinyloop-alibi X, lam2026 Y)" where the presets differ.
std::string default_text(const ConfigField& f) {
  if (f.type == FieldType::boolean) return std::string();
  const TrainConfig ours = find_recipe(default_recipe())->make(), paper = find_recipe("lam2026")->make();
  const std::string a = text_of(f, ours), b = text_of(f, paper);
  if (a == b) return " (default " + a + ")";
  return std::string(" (preset: ") + default_recipe() + " " + a + ", lam2026 " + b + ")";
}

// Sets the field from its flag's text in `a` (present), within the field's range.
void parse_field(const ParsedArgs& a, const ConfigField& f, TrainConfig& c) {
  void* p = f.member(c);
  switch (f.type) {
    case FieldType::i32:
      *static_cast<std::int32_t*>(p) = static_cast<std::int32_t>(
          a.get_int(f.flag, *static_cast<std::int32_t*>(p), std::int64_t(f.lo), std::int64_t(f.hi)));
      break;
    case FieldType::i64:
      *static_cast<std::int64_t*>(p) =
          a.get_int(f.flag, *static_cast<std::int64_t*>(p), std::int64_t(f.lo), std::int64_t(f.hi));
      break;
    case FieldType::u64: *static_cast<std::uint64_t*>(p) = a.get_u64(f.flag, *static_cast<std::uint64_t*>(p)); break;
    case FieldType::f32:
      *static_cast<float*>(p) = a.get_float(f.flag, *static_cast<float*>(p), f.lo, f.hi, f.lo_open);
      break;
    case FieldType::choice: {
      const std::vector<std::string> names(f.choices, f.choices + f.choice_count);
      const std::string name = a.get_choice(f.flag, names.front(), names);
      set_field_bits(f, c, std::uint64_t(std::find(names.begin(), names.end(), name) - names.begin()));
      break;
    }
    case FieldType::boolean: set_field_bits(f, c, f.switch_value ? 1u : 0u); break;
  }
}

bool has_plausible_range(const ConfigField& f) { return f.flag && f.plausible_lo <= f.plausible_hi; }

std::string range_text(const ConfigField& f) { return text::format_g9(f.plausible_lo) + ".." + text::format_g9(f.plausible_hi); }

// The ranges for --help, wrapped like the rest of the notes.
std::string plausible_ranges_help() {
  std::string text = "\nPlausible ranges (a value outside its range is accepted, with a warning, as it rarely\n"
                     "trains anything):";
  std::size_t line = text.size() - text.rfind('\n') - 1;
  for (const ConfigField& f : fields()) {
    if (!has_plausible_range(f)) continue;
    const std::string item = std::string(f.flag) + " " + range_text(f) + ",";
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
  for (const ConfigField& f : fields()) {
    if (!has_plausible_range(f) || !a.has(f.flag)) continue;
    const double v = field_number(f, c);
    if (v < f.plausible_lo || v > f.plausible_hi)
      warnings.push_back(std::string(f.flag) + " " + text_of(f, c) + " is outside the plausible range " +
                         range_text(f) + "; the run goes ahead, but expect it to diverge or to learn nothing");
  }
  return warnings;
}

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
  static const std::vector<std::string> field_help = [] {
    std::vector<std::string> h;
    for (const ConfigField& f : fields())
      if (f.flag) h.push_back(std::string(f.help) + default_text(f));
    return h;
  }();
  static const CommandSpec spec = [] {
    CommandSpec s{
        "train",
        "tinyloop train [--preset tinyloop-alibi] [options]\n       tinyloop train --resume DIR/model.tlc [run "
        "options]",
        "train a looped transformer on the k-hop induction task",
        {{"--preset", "NAME", "starting configuration: tinyloop-alibi (the default: ALiBi positions, solves the "
                              "task at every length), lam2026 (the paper's, docs/MODEL.md §1-§3) or tinyloop-induction "
                              "(the best sinusoid-free recipe before ALiBi); docs/RESULTS.md"}},
        notes.c_str()};
    std::size_t i = 0;
    for (const ConfigField& f : fields())
      if (f.flag) s.flags.push_back({f.flag, f.meta, field_help[i++].c_str()});
    const std::vector<FlagSpec> run_flags = {
        {"--no-positions", nullptr, "same as --positions none"},
        {"--threads", "T", "worker threads, 1..1024 (default: the hardware threads)"},
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
    };
    s.flags.insert(s.flags.end(), run_flags.begin(), run_flags.end());
    return s;
  }();
  return spec;
}

namespace {

// Applies the configuration flags present in `a` on top of `c` (absent flags keep c's value),
// then the rules between flags.
void apply_config_flags(const ParsedArgs& a, TrainConfig& c) {
  if (a.has("--positions") && a.has("--no-positions"))
    usage_error("--no-positions is --positions none; give one of the two");
  for (const ConfigField& f : fields())
    if (f.flag && a.has(f.flag)) parse_field(a, f, c);
  if (a.has("--no-positions")) c.model.positions = Positions::none;
  if (a.has("--alphabet")) sync_vocab_with_task(c);
  if (c.loss.q == 1.0f) usage_error("--q must not be 1 (the Tsallis entropy divides by q - 1)");
  if (c.curriculum.min_len > c.curriculum.max_len)
    usage_error("--min-len (" + std::to_string(c.curriculum.min_len) + ") must be <= --max-len (" +
                std::to_string(c.curriculum.max_len) + ")");
  for (const ConfigField& f : fields())
    if (f.applies && a.has(f.flag) && !f.applies(c))
      usage_error(std::string(f.flag) + " only applies " + f.applies_text);
}

// On --resume: the flags on top of the stored configuration must leave every field as it is.
void check_unchanged(const ParsedArgs& a, const TrainConfig& stored, const std::string& file) {
  if (a.has("--preset"))
    usage_error("--preset cannot be combined with --resume: the configuration comes from '" + file + "'");
  TrainConfig changed = stored;
  apply_config_flags(a, changed);
  for (const ConfigField& f : fields()) {
    if (!f.flag || field_bits(f, changed) == field_bits(f, stored)) continue;
    const std::string want = text_of(f, changed), have = text_of(f, stored);
    if (f.type == FieldType::i64 && std::string(f.flag) == "--steps")
      usage_error("--steps " + want + " would change the plan of '" + file + "' (" + have +
                  " steps; the curriculum and the learning-rate schedule are laid out over it); use --stop-at K "
                  "to stop earlier or to train past the plan");
    usage_error(std::string(f.flag) + (f.meta ? " " + want : "") + " would change the run saved in '" + file +
                "' (it has " + have + "); a resumed run keeps its configuration: drop the flag, or start a new run");
  }
  if (first_difference(changed, stored) != nullptr)
    usage_error("the flags would change the configuration saved in '" + file + "'");
}

}  // namespace

std::string config_flags(const TrainConfig& cfg, const TrainConfig& base) {
  std::string s;
  for (const ConfigField& f : fields()) {
    if (!f.flag || field_bits(f, cfg) == field_bits(f, base)) continue;
    const bool is_switch = f.type == FieldType::boolean;
    if (is_switch && field_bits(f, cfg) != (f.switch_value ? 1u : 0u)) continue;  // a switch cannot be turned off
    s += (s.empty() ? "" : " ") + std::string(f.flag) + (is_switch ? "" : " " + text_of(f, cfg));
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
  for (const ConfigField& f : fields()) {
    if (!f.flag || (f.type != FieldType::i32 && f.type != FieldType::i64)) continue;
    const double v = field_number(f, c);
    if (v < f.lo || v > f.hi) {
      const char* dot = std::strrchr(f.key, '.');
      return std::string(dot ? dot + 1 : f.key) + " " + text_of(f, c) + " is outside this tool's range [" +
             integer_text(f.lo) + ", " + integer_text(f.hi) + "]";
    }
  }
  return std::string();
}

TrainOptions parse_train_options(const ParsedArgs& a, const TrainConfig* resumed) {
  TrainOptions o;
  TrainConfig& c = o.cfg;
  if (resumed) {
    o.resume = a.get_string("--resume", "");
    check_unchanged(a, *resumed, o.resume);
    c = *resumed;
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
