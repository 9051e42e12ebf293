// tinyloop export: a checkpoint's configuration and weights as JSON (shapes without padding), or
// as a C header for firmware (c_array.hpp).
#include <cstdio>
#include <string>
#include <vector>

#include "c_array.hpp"
#include "commands.hpp"
#include "evaluation.hpp"
#include "model_io.hpp"
#include "report.hpp"
#include "tinyloop/params.hpp"
#include "tinyloop/platform/posix.hpp"
#include "tokens.hpp"

namespace tinyloop::cli {

const CommandSpec& export_spec() {
  static const CommandSpec spec{
      "export",
      "tinyloop export --checkpoint FILE (--json OUT.json | --c-array OUT.h [--name ID] [--max-len N] [--tokens LIST])",
      "write a checkpoint's configuration and weights as JSON, or as a C array for firmware",
      {
          {"--checkpoint", "FILE", "checkpoint written by 'tinyloop train' (required)"},
          {"--json", "OUT.json", "write JSON; the output file is replaced atomically"},
          {"--c-array", "OUT.h", "write a C header for firmware instead (replaced atomically)"},
          {"--name", "ID", "C identifier the header's names start with (default: model)"},
          {"--max-len", "N", "longest sequence the header's arena size is planned for (default: 256)"},
          {"--tokens", "LIST", "also write a test vector: these tokens and this host's predictions and logits"},
          {"--overwrite", nullptr, "replace an existing output file (never a checkpoint)"},
      },
      "JSON: {\"format\":\"tinyloop-export\",\"version\":1,\"config\":{...},\"params\":{NAME:\n"
      "{\"shape\":[rows,cols] or [n],\"data\":[...]}}}, the 16 tensors in docs/MODEL.md order (E, Wq, Wk, Wv,\n"
      "ln1.gain, ln1.bias, ln2.gain, ln2.bias, W1, b1, W2, b2, lnf.gain, lnf.bias, Wout, bout; rho\n"
      "with ALiBi), row-major, a linear map y = x W stored as [in, out]; floats printed with %.9g.\n"
      "C array: ID_checkpoint[], the checkpoint without optimizer state as const bytes (it keeps\n"
      "its configuration and CRC-32, which tinyloop_model_init() checks), and the macros\n"
      "ID_CHECKPOINT_BYTES, ID_CRC32, ID_VOCAB_IN, ID_VOCAB_OUT, ID_LOOPS, ID_POSITIONS, ID_MAX_LEN\n"
      "and ID_ARENA_BYTES (tinyloop_model_bytes() for ID_MAX_LEN); with --tokens also ID_TEST_LEN,\n"
      "ID_test_tokens[], ID_test_predictions[] and ID_test_logits[] (examples/cortex_m)."};
  return spec;
}

namespace {

std::string export_json(const LoadedCheckpoint& ck) {
  const ModelSpec& m = ck.header.config.model;
  const ParamLayout layout = ParamLayout::make(m);
  JsonWriter j(2);
  j.begin_object();
  j.key("format").value("tinyloop-export");
  j.key("version").value(1);
  j.key("config").begin_object();
  j.key("d").value(kDim);
  j.key("hidden").value(kHidden);
  j.key("loops").value(m.layers);
  j.key("vocab_in").value(m.vocab_in);
  j.key("vocab_out").value(m.out_dim);
  j.key("positions").value(position_name(m.positions));
  j.key("pe_scale").value(static_cast<double>(m.pe_scale));
  j.key("alibi_rho").value(static_cast<double>(m.alibi_rho));
  j.key("rope_base").value(static_cast<double>(m.rope_base));
  j.key("causal").value(m.causal);
  j.key("loop").value(loop_name(m.loop));
  j.key("mu").value(static_cast<double>(m.mu));
  j.key("alpha").value(static_cast<double>(m.alpha));
  j.end_object();
  j.key("params").begin_object();
  for (int p = 0; p < layout.count; ++p) {
    const ParamInfo& info = layout.info[p];
    j.key(info.name).begin_object();
    j.key("shape").begin_array();
    if (info.is_vector) {
      j.value(info.cols);
    } else {
      j.value(info.rows);
      j.value(info.cols);
    }
    j.end_array();
    j.key("data").begin_array();
    for (std::size_t k = 0; k < info.size(); ++k) j.value(static_cast<double>(ck.params[info.offset + k]));
    j.end_array();
    j.end_object();
  }
  j.end_object();
  j.end_object();
  return j.finish();
}

// True when `path` already holds a readable, valid checkpoint (which export must not clobber).
bool holds_checkpoint(const std::string& path) {
  std::vector<std::uint8_t> bytes;
  if (!read_checkpoint_file(path, &bytes)) return false;
  CheckpointHeader h;
  return checkpoint_read_header(bytes.data(), bytes.size(), &h).is_ok();
}

}  // namespace

int run_export(const Args& args) {
  ParsedArgs a = ParsedArgs::parse(export_spec(), args);
  if (a.help_requested()) {
    std::fputs(format_help(export_spec()).c_str(), stdout);
    return kExitOk;
  }
  std::string path = a.require_string("--checkpoint", "FILE");
  const bool c_array = a.has("--c-array");
  if (c_array == a.has("--json")) usage_error("export needs one of --json OUT.json or --c-array OUT.h");
  if (!c_array)
    for (const char* flag : {"--name", "--max-len", "--tokens"})
      if (a.has(flag)) usage_error(std::string(flag) + " only applies to --c-array");
  std::string out = c_array ? a.require_string("--c-array", "OUT.h") : a.require_string("--json", "OUT.json");
  const char* what = c_array ? "--c-array" : "--json";
  if (out == path) usage_error(std::string(what) + " would overwrite the checkpoint '" + path + "'; choose another file");
  CArrayOptions options;
  TokenList tokens;
  if (c_array) {
    options.name = a.get_string("--name", "model");
    if (!is_c_identifier(options.name))
      usage_error("--name '" + options.name + "' is not a C identifier of at most 48 characters");
    options.max_len = int(a.get_int("--max-len", 256, 1, kMaxSequenceLength));
    if (const std::string* text = a.find("--tokens")) tokens = parse_tokens(*text, "--tokens", kExitUsage);
    if (tokens.ids.size() > std::size_t(options.max_len))
      usage_error("--tokens holds " + std::to_string(tokens.ids.size()) + " tokens, more than --max-len " +
                  std::to_string(options.max_len));
  }

  LoadedCheckpoint ck = load_checkpoint(path);
  if (holds_checkpoint(out))
    usage_error("'" + out + "' holds a checkpoint; refusing to overwrite it with " + (c_array ? "C" : "JSON"));
  if (!a.has("--overwrite") && platform::exists(out.c_str()))
    usage_error("'" + out + "' already exists; pass --overwrite to replace it or choose another file");
  std::string contents;
  if (c_array) {
    check_vocabulary(tokens, ck.header.config.model.vocab_in, kExitUsage);
    options.test_tokens = tokens.ids;
    contents = c_array_header(ck, options);
  } else {
    contents = export_json(ck);
  }
  std::size_t values = 0;  // without the alignment padding of the flat array
  const ParamLayout layout = ParamLayout::make(ck.header.config.model);
  for (int p = 0; p < layout.count; ++p) values += layout.info[p].size();
  write_text_atomic(out, contents, "export");
  std::fprintf(stderr, "wrote %s (%s, %zu parameters, step %lld)\n", out.c_str(),
               text::format_bytes(contents.size()).c_str(), values, static_cast<long long>(ck.header.step));
  return kExitOk;
}

}  // namespace tinyloop::cli
