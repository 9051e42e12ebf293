#pragma once
// Checkpoint (de)serialisation to and from caller memory. The engine never touches files:
// the platform layer reads and (atomically) writes the bytes. Format: docs/CHECKPOINT.md.
#include <cstddef>
#include <cstdint>

#include "tinyloop/config.hpp"
#include "tinyloop/model.hpp"
#include "tinyloop/status.hpp"

namespace tinyloop {

// A checkpoint holds one model (config.model), its training recipe and where the run stands.
// The paper's looped block (is_looped_block) is written in format versions 1 to 3, which
// Inference, the C ABI and `tinyloop eval/infer/export` run; any other model in version 4 (the
// stacked and multi-head models of the studies), whose tensors are laid out as
// ModelLayout::make(config.model) lays them out.
struct CheckpointData {
  TrainConfig config;  // the model and its recipe (version 4 stores of the recipe only its
                       // optimiser, batch, steps and seed)
  const float* params = nullptr;  // the model's flat array (ParamLayout or ModelLayout total entries)
  const float* adam_m = nullptr;  // optional optimizer state, same size (both or neither)
  const float* adam_v = nullptr;
  std::int64_t step = 0;
  std::uint64_t rng_state = 0;  // data generator state, so a resumed run draws the same data
  std::uint64_t rng_inc = 0;
};

struct CheckpointHeader {
  TrainConfig config;         // version 4: the model, optim, batch, steps and seed; the rest at its defaults
  bool looped_block = true;   // versions 1-3: config.model is the looped block
  std::int64_t step = 0;
  std::uint64_t rng_state = 0;
  std::uint64_t rng_inc = 0;
  bool has_optimizer = false;
  std::size_t param_count = 0;  // flat elements, padding included
};

// The format's checksum, CRC-32 (IEEE 802.3), of data[0, size). A checkpoint's last 4 bytes hold
// it for the bytes before them. For tools that change a file on purpose and must seal it again
// (tests, fuzzing).
std::uint32_t checkpoint_crc32(const std::uint8_t* data, std::size_t size);

// What a checkpoint of `cfg` must hold valid: the whole recipe when its model is the looped block
// (versions 1-3); else the model and what version 4 keeps of the recipe (optimiser, batch, steps).
// The writer refuses anything else, and every file the reader accepts satisfies it.
Status validate_checkpoint_config(const TrainConfig& cfg);

// Exact size of the serialised checkpoint of cfg.model.
std::size_t checkpoint_bytes(const TrainConfig& cfg, bool with_optimizer);

// The head of a checkpoint: the fixed header and the longest configuration and model blocks
// (version 4's).
constexpr std::size_t kCheckpointHeadBytes = 208;

// Header first: from the first `size` bytes of a checkpoint (kCheckpointHeadBytes, or the whole
// file when it is shorter) checks the magic, version, flags and configuration, and sets *bytes
// to the exact file size that configuration implies, which the declared size must equal. A
// loader then reads no more of the file than that (and one byte, to see trailing data) before
// checkpoint_read_header validates the rest. Reads nothing past head[size).
Status checkpoint_size_from_head(const std::uint8_t* head, std::size_t size, std::size_t* bytes);

Status checkpoint_write(const CheckpointData& in, std::uint8_t* out, std::size_t capacity,
                        std::size_t* written);

// Validates everything (magic, version, sizes, configuration, shapes, checksum, finite
// weights) before reporting success.
Status checkpoint_read_header(const std::uint8_t* data, std::size_t size, CheckpointHeader* out);

// Copies the tensors into flat arrays of header.param_count entries. adam_m / adam_v may be
// nullptr; they are left untouched when the file holds no optimizer state.
Status checkpoint_read_tensors(const std::uint8_t* data, std::size_t size, float* params,
                               float* adam_m, float* adam_v);

}  // namespace tinyloop
