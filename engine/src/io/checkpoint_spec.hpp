#pragma once
// The model block of a version-4 checkpoint: every field of a ModelSpec, in one fixed order, so
// that a file can hold any model shape (docs/CHECKPOINT.md). The looped block's files (versions 1
// to 3) describe their model in the configuration block instead.
#include <cstddef>
#include <cstdint>

#include "io/byte_codec.hpp"
#include "tinyloop/model.hpp"

namespace tinyloop::io {

// Every field is stored as 4 bytes (int32, float32 bits, or an enumeration or boolean as u32).
constexpr std::size_t kSpecBytes = 128;

void write_spec(Writer& w, const ModelSpec& s);
// Reads and validates one block; a shape validate() refuses is a bad checkpoint.
Status read_spec(Reader& r, ModelSpec* out);

}  // namespace tinyloop::io
