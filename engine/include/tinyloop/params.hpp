#pragma once
// The parameters live in one flat array, in SPEC order, each tensor starting on an 8-float
// boundary so the kernels can use aligned SIMD loads. Padding entries stay exactly zero.
// A model holds the first ParamLayout::count tensors: the 16 of SPEC §1, then rho (the learned
// ALiBi slope, softplus(rho)) when its positions use ALiBi.
#include <cstddef>

#include "tinyloop/config.hpp"

namespace tinyloop {

enum class Param : int {
  E = 0, Wq, Wk, Wv, ln1_gain, ln1_bias, ln2_gain, ln2_bias,
  W1, b1, W2, b2, lnf_gain, lnf_bias, Wout, bout, rho, count
};
constexpr int kParamCount = static_cast<int>(Param::count);  // the most any model holds

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
  int count = 0;          // tensors this model holds (info[count..] are unused)
  std::size_t total = 0;  // elements, padding included
  static ParamLayout make(const ModelSpec& m);  // m: is_looped_block(m)
  const ParamInfo& operator[](Param p) const { return info[static_cast<int>(p)]; }
  // Index of a parameter by its SPEC name, or -1.
  int find(const char* name) const;
  bool has(Param p) const { return static_cast<int>(p) < count; }
  // One past the last element of tensor i (where the next tensor or the array ends).
  std::size_t end_of(int i) const { return i + 1 < count ? info[i + 1].offset : total; }
};

// Typed pointers into a flat parameter (or gradient) array.
template <class T>
struct Weights {
  T* E; T* Wq; T* Wk; T* Wv;
  T* ln1_gain; T* ln1_bias; T* ln2_gain; T* ln2_bias;
  T* W1; T* b1; T* W2; T* b2;
  T* lnf_gain; T* lnf_bias; T* Wout; T* bout;
  T* rho;  // null unless the model uses ALiBi

  static Weights bind(T* base, const ParamLayout& l) {
    auto at = [&](Param p) { return l.has(p) ? base + l[p].offset : nullptr; };
    return Weights{at(Param::E), at(Param::Wq), at(Param::Wk), at(Param::Wv),
                   at(Param::ln1_gain), at(Param::ln1_bias), at(Param::ln2_gain), at(Param::ln2_bias),
                   at(Param::W1), at(Param::b1), at(Param::W2), at(Param::b2),
                   at(Param::lnf_gain), at(Param::lnf_bias), at(Param::Wout), at(Param::bout), at(Param::rho)};
  }
};

}  // namespace tinyloop
