#pragma once
// Little-endian byte encoding for the checkpoint, one byte at a time, independent of the host's
// byte order, alignment and padding; the CRC-32 that seals a file; bounded writer and reader.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "tinyloop/status.hpp"

namespace tinyloop::io {

// ---- CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), table built at compile time --
struct CrcTable {
  std::uint32_t v[256];
};
constexpr CrcTable make_crc_table() {
  CrcTable t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
    t.v[i] = c;
  }
  return t;
}
inline constexpr CrcTable kCrc = make_crc_table();

inline std::uint32_t crc32(const std::uint8_t* p, std::size_t n) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) c = kCrc.v[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

// ---- scalar encodings -------------------------------------------------------------------
inline std::uint32_t float_bits(float f) {
  std::uint32_t u = 0;
  std::memcpy(&u, &f, sizeof u);  // a bit cast of one float, not a struct copy
  return u;
}
inline float bits_float(std::uint32_t u) {
  float f = 0;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
// Exponent all ones = Inf or NaN; decided on the bits so -ffast-math cannot fold it away.
inline bool bits_finite(std::uint32_t u) { return (u & 0x7F800000u) != 0x7F800000u; }

// Two's complement conversions without implementation-defined casts.
inline std::int32_t to_i32(std::uint32_t u) {
  return u <= 0x7FFFFFFFu ? static_cast<std::int32_t>(u) : -static_cast<std::int32_t>(~u) - 1;
}
inline std::int64_t to_i64(std::uint64_t u) {
  return u <= 0x7FFFFFFFFFFFFFFFull ? static_cast<std::int64_t>(u) : -static_cast<std::int64_t>(~u) - 1;
}

// ---- writer -----------------------------------------------------------------------------
// The caller has checked the capacity against checkpoint_bytes(); put() still refuses to
// step past the end so a mistake there cannot write out of bounds.
struct Writer {
  std::uint8_t* p;
  std::size_t cap;
  std::size_t pos = 0;
  bool overflow = false;

  void put(std::uint8_t b) {
    if (pos < cap) p[pos++] = b;
    else overflow = true;
  }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) put(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) put(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f32(float v) { u32(float_bits(v)); }
  void bytes(const void* src, std::size_t n) {
    const auto* s = static_cast<const std::uint8_t*>(src);
    for (std::size_t i = 0; i < n; ++i) put(s[i]);
  }
};

// ---- reader -----------------------------------------------------------------------------
struct Reader {
  const std::uint8_t* p;
  std::size_t size;  // readable bytes (the checksum excluded once it has been verified)
  std::size_t pos = 0;

  std::size_t left() const { return size - pos; }
  bool has(std::size_t n) const { return n <= left(); }
  // Each getter requires has(n) to have been checked by the caller (need()).
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (unsigned i = 0; i < 4; ++i) v |= std::uint32_t(p[pos + i]) << (8 * i);
    pos += 4;
    return v;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < 8; ++i) v |= std::uint64_t(p[pos + i]) << (8 * i);
    pos += 8;
    return v;
  }
  std::int32_t i32() { return to_i32(u32()); }
  std::int64_t i64() { return to_i64(u64()); }
  float f32() { return bits_float(u32()); }
};

inline Status truncated_at(const Reader& r, const char* what) {
  return Status::fail(Error::bad_checkpoint, "truncated: %s at byte %llu runs past the end (%llu bytes)", what,
                      static_cast<unsigned long long>(r.pos), static_cast<unsigned long long>(r.size));
}

}  // namespace tinyloop::io
