// tinyloop infer: per-position predictions (and logits) of a checkpoint on one sequence.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "evaluation.hpp"
#include "model_io.hpp"
#include "progress.hpp"
#include "report.hpp"
#include "tokens.hpp"

namespace tinyloop::cli {

namespace {

// Runs the inference; a long one shows the time so far and an ETA from the speed measured on
// its first tokens. The line is erased before the results are printed.
Status run_with_progress(Inference& engine, const std::vector<std::int32_t>& tokens, const InferOutputs& out,
                         Progress& progress) {
  const int len = static_cast<int>(tokens.size());
  if (!progress.enabled()) return engine.run(tokens.data(), len, out);
  const double speed = measure_inference_speed(engine, tokens.data(), len);
  const double cost = inference_cost(len, engine.config().layers);
  auto text = [&](double elapsed) {
    char line[128];
    std::snprintf(line, sizeof line, "infer: %d tokens, %d loops: %s  ETA %s", len, engine.config().layers,
                  text::format_duration(elapsed).c_str(),
                  text::format_duration(speed > 0 ? std::max(0.0, cost / speed - elapsed) : -1.0).c_str());
    return std::string(line);
  };
  Status s;
  {
    ProgressTicker ticker(progress, text);
    s = engine.run(tokens.data(), len, out);
  }
  progress.finish(false);
  return s;
}

}  // namespace

const CommandSpec& infer_spec() {
  static const CommandSpec spec{
      "infer",
      "tinyloop infer --checkpoint FILE (--tokens \"0 1 2 3 ...\" | --tokens-file FILE) [--logits] [--json]",
      "print the model's prediction at every position of one token sequence",
      {
          {"--checkpoint", "FILE", "checkpoint written by 'tinyloop train' (required)"},
          {"--tokens", "LIST", "token ids separated by spaces or commas, each in [0, vocab_in)"},
          {"--tokens-file", "FILE", "read the token ids from FILE (same syntax; '-' reads stdin)"},
          {"--logits", nullptr, "also print the logits of every class"},
          {"--json", nullptr, "print {\"tokens\":[...],\"predictions\":[...],\"logits\":[[...],...]}"},
          {"--quiet", nullptr, "no progress line on stderr for a long input (errors are still printed)"},
      },
      "Positions count from 0. The last class (id = alphabet) is NONE, printed as NONE in the\n"
      "table; the JSON output gives class ids and names the NONE id in \"none_class\". A long input\n"
      "shows its progress on stderr (time so far and an ETA): in place on a terminal, every few\n"
      "seconds elsewhere."};
  return spec;
}

int run_infer(const Args& args) {
  ParsedArgs a = ParsedArgs::parse(infer_spec(), args);
  if (a.help_requested()) {
    std::fputs(format_help(infer_spec()).c_str(), stdout);
    return kExitOk;
  }
  std::string path = a.require_string("--checkpoint", "FILE");
  const std::string* tokens_text = a.find("--tokens");
  const std::string* tokens_file = a.find("--tokens-file");
  if (tokens_text && tokens_file) usage_error("give either --tokens or --tokens-file, not both");
  if (!tokens_text && !tokens_file) usage_error("infer needs --tokens \"0 1 2 ...\" or --tokens-file FILE");
  TokenList parsed = tokens_text ? parse_tokens(*tokens_text, "--tokens", kExitUsage) : read_tokens_file(*tokens_file);
  const std::vector<std::int32_t>& tokens = parsed.ids;
  const bool want_logits = a.has("--logits");
  const bool json = a.has("--json");

  LoadedCheckpoint ck = load_checkpoint(path);
  const ModelSpec& m = ck.header.config.model;
  check_vocabulary(parsed, m.vocab_in, tokens_text ? kExitUsage : kExitRuntime);
  const int len = static_cast<int>(tokens.size());
  const int classes = m.out_dim;
  const int none = classes - 1;

  InferenceSession session(m, len, ck.params.data(), ck.params.size());
  std::vector<std::int32_t> predictions(tokens.size(), 0);
  std::vector<float> logits;
  InferOutputs out;
  out.predictions = predictions.data();
  if (want_logits) {
    logits.assign(tokens.size() * static_cast<std::size_t>(classes), 0.0f);
    out.logits = logits.data();
  }
  Progress progress(!a.has("--quiet"));
  Status s = run_with_progress(session.engine(), tokens, out, progress);
  if (!s) runtime_error(std::string("inference failed: ") + s.message());

  if (json) {
    JsonWriter j(2);
    j.begin_object();
    j.key("tokens").begin_array(true);
    for (std::int32_t t : tokens) j.value(t);
    j.end_array();
    j.key("predictions").begin_array(true);
    for (std::int32_t p : predictions) j.value(p);
    j.end_array();
    if (want_logits) {
      j.key("logits").begin_array();
      for (int i = 0; i < len; ++i) {
        j.begin_array();
        for (int c = 0; c < classes; ++c) j.value(static_cast<double>(logits[std::size_t(i) * classes + c]));
        j.end_array();
      }
      j.end_array();
    }
    j.key("none_class").value(none);
    j.end_object();
    std::fputs(j.finish().c_str(), stdout);
    return kExitOk;
  }

  auto class_name = [&](int c) { return c == none ? std::string("NONE") : std::to_string(c); };
  std::printf("%6s  %6s  %10s", "pos", "token", "prediction");
  if (want_logits)
    for (int c = 0; c < classes; ++c) std::printf("  %9s", ("logit:" + class_name(c)).c_str());
  std::printf("\n");
  for (int i = 0; i < len; ++i) {
    std::printf("%6d  %6d  %10s", i, tokens[std::size_t(i)], class_name(predictions[std::size_t(i)]).c_str());
    if (want_logits)
      for (int c = 0; c < classes; ++c) std::printf("  %9.4f", double(logits[std::size_t(i) * classes + c]));
    std::printf("\n");
  }
  return kExitOk;
}

}  // namespace tinyloop::cli
