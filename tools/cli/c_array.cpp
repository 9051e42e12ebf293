// The tinyloop command: one file per command (cmd_*.cpp), main.cpp dispatches; training flags
// (train_options), presets (recipes), model I/O, evaluation, reports, results, the training log.
//
// Here: `export --c-array`, a checkpoint as a C header for firmware (c_array.hpp).
#include "c_array.hpp"

#include <cctype>
#include <cstdio>

#include "args.hpp"
#include "text_format.hpp"
#include "tinyloop/params.hpp"
#include "tinyloop/tinyloop.h"

namespace tinyloop::cli {
namespace {

std::string upper(const std::string& s) {
  std::string u = s;
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

// A float literal that reads back to the same float ("%.9g", made a floating constant).
std::string float_literal(float v) {
  std::string t = text::format_g9(static_cast<double>(v));
  if (t.find_first_of(".e") == std::string::npos) t += ".0";
  return t + "f";
}

// The checkpoint as firmware needs it: no optimizer state (tinyloop_model_init ignores it).
std::vector<std::uint8_t> serialise_without_optimizer(const LoadedCheckpoint& ck) {
  CheckpointData d;
  d.config = ck.header.config;
  d.params = ck.params.data();
  d.step = ck.header.step;
  d.rng_state = ck.header.rng_state;
  d.rng_inc = ck.header.rng_inc;
  std::vector<std::uint8_t> bytes(checkpoint_bytes(d.config, false));
  std::size_t written = 0;
  const Status s = checkpoint_write(d, bytes.data(), bytes.size(), &written);
  if (!s || written != bytes.size()) runtime_error(std::string("cannot serialise the checkpoint: ") + s.message());
  return bytes;
}

template <class T, class Format>
void append_values(std::string* out, const std::vector<T>& values, std::size_t per_line, Format format) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    *out += i % per_line == 0 ? "\n  " : " ";
    *out += format(values[i]);
    *out += ",";
  }
  *out += "\n";
}

void define(std::string* out, const std::string& macro, const std::string& value, const char* comment = nullptr) {
  *out += "#define " + macro + " " + value;
  if (comment != nullptr) *out += std::string("  /* ") + comment + " */";
  *out += "\n";
}

// The host's inference on the test tokens, as arrays a target compares its own run with.
void append_test_vector(std::string* h, const LoadedCheckpoint& ck, const CArrayOptions& o, const std::string& N) {
  const ModelSpec& m = ck.header.config.model;
  const int len = static_cast<int>(o.test_tokens.size());
  InferenceSession session(m, len, ck.params.data(), ck.params.size());
  std::vector<std::int32_t> predictions(o.test_tokens.size());
  std::vector<float> logits(o.test_tokens.size() * std::size_t(m.out_dim));
  InferOutputs out;
  out.predictions = predictions.data();
  out.logits = logits.data();
  const Status s = session.engine().run(o.test_tokens.data(), len, out);
  if (!s) runtime_error(std::string("inference on the test tokens failed: ") + s.message());
  const auto integer = [](std::int32_t v) { return std::to_string(v); };
  *h += "\n/* A test vector: this host's inference (tinyloop infer) on " + std::to_string(len) +
        " tokens. A target's own run should\n * match it within float rounding. */\n";
  define(h, N + "_TEST_LEN", std::to_string(len));
  *h += "static const int32_t " + o.name + "_test_tokens[" + N + "_TEST_LEN] = {";
  append_values(h, o.test_tokens, 32, integer);
  *h += "};\nstatic const int32_t " + o.name + "_test_predictions[" + N + "_TEST_LEN] = {";
  append_values(h, predictions, 32, integer);
  *h += "};\nstatic const float " + o.name + "_test_logits[" + N + "_TEST_LEN * " + N + "_VOCAB_OUT] = {";
  append_values(h, logits, std::size_t(m.out_dim), float_literal);
  *h += "};\n";
}

}  // namespace

