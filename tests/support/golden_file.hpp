#pragma once
// Reader for the golden tensors written by tools/reference/torch_reference.py (test code only:
// it uses <fstream> and allocates).
//
// Format (.tlg, little-endian): 8 bytes "TLGOLD01", u32 tensor count, then per tensor: u32 name
// length, the ASCII name (no NUL), u32 ndim, ndim x u32 dims, prod(dims) float64 values in
// row-major order (ndim 0 is a scalar holding one value). Integers are stored as float64.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

namespace tinyloop::test {

struct GoldenTensor {
  std::string name;
  std::vector<std::size_t> shape;  // empty for a scalar
  std::vector<double> data;        // row-major

  std::size_t size() const { return data.size(); }
  std::size_t dim(std::size_t i) const { return i < shape.size() ? shape[i] : 1; }
};

class GoldenFile {
 public:
  // Reads the whole file; on failure returns false and says why in *error (when given).
  static bool load(const std::string& path, GoldenFile* out, std::string* error) {
    auto fail = [&](const std::string& why) {
      if (error) *error = path + ": " + why;
      return false;
    };
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail("cannot open");
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                           std::istreambuf_iterator<char>());
    Cursor cur{bytes.data(), bytes.size(), 0};

    char magic[8];
    if (!cur.take(magic, 8) || std::memcmp(magic, "TLGOLD01", 8) != 0) return fail("bad magic");
    std::uint32_t count = 0;
    if (!cur.u32(&count)) return fail("truncated header");

    GoldenFile file;
    file.tensors_.reserve(count);
    for (std::uint32_t t = 0; t < count; ++t) {
      GoldenTensor g;
      std::uint32_t name_len = 0, ndim = 0;
      if (!cur.u32(&name_len) || name_len > cur.left()) return fail("truncated tensor name");
      g.name.assign(reinterpret_cast<const char*>(cur.data + cur.pos), name_len);
      cur.pos += name_len;
      if (!cur.u32(&ndim) || ndim > 16) return fail("bad ndim in " + g.name);
      std::size_t count_values = 1;
      for (std::uint32_t i = 0; i < ndim; ++i) {
        std::uint32_t d = 0;
        if (!cur.u32(&d)) return fail("truncated shape of " + g.name);
        g.shape.push_back(d);
        count_values *= d;
      }
      if (count_values > cur.left() / 8) return fail("truncated data of " + g.name);
      g.data.resize(count_values);
      for (std::size_t i = 0; i < count_values; ++i) cur.f64(&g.data[i]);
      file.tensors_.push_back(std::move(g));
    }
    if (cur.left() != 0) return fail("trailing bytes");
    *out = std::move(file);
    return true;
  }

  const GoldenTensor* find(const std::string& name) const {
    for (const GoldenTensor& g : tensors_)
      if (g.name == name) return &g;
    return nullptr;
  }

  // The single value of a scalar tensor; NaN when it is missing or not a single value.
  double scalar(const std::string& name) const {
    const GoldenTensor* g = find(name);
    if (g == nullptr || g->data.size() != 1) return std::numeric_limits<double>::quiet_NaN();
    return g->data[0];
  }

  bool has(const std::string& name) const { return find(name) != nullptr; }
  const std::vector<GoldenTensor>& tensors() const { return tensors_; }

 private:
  // Little-endian decoding independent of the host's byte order.
  struct Cursor {
    const unsigned char* data;
    std::size_t size;
    std::size_t pos;

    std::size_t left() const { return size - pos; }
    bool take(void* dst, std::size_t n) {
      if (n > left()) return false;
      std::memcpy(dst, data + pos, n);
      pos += n;
      return true;
    }
    bool u32(std::uint32_t* v) {
      if (left() < 4) return false;
      *v = 0;
      for (int i = 3; i >= 0; --i) *v = (*v << 8) | data[pos + i];
      pos += 4;
      return true;
    }
    bool f64(double* v) {
      if (left() < 8) return false;
      std::uint64_t bits = 0;
      for (int i = 7; i >= 0; --i) bits = (bits << 8) | data[pos + i];
      pos += 8;
      std::memcpy(v, &bits, sizeof bits);
      return true;
    }
  };

  std::vector<GoldenTensor> tensors_;
};

}  // namespace tinyloop::test
