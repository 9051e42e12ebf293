#include "model_io.hpp"

#include <new>
#include <stdexcept>

#include "args.hpp"
#include "text_format.hpp"
#include "tinyloop/config_fields.hpp"
#include "tinyloop/params.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::cli {

Status read_checkpoint_file(const std::string& path, std::vector<std::uint8_t>* bytes) {
  TINYLOOP_TRY(platform::read_file_head(path.c_str(), kCheckpointHeadBytes, bytes));
  std::size_t expected = 0;
  TINYLOOP_TRY(checkpoint_size_from_head(bytes->data(), bytes->size(), &expected));
  const Status s = platform::read_file(path.c_str(), expected, bytes);
  if (s.code() == Error::buffer_too_small)
    return Status::fail(Error::bad_checkpoint, "it has more than the %zu bytes its header declares (trailing data)",
                        expected);
  return s;
}

LoadedCheckpoint load_checkpoint(const std::string& path, bool with_optimizer) {
  LoadedCheckpoint ck;
  ck.path = path;
  std::vector<std::uint8_t> bytes;
  Status s = read_checkpoint_file(path, &bytes);
  if (s.code() == Error::io_error) runtime_error(std::string("cannot read checkpoint: ") + s.message());
  if (s) s = checkpoint_read_header(bytes.data(), bytes.size(), &ck.header);
  if (!s) runtime_error("checkpoint '" + path + "' is not valid: " + s.message());
  if (!ck.header.looped_block) {
    const ModelSpec& m = ck.header.config.model;
    runtime_error("checkpoint '" + path + "' holds a " + std::to_string(m.layers) + "-" +
                  (m.looped ? "loop" : "layer") + " model with " + std::to_string(m.heads) + " heads of width " +
                  std::to_string(m.width) + " (format version 4, written by a study); this command runs the "
                  "looped block of `tinyloop train` only");
  }
  s = validate(ck.header.config);
  if (!s) runtime_error("checkpoint '" + path + "' holds an invalid configuration: " + s.message());
  std::size_t expected = ParamLayout::make(ck.header.config.model).total;
  if (ck.header.param_count != expected)
    runtime_error("checkpoint '" + path + "' holds " + std::to_string(ck.header.param_count) +
                  " parameters, its configuration needs " + std::to_string(expected));
  if (with_optimizer && !ck.header.has_optimizer)
    runtime_error("checkpoint '" + path + "' holds no optimizer state, so a run cannot be resumed from it exactly");
  try {
    ck.params.assign(ck.header.param_count, 0.0f);
    if (with_optimizer) {
      ck.adam_m.assign(ck.header.param_count, 0.0f);
      ck.adam_v.assign(ck.header.param_count, 0.0f);
    }
  } catch (const std::bad_alloc&) {
    runtime_error("checkpoint '" + path + "': cannot allocate its parameters");
  }
  s = checkpoint_read_tensors(bytes.data(), bytes.size(), ck.params.data(), with_optimizer ? ck.adam_m.data() : nullptr,
                              with_optimizer ? ck.adam_v.data() : nullptr);
  if (!s) runtime_error("checkpoint '" + path + "' is not valid: " + s.message());
  return ck;
}

std::vector<std::uint8_t> allocate_planned(std::size_t bytes, const std::string& what) {
  std::size_t phys = platform::physical_memory();
  if (phys != 0 && bytes > phys)
    runtime_error(what + " needs " + text::format_bytes(bytes) + ", more than this machine's " +
                  text::format_bytes(phys) + " of memory");
  try {
    return std::vector<std::uint8_t>(bytes);
  } catch (const std::bad_alloc&) {
    runtime_error("cannot allocate " + text::format_bytes(bytes) + " for " + what);
  } catch (const std::length_error&) {
    runtime_error("cannot allocate " + text::format_bytes(bytes) + " for " + what);
  }
}

InferenceSession::InferenceSession(const ModelSpec& model, int max_len, const float* params,
                                   std::size_t count) {
  std::string what = "the inference buffer (max_len " + std::to_string(max_len) + ")";
  MemoryPlan plan = Inference::plan(model, max_len);
  buffer_ = allocate_planned(plan.total, what);
  Status s = engine_.init(model, max_len, buffer_.data(), buffer_.size());
  if (!s) runtime_error("cannot set up inference for length " + std::to_string(max_len) + ": " + s.message());
  s = engine_.load_params(params, count);
  if (!s) runtime_error(std::string("cannot load the weights: ") + s.message());
}

// The names the configuration fields give their values (tinyloop/config_fields.hpp).
namespace {
const char* choice_name(const char* key, int value) {
  const ConfigField* f = find_config_field(key);
  return f && value >= 0 && value < f->choice_count ? f->choices[value] : "unknown";
}
}  // namespace

const char* position_name(Positions k) { return choice_name("model.positions", int(k)); }
const char* loop_name(LoopKind k) { return choice_name("model.loop", int(k)); }

}  // namespace tinyloop::cli