bool is_c_identifier(const std::string& name) {
  if (name.empty() || name.size() > 48 || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

std::string c_array_header(const LoadedCheckpoint& ck, const CArrayOptions& o) {
  const ModelSpec& m = ck.header.config.model;
  const std::string N = upper(o.name);
  const std::vector<std::uint8_t> bytes = serialise_without_optimizer(ck);
  const std::uint32_t crc = std::uint32_t(bytes[bytes.size() - 4]) | std::uint32_t(bytes[bytes.size() - 3]) << 8 |
                            std::uint32_t(bytes[bytes.size() - 2]) << 16 | std::uint32_t(bytes[bytes.size() - 1]) << 24;

  // The arena as tinyloop_model_bytes() sizes it here: a 64-bit host with the SIMD layout, which
  // needs at least as much as a 32-bit or scalar build (smaller pointers, unpadded keys).
  std::size_t arena = 0;
  tinyloop_error err;
  if (tinyloop_model_bytes(bytes.data(), bytes.size(), o.max_len, &arena, &err) != TINYLOOP_OK)
    usage_error("--max-len " + std::to_string(o.max_len) + ": " + err.message);

  char crc_hex[16];
  std::snprintf(crc_hex, sizeof crc_hex, "0x%08Xu", unsigned(crc));
  const std::string guard = N + "_TINYLOOP_H";
  std::string h;
  std::string source = ck.path.substr(ck.path.find_last_of('/') + 1);  // npos + 1 == 0
  for (std::size_t at; (at = source.find("*/")) != std::string::npos;) source.replace(at, 2, "*_");
  h += "/* Generated by `tinyloop export --c-array` from " + source + "; do not edit.\n";
  h += " *\n";
  h += " * " + o.name + "_checkpoint[] is the checkpoint file without its optimizer state, byte for byte\n";
  h += " * (docs/CHECKPOINT.md). It carries its configuration and a CRC-32, and tinyloop_model_init()\n";
  h += " * checks both, with every size and shape, before it uses a weight:\n";
  h += " *\n";
  h += " *   static unsigned char arena[" + N + "_ARENA_BYTES];\n";
  h += " *   tinyloop_model_init(" + o.name + "_checkpoint, " + N + "_CHECKPOINT_BYTES, " + N + "_MAX_LEN,\n";
  h += " *                       arena, sizeof arena, &model, &error);\n";
  h += " *\n";
  h += " * Model: positions " + std::string(position_name(m.positions)) + ", " + std::to_string(m.layers) + " loops (" +
       loop_name(m.loop) + "), d = " + std::to_string(kDim) + ", " + (m.causal ? "causal" : "not causal") +
       ", vocab_in " + std::to_string(m.vocab_in) + ", vocab_out " + std::to_string(m.out_dim) + ",\n";
  h += " * " + std::to_string(ParamLayout::make(m).total) + " parameters (padding included), trained " +
       std::to_string(ck.header.step) + " steps.\n";
  h += " */\n";
  h += "#ifndef " + guard + "\n#define " + guard + "\n\n#include <stdint.h>\n\n";
  define(&h, N + "_CHECKPOINT_BYTES", std::to_string(bytes.size()));
  define(&h, N + "_CRC32", crc_hex, "the checkpoint's last 4 bytes, little-endian");
  define(&h, N + "_VOCAB_IN", std::to_string(m.vocab_in), "tokens are in [0, VOCAB_IN)");
  define(&h, N + "_VOCAB_OUT", std::to_string(m.out_dim), "classes; the last one is NONE");
  define(&h, N + "_LOOPS", std::to_string(m.layers));
  define(&h, N + "_POSITIONS", std::to_string(int(m.positions)),
         "as tinyloop_model_info.positions: 0 sinusoidal, 1 none, 2 ALiBi, 3 ALiBi + sinusoidal, 4 RoPE");
  define(&h, N + "_MAX_LEN", std::to_string(o.max_len), "the longest sequence the arena is planned for");
  define(&h, N + "_ARENA_BYTES", std::to_string(arena),
         "tinyloop_model_bytes() for MAX_LEN on the exporting 64-bit host; 32-bit targets need no more");
  h += "\nstatic const uint8_t " + o.name + "_checkpoint[" + N + "_CHECKPOINT_BYTES] = {";
  append_values(&h, bytes, 16, [](std::uint8_t b) {
    char t[8];
    std::snprintf(t, sizeof t, "0x%02x", unsigned(b));
    return std::string(t);
  });
  h += "};\n";

  if (!o.test_tokens.empty()) append_test_vector(&h, ck, o, N);
  h += "\n#endif /* " + guard + " */\n";
  return h;
}

}  // namespace tinyloop::cli
