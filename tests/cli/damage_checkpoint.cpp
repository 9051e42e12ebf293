// Test helper for the CLI tests: writes a damaged copy of a checkpoint.
//   damage_checkpoint flip  SRC DST OFFSET   one bit flipped at OFFSET (the CRC no longer matches)
//   damage_checkpoint nan   SRC DST          the first parameter (E[0]) set to NaN, CRC recomputed,
//                                            so the loader's finite-value check is what rejects it
//   damage_checkpoint trunc SRC DST BYTES    the first BYTES bytes
//   damage_checkpoint declare SRC DST BYTES  the header's total-size field set to BYTES (CRC kept)
//   damage_checkpoint pad SRC DST BYTES      SRC followed by zeros up to BYTES, as a sparse file
//                                            (SRC may be empty, e.g. /dev/null)
// Offsets follow docs/CHECKPOINT.md: the tensor sets start at byte 188 with a u32 count, then
// the first block: u32 name length (1), "E", u32 rows, u32 cols, values.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tinyloop/checkpoint.hpp"

namespace {

int fail(const char* what) {
  std::fprintf(stderr, "damage_checkpoint: %s\n", what);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return fail("usage: damage_checkpoint flip|nan|trunc|declare|pad SRC DST [N]");
  const char* mode = argv[1];
  std::FILE* in = std::fopen(argv[2], "rb");
  if (!in) return fail("cannot open SRC");
  std::vector<std::uint8_t> b;
  for (int c; (c = std::fgetc(in)) != EOF;) b.push_back(static_cast<std::uint8_t>(c));
  std::fclose(in);
  const std::size_t first_value = 188 + 4 + 4 + 1 + 4 + 4;  // 205
  const bool pad = std::strcmp(mode, "pad") == 0 && argc == 5;
  if (!pad && b.size() < first_value + 8) return fail("SRC is too short to be a checkpoint");
  std::uint64_t pad_to = 0;
  if (pad) {
    pad_to = std::strtoull(argv[4], nullptr, 10);
    if (pad_to < b.size()) return fail("BYTES is shorter than SRC");
  } else if (std::strcmp(mode, "declare") == 0 && argc == 5) {
    const std::uint64_t declared = std::strtoull(argv[4], nullptr, 10);
    for (int i = 0; i < 8; ++i) b[16 + i] = static_cast<std::uint8_t>(declared >> (8 * i));
  } else if (std::strcmp(mode, "flip") == 0 && argc == 5) {
    const std::size_t at = std::strtoull(argv[4], nullptr, 10);
    if (at >= b.size()) return fail("OFFSET is past the end");
    b[at] ^= 0x10;
  } else if (std::strcmp(mode, "nan") == 0 && argc == 4) {
    if (b[192] != 1 || b[196] != 'E') return fail("unexpected layout: the first tensor is not 'E'");
    const std::uint8_t quiet_nan[4] = {0x00, 0x00, 0xC0, 0x7F};
    std::memcpy(&b[first_value], quiet_nan, 4);
    const std::uint32_t crc = tinyloop::checkpoint_crc32(b.data(), b.size() - 4);
    for (int i = 0; i < 4; ++i) b[b.size() - 4 + i] = static_cast<std::uint8_t>(crc >> (8 * i));
  } else if (std::strcmp(mode, "trunc") == 0 && argc == 5) {
    const std::size_t n = std::strtoull(argv[4], nullptr, 10);
    if (n > b.size()) return fail("BYTES is past the end");
    b.resize(n);
  } else {
    return fail("usage: damage_checkpoint flip|nan|trunc|declare|pad SRC DST [N]");
  }
  std::FILE* out = std::fopen(argv[3], "wb");
  if (!out || (!b.empty() && std::fwrite(b.data(), 1, b.size(), out) != b.size())) return fail("cannot write DST");
  // A hole up to the last byte, then that byte: the file system stores no zeros.
  const bool hole = pad_to > b.size();
  if (hole && (std::fseek(out, static_cast<long>(pad_to - 1), SEEK_SET) != 0 || std::fputc(0, out) == EOF))
    return fail("cannot extend DST");
  if (std::fclose(out) != 0) return fail("cannot write DST");
  return 0;
}
