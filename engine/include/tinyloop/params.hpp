#pragma once
// The parameters live in one flat array, in SPEC order, each tensor starting on an 8-float
// boundary so the kernels can use aligned SIMD loads. Padding entries stay exactly zero.
#include <cstddef>

#include "tinyloop/config.hpp"

namespace tinyloop {

enum class Param : int {
  E = 0, Wq, Wk, Wv, ln1_gain, ln1_bias, ln2_gain, ln2_bias,
  W1, b1, W2, b2, lnf_gain, lnf_bias, Wout, bout, count
};
constexpr int kParamCount = static_cast<int>(Param::count);

struct ParamInfo {
  const char* name;    // as SPEC §1 writes it ("ln1.gain", "Wout", ...)
  int rows;            // a linear map y = x W is stored rows = in, cols = out
  int cols;            // 1-D tensors have rows = 1
  bool is_vector;
  std::size_t offset;  // in elements from the start of the flat array
  std::size_t size() const { return std::size_t(rows) * std::size_t(cols); }
};

struct ParamLayout {
  ParamInfo info[kParamCount];
  std::size_t total = 0;  // elements, padding included
  static ParamLayout make(const ModelConfig& m);
  const ParamInfo& operator[](Param p) const { return info[static_cast<int>(p)]; }
  // Index of a parameter by its SPEC name, or -1.
  int find(const char* name) const;
};

// Typed pointers into a flat parameter (or gradient) array.
template <class T>
struct Weights {
  T* E; T* Wq; T* Wk; T* Wv;
  T* ln1_gain; T* ln1_bias; T* ln2_gain; T* ln2_bias;
  T* W1; T* b1; T* W2; T* b2;
  T* lnf_gain; T* lnf_bias; T* Wout; T* bout;

  static Weights bind(T* base, const ParamLayout& l) {
    auto at = [&](Param p) { return base + l[p].offset; };
    return Weights{at(Param::E), at(Param::Wq), at(Param::Wk), at(Param::Wv),
                   at(Param::ln1_gain), at(Param::ln1_bias), at(Param::ln2_gain), at(Param::ln2_bias),
                   at(Param::W1), at(Param::b1), at(Param::W2), at(Param::b2),
                   at(Param::lnf_gain), at(Param::lnf_bias), at(Param::Wout), at(Param::bout)};
  }
};

}  // namespace tinyloop
