#pragma once
// The configuration block of a checkpoint: its size in each format version, and TrainConfig
// written and read field by field, as tinyloop/config_fields.hpp lists them (docs/CHECKPOINT.md).
#include <cstddef>
#include <cstdint>

#include "io/byte_codec.hpp"
#include "tinyloop/config.hpp"

namespace tinyloop::io {

// The block's size in version 3, its longest (the fields' bytes add up to it: test_checkpoint).
constexpr std::size_t kConfigBytesV3 = 160;
// The first version with a model block (any ModelSpec); its configuration block holds only the
// recipe every model shares (optim.*, batch, steps, seed); the other fields read as defaults.
constexpr std::uint32_t kVersionModelBlock = 4;
constexpr std::size_t kConfigBytesV4 = 56;

// Bytes of the block in format `version`: 140 in version 1, 152 in 2, 160 in 3, 56 in 4.
std::size_t config_bytes(std::uint32_t version);

void write_config(Writer& w, const TrainConfig& c, std::uint32_t version);
// Reads and validates one block; a configuration validate() refuses is a bad checkpoint.
Status read_config(Reader& r, std::uint32_t version, TrainConfig* out);

}  // namespace tinyloop::io
