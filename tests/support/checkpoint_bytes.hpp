#pragma once
// Reading, editing and re-sealing checkpoint bytes in tests, independently of the engine's
// codec: little-endian fields and a bitwise CRC-32.
#include <cstdint>
#include <cstring>
#include <vector>

#include <doctest/doctest.h>

namespace tinyloop::test {

using Bytes = std::vector<std::uint8_t>;

// Bitwise CRC-32 (IEEE), deliberately not the engine's table version.
inline std::uint32_t ref_crc32(const std::uint8_t* p, std::size_t n) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

inline std::uint32_t get_u32(const Bytes& b, std::size_t at) {
  return std::uint32_t(b[at]) | std::uint32_t(b[at + 1]) << 8 | std::uint32_t(b[at + 2]) << 16 |
         std::uint32_t(b[at + 3]) << 24;
}
inline std::uint64_t get_u64(const Bytes& b, std::size_t at) {
  return std::uint64_t(get_u32(b, at)) | std::uint64_t(get_u32(b, at + 4)) << 32;
}
// The bounds checks also keep GCC's -Wstringop-overflow from guessing an empty vector.
inline void put_u32(Bytes& b, std::size_t at, std::uint32_t v) {
  REQUIRE(at + 4 <= b.size());
  for (int i = 0; i < 4; ++i) b[at + i] = std::uint8_t(v >> (8 * i));
}
inline void put_u64(Bytes& b, std::size_t at, std::uint64_t v) {
  REQUIRE(at + 8 <= b.size());
  for (int i = 0; i < 8; ++i) b[at + i] = std::uint8_t(v >> (8 * i));
}
inline void put_f32(Bytes& b, std::size_t at, float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  put_u32(b, at, u);
}
inline void reseal(Bytes& b) { put_u32(b, b.size() - 4, ref_crc32(b.data(), b.size() - 4)); }

}  // namespace tinyloop::test
