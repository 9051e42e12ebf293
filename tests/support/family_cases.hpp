#pragma once
// Configurations of the model family (tinyloop/model.hpp) shared by the gradient checks and
// the golden tests, plus a random batch for any of them and a model built in its own buffer
// (test code: allocates).
#include <cstdint>
#include <string>
#include <vector>

#include "tinyloop/model.hpp"
#include "tinyloop/rng.hpp"

namespace tinyloop::test {

struct FamilyCase {
  std::string name;
  ModelSpec cfg;
  int batch;
  int len;
};

inline std::vector<FamilyCase> family_cases() {
  std::vector<FamilyCase> v;
  {  // stacked softmax classifier: 2 layers, 2 heads, MLP and LayerNorm, sinusoidal positions
    ModelSpec c;
    c.layers = 2; c.heads = 2; c.width = 8; c.vocab_in = 5; c.out_dim = 6;
    v.push_back({"stacked_softmax", c, 2, 7});
  }
  {  // looped block (shared weights), learned positions, no causal mask, odd widths
    ModelSpec c;
    c.layers = 3; c.looped = true; c.heads = 1; c.width = 6; c.hidden = 10; c.causal = false;
    c.positions = Positions::learned; c.max_len = 9; c.vocab_in = 4; c.out_dim = 3;
    v.push_back({"looped_learned", c, 2, 6});
  }
  {  // the in-context AR model: linear attention on vectors, no LN/MLP/Wo/residual, regression
    ModelSpec c;
    c.layers = 1; c.heads = 1; c.width = 6; c.mlp = false; c.layernorm = false; c.out_proj = false;
    c.residual = false; c.attention = AttentionKind::linear; c.positions = Positions::none;
    c.input = InputKind::vectors; c.in_dim = 6; c.input_proj = false; c.output = OutputKind::regression;
    c.out_dim = 3; c.readout_bias = false;
    v.push_back({"linear_icar", c, 2, 6});
  }
  {  // multi-head linear attention with projections, learned positions, MLP without LN
    ModelSpec c;
    c.layers = 2; c.heads = 3; c.width = 4; c.head_dim = 3; c.layernorm = false;
    c.attention = AttentionKind::linear; c.positions = Positions::learned; c.max_len = 8;
    c.input = InputKind::vectors; c.in_dim = 3; c.output = OutputKind::regression; c.out_dim = 2;
    c.hidden = 6;
    v.push_back({"linear_multihead_mlp", c, 2, 5});
  }
  {  // three stacked softmax layers, no MLP, scaled sinusoids, no read-out bias, fixed scale
    ModelSpec c;
    c.layers = 3; c.heads = 2; c.width = 6; c.mlp = false; c.pe_scale = 0.5f; c.readout_bias = false;
    c.attn_scale = 0.7f; c.vocab_in = 7; c.out_dim = 7;
    v.push_back({"stacked_nomlp", c, 3, 5});
  }
  {  // ALiBi (SPEC §1.1): 2 stacked layers, 2 heads, a learned slope per head and layer, causal
    ModelSpec c;
    c.layers = 2; c.heads = 2; c.width = 8; c.positions = Positions::alibi; c.alibi_rho = 0.3f;
    c.vocab_in = 5; c.out_dim = 6;
    v.push_back({"stacked_alibi", c, 2, 7});
  }
  {  // RoPE: looped block, 3 heads of width 4 (heads * head_dim != width)
    ModelSpec c;
    c.layers = 3; c.looped = true; c.heads = 3; c.width = 8; c.head_dim = 4; c.hidden = 12;
    c.positions = Positions::rope; c.rope_base = 100.0f; c.vocab_in = 4; c.out_dim = 5;
    v.push_back({"looped_rope", c, 2, 7});
  }
  {  // ALiBi plus sinusoids without the causal mask (distance |i - j|), heads of width 2, no MLP
    ModelSpec c;
    c.layers = 2; c.heads = 3; c.width = 6; c.mlp = false; c.causal = false;
    c.positions = Positions::alibi_sinusoidal; c.pe_scale = 0.5f; c.alibi_rho = -0.4f; c.vocab_in = 4;
    c.out_dim = 4;
    v.push_back({"alibi_sinusoidal_nomask", c, 2, 6});
  }
  {  // the ICAR authors' augmented model: vectors as the stream, linear attention with biases, a
     // LayerNorm on the attention branch, residual, no MLP or pre-LN, regression
    ModelSpec c;
    c.layers = 1; c.heads = 1; c.width = 6; c.mlp = false; c.layernorm = false; c.attn_bias = true;
    c.branch_norm = true; c.attention = AttentionKind::linear; c.positions = Positions::none;
    c.input = InputKind::vectors; c.in_dim = 6; c.input_proj = false; c.output = OutputKind::regression;
    c.out_dim = 2;
    v.push_back({"authors_augmented", c, 2, 6});
  }
  {  // attention biases and the branch LayerNorm with everything else on: 2 softmax layers, 2 heads
    ModelSpec c;
    c.layers = 2; c.heads = 2; c.width = 8; c.attn_bias = true; c.branch_norm = true; c.vocab_in = 5;
    c.out_dim = 4;
    v.push_back({"stacked_bias_branch_norm", c, 2, 7});
  }
  {  // the ICAR authors' non-augmented model (their Fig. 7): position_gated heads as wide as the
     // stream, summed, with biases; the learned table (longer than the batch) feeds the gates only;
     // a LayerNorm on the branch without residual, no MLP or pre-LN, regression
    ModelSpec c;
    c.layers = 1; c.heads = 3; c.width = 4; c.mlp = false; c.layernorm = false; c.residual = false;
    c.attn_bias = true; c.branch_norm = true; c.attention = AttentionKind::position_gated;
    c.positions = Positions::learned; c.max_len = 8; c.input = InputKind::vectors; c.in_dim = 4;
    c.input_proj = false; c.output = OutputKind::regression; c.out_dim = 2;
    v.push_back({"authors_gated", c, 2, 6});
  }
  return v;
}

// A model of `c` initialised in a buffer of its planned size (status says whether init worked).
template <class T>
struct BuiltModel {
  std::vector<unsigned char> buffer;
  Model<T> m;
  Status status;
  BuiltModel(const ModelSpec& c, const Capacity& cap, const OptimConfig& o = OptimConfig{}) {
    buffer.resize(Model<T>::plan(c, cap).total);
    status = m.init(c, o, cap, buffer.data(), buffer.size());
  }
};

template <class T>
struct FamilyData {
  std::vector<std::int32_t> tokens, labels;
  std::vector<T> inputs, targets;
  std::vector<std::uint8_t> mask;
  ModelBatch<T> batch(int b, int n) const {
    ModelBatch<T> fb;
    fb.tokens = tokens.empty() ? nullptr : tokens.data();
    fb.labels = labels.empty() ? nullptr : labels.data();
    fb.inputs = inputs.empty() ? nullptr : inputs.data();
    fb.targets = targets.empty() ? nullptr : targets.data();
    fb.mask = mask.empty() ? nullptr : mask.data();
    fb.batch = b;
    fb.len = n;
    return fb;
  }
};

// Random inputs and targets; every third position is not counted (label -1 or mask 0).
template <class T>
FamilyData<T> random_family_data(const ModelSpec& c, int b, int n, std::uint64_t seed) {
  Rng rng(seed);
  FamilyData<T> d;
  const int count = b * n;
  if (c.input == InputKind::tokens) {
    for (int i = 0; i < count; ++i) d.tokens.push_back(std::int32_t(rng.uniform_int(std::uint32_t(c.vocab_in))));
  } else {
    for (int i = 0; i < count * c.in_dim; ++i) d.inputs.push_back(T(2.0 * rng.uniform01_double() - 1.0));
  }
  if (c.output == OutputKind::classes) {
    for (int i = 0; i < count; ++i)
      d.labels.push_back(i % 3 == 1 ? -1 : std::int32_t(rng.uniform_int(std::uint32_t(c.out_dim))));
  } else {
    for (int i = 0; i < count * c.out_dim; ++i) d.targets.push_back(T(2.0 * rng.uniform01_double() - 1.0));
    for (int i = 0; i < count; ++i) d.mask.push_back(i % 3 == 1 ? 0 : 1);
  }
  return d;
}

}  // namespace tinyloop::test
