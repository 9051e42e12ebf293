#pragma once
// The configuration block of a checkpoint: its size in each format version, and TrainConfig
// written and read field by field (docs/CHECKPOINT.md).
#include <cstddef>
#include <cstdint>

#include "io/byte_codec.hpp"
#include "tinyloop/config.hpp"

namespace tinyloop::io {

constexpr std::size_t kConfigBytesV1 = 140;  // TrainConfig, field by field
constexpr std::size_t kConfigBytesV2 = 152;  // + eta_schedule, eta_final, init_scale
constexpr std::size_t kConfigBytesV3 = 160;  // + alibi_rho, rope_base

constexpr std::size_t config_bytes(std::uint32_t version) {
  return version >= 3 ? kConfigBytesV3 : version == 2 ? kConfigBytesV2 : kConfigBytesV1;
}

void write_config(Writer& w, const TrainConfig& c, std::uint32_t version);
// Reads and validates one block; a configuration validate() refuses is a bad checkpoint.
Status read_config(Reader& r, std::uint32_t version, TrainConfig* out);

}  // namespace tinyloop::io
