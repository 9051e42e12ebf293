#pragma once
// `tinyloop export --c-array`: a checkpoint as a C header for firmware, a const byte array
// that tinyloop_model_init() reads straight from flash (examples/cortex_m).
#include <cstdint>
#include <string>
#include <vector>

#include "model_io.hpp"

namespace tinyloop::cli {

struct CArrayOptions {
  std::string name;                       // C identifier: NAME_checkpoint[], NAME_TEST_LEN, ...
  int max_len = 0;                        // the capacity NAME_ARENA_BYTES is planned for
  std::vector<std::int32_t> test_tokens;  // optional: a test vector of the host's inference
};

// True for a C identifier of at most 48 characters.
bool is_c_identifier(const std::string& name);

// The header's text: the checkpoint without optimizer state, byte for byte, its configuration,
// CRC-32 and arena size as macros, and the test vector when there are test tokens (which must
// be in the vocabulary, at most max_len of them).
std::string c_array_header(const LoadedCheckpoint& ck, const CArrayOptions& options);

}  // namespace tinyloop::cli
