// tinyloop export: a checkpoint's configuration and weights as JSON (shapes without padding).
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "model_io.hpp"
#include "report.hpp"
#include "tinyloop/params.hpp"

namespace tinyloop::cli {

const CommandSpec& export_spec() {
  static const CommandSpec spec{
      "export",
      "tinyloop export --checkpoint FILE --json OUT.json",
      "write a checkpoint's configuration and weights as JSON",
      {
          {"--checkpoint", "FILE", "checkpoint written by 'tinyloop train' (required)"},
          {"--json", "OUT.json", "output file, replaced atomically (required)"},
      },
      "Format: {\"format\":\"tinyloop-export\",\"version\":1,\"config\":{...},\"params\":{NAME:\n"
      "{\"shape\":[rows,cols] or [n],\"data\":[...]}}}, the 16 tensors in SPEC order (E, Wq, Wk, Wv,\n"
      "ln1.gain, ln1.bias, ln2.gain, ln2.bias, W1, b1, W2, b2, lnf.gain, lnf.bias, Wout, bout),\n"
      "row-major, a linear map y = x W stored as [in, out]; floats printed with %.9g."};
  return spec;
}

namespace {

std::string export_json(const LoadedCheckpoint& ck) {
  const ModelConfig& m = ck.header.config.model;
  const ParamLayout layout = ParamLayout::make(m);
  JsonWriter j(2);
  j.begin_object();
  j.key("format").value("tinyloop-export");
  j.key("version").value(1);
  j.key("config").begin_object();
  j.key("d").value(kDim);
  j.key("hidden").value(kHidden);
  j.key("loops").value(m.loops);
  j.key("vocab_in").value(m.vocab_in);
  j.key("vocab_out").value(m.vocab_out);
  j.key("positions").value(position_name(m.positions));
  j.key("pe_scale").value(static_cast<double>(m.pe_scale));
  j.key("alibi_rho").value(static_cast<double>(m.alibi_rho));
  j.key("rope_base").value(static_cast<double>(m.rope_base));
  j.key("causal").value(m.causal);
  j.key("loop").value(loop_name(m.loop));
  j.key("mu").value(static_cast<double>(m.mu));
  j.key("alpha").value(static_cast<double>(m.alpha));
  j.key("beta").value(static_cast<double>(m.beta));
  j.key("tau").value(static_cast<double>(m.tau));
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
  std::string out = a.require_string("--json", "OUT.json");
  if (out == path) usage_error("--json would overwrite the checkpoint '" + path + "'; choose another file");

  LoadedCheckpoint ck = load_checkpoint(path);
  if (holds_checkpoint(out))
    usage_error("'" + out + "' holds a checkpoint; refusing to overwrite it with JSON");
  std::string text = export_json(ck);
  std::size_t values = 0;  // without the alignment padding of the flat array
  const ParamLayout layout = ParamLayout::make(ck.header.config.model);
  for (int p = 0; p < layout.count; ++p) values += layout.info[p].size();
  write_text_atomic(out, text, "export");
  std::fprintf(stderr, "wrote %s (%s, %zu parameters, step %lld)\n", out.c_str(), format_bytes(text.size()).c_str(),
               values, static_cast<long long>(ck.header.step));
  return kExitOk;
}

}  // namespace tinyloop::cli
