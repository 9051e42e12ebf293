#pragma once
// Checkpoint loading and planned-buffer set-up shared by eval, infer, export and train.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tinyloop/checkpoint.hpp"
#include "tinyloop/inference.hpp"

namespace tinyloop::cli {

struct LoadedCheckpoint {
  std::string path;
  CheckpointHeader header;
  std::vector<float> params;  // header.param_count entries, ParamLayout order (padding included)
  std::vector<float> adam_m;  // same size, only when loaded with the optimizer state
  std::vector<float> adam_v;
};

// The bytes of the checkpoint file at `path`, read header first: its first kCheckpointHeadBytes
// give the exact size its configuration implies, and no more than that (and one byte, to see
// trailing data) is read. A FIFO or a device is refused unread. Error::io_error when the file
// cannot be read, Error::bad_checkpoint when its head is invalid or it is too long.
Status read_checkpoint_file(const std::string& path, std::vector<std::uint8_t>* bytes);

// read_checkpoint_file + checkpoint_read_header + checkpoint_read_tensors, plus a check that
// the layout of the stored configuration matches the tensor count. Every failure is a runtime
// error whose message names the checkpoint. With `with_optimizer` the AdamW state is loaded too,
// and a checkpoint without one is an error.
LoadedCheckpoint load_checkpoint(const std::string& path, bool with_optimizer = false);

// The one buffer an engine object plans for. Refuses sizes beyond the machine's physical
// memory and reports allocation failure, both as runtime errors naming `what`.
std::vector<std::uint8_t> allocate_planned(std::size_t bytes, const std::string& what);

// An Inference engine bound to its own buffer, with weights loaded.
class InferenceSession {
 public:
  InferenceSession(const ModelSpec& model, int max_len, const float* params, std::size_t count);
  InferenceSession(const InferenceSession&) = delete;
  InferenceSession& operator=(const InferenceSession&) = delete;

  Inference& engine() { return engine_; }
  std::size_t planned_bytes() const { return buffer_.size(); }

 private:
  std::vector<std::uint8_t> buffer_;
  Inference engine_;
};

const char* position_name(Positions k);
const char* loop_name(LoopKind k);

}  // namespace tinyloop::cli
