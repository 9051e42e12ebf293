#include "tinyloop/params.hpp"

#include <cstring>

#include "model/layout_walk.hpp"

namespace tinyloop {

// The looped block's typed view of the model layout (model/layout_walk.hpp): SPEC's names,
// one slot per Param, rho only with ALiBi. `m` is a looped block (is_looped_block).
ParamLayout ParamLayout::make(const ModelSpec& m) {
  static constexpr Role kRoles[kParamCount] = {Role::E,     Role::Wq,    Role::Wk,    Role::Wv,    Role::ln1_g,
                                               Role::ln1_b, Role::ln2_g, Role::ln2_b, Role::W1,    Role::b1,
                                               Role::W2,    Role::b2,    Role::lnf_g, Role::lnf_b, Role::Wout,
                                               Role::bout,  Role::rho};
  static constexpr const char* kNames[kParamCount] = {"E",  "Wq", "Wk",       "Wv",       "ln1.gain", "ln1.bias",
                                                      "ln2.gain", "ln2.bias", "W1", "b1", "W2", "b2", "lnf.gain",
                                                      "lnf.bias", "Wout", "bout", "rho"};
  ParamLayout l;
  for (int i = 0; i < kParamCount; ++i) l.info[i] = ParamInfo{kNames[i], 0, 0, false, 0};
  l.total = walk_layout(m, [&](const TensorSpec& t) {
    for (int i = 0; i < kParamCount; ++i)
      if (kRoles[i] == t.role) {
        l.info[i] = ParamInfo{kNames[i], t.rows, t.cols, t.rows == 1 && t.role != Role::E && t.role != Role::Wout,
                              t.offset};
        if (i + 1 > l.count) l.count = i + 1;
      }
  });
  for (int i = l.count; i < kParamCount; ++i) l.info[i].offset = l.total;
  return l;
}

int ParamLayout::find(const char* name) const {
  for (int i = 0; i < count; ++i)
    if (std::strcmp(info[i].name, name) == 0) return i;
  return -1;
}

}  // namespace tinyloop
