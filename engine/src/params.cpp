#include "tinyloop/params.hpp"

#include <cstring>

namespace tinyloop {

namespace {
constexpr std::size_t round8(std::size_t n) { return (n + 7) / 8 * 8; }
}  // namespace

ParamLayout ParamLayout::make(const ModelConfig& m) {
  struct Shape { const char* name; int rows, cols; bool vec; };
  const Shape shapes[kParamCount] = {
      {"E", m.vocab_in, kDim, false},       {"Wq", kDim, kDim, false},
      {"Wk", kDim, kDim, false},            {"Wv", kDim, kDim, false},
      {"ln1.gain", 1, kDim, true},          {"ln1.bias", 1, kDim, true},
      {"ln2.gain", 1, kDim, true},          {"ln2.bias", 1, kDim, true},
      {"W1", kDim, kHidden, false},         {"b1", 1, kHidden, true},
      {"W2", kHidden, kDim, false},         {"b2", 1, kDim, true},
      {"lnf.gain", 1, kDim, true},          {"lnf.bias", 1, kDim, true},
      {"Wout", kDim, m.vocab_out, false},   {"bout", 1, m.vocab_out, true},
      {"rho", 1, 1, true},
  };
  ParamLayout l;
  l.count = uses_alibi(m.positions) ? kParamCount : static_cast<int>(Param::rho);
  std::size_t offset = 0;
  for (int i = 0; i < l.count; ++i) {
    const Shape& s = shapes[i];
    l.info[i] = ParamInfo{s.name, s.rows, s.cols, s.vec, offset};
    offset += round8(std::size_t(s.rows) * std::size_t(s.cols));
  }
  l.total = offset;
  for (int i = l.count; i < kParamCount; ++i) l.info[i] = ParamInfo{shapes[i].name, 0, 0, shapes[i].vec, offset};
  return l;
}

int ParamLayout::find(const char* name) const {
  for (int i = 0; i < count; ++i)
    if (std::strcmp(info[i].name, name) == 0) return i;
  return -1;
}

}  // namespace tinyloop
