// The model's initial weights (tinyloop/model.hpp init_weights): PyTorch's defaults for every
// shape, drawn in the layout's order.
#include <cmath>

#include "tinyloop/model.hpp"

namespace tinyloop {

// PyTorch's defaults (SPEC §1): embeddings and learned positions N(0, 1), every linear map and
// bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), both times init_scale; LayerNorm gains 1, biases 0.
template <class T>
void Model<T>::init_weights(Rng& rng) {
  const ModelSpec& c = cfg_;
  const ModelLayout& l = layout_;
  const double scale = c.init_scale;
  for (std::size_t i = 0; i < l.total; ++i) params_[i] = adam_m_[i] = adam_v_[i] = T(0);
  auto normal_fill = [&](std::size_t off, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) params_[off + i] = T(scale * normal(rng));
  };
  auto uniform_fill = [&](std::size_t off, std::size_t count, int fan_in) {
    const double bound = scale / std::sqrt(double(fan_in));
    for (std::size_t i = 0; i < count; ++i) params_[off + i] = T((2.0 * rng.uniform01_double() - 1.0) * bound);
  };
  auto ones = [&](std::size_t off, int count) {
    if (off != kAbsent)
      for (int i = 0; i < count; ++i) params_[off + i] = T(1);
  };
  const int d = c.width, F = c.heads * c.head_width(), A = c.attention_width(), H = c.hidden_width();
  if (l.E != kAbsent) normal_fill(l.E, std::size_t(c.vocab_in) * d);
  if (l.Win != kAbsent) {
    uniform_fill(l.Win, std::size_t(c.in_dim) * d, c.in_dim);
    uniform_fill(l.bin, std::size_t(d), c.in_dim);
  }
  if (l.pos != kAbsent) normal_fill(l.pos, std::size_t(c.max_len) * d);
  for (int b = 0; b < c.blocks(); ++b) {
    const auto& k = l.block[b];
    ones(k.ln1_g, d);
    ones(k.ln2_g, d);
    uniform_fill(k.Wq, std::size_t(d) * F, d);
    uniform_fill(k.Wk, std::size_t(d) * F, d);
    uniform_fill(k.Wv, std::size_t(d) * F, d);
    if (k.Wo != kAbsent) uniform_fill(k.Wo, std::size_t(A) * d, A);
    if (k.rho != kAbsent)  // a setting, not a draw: the weights above stay as they were
      for (int h = 0; h < c.heads; ++h) params_[k.rho + h] = T(c.alibi_rho);
    if (c.mlp) {
      uniform_fill(k.W1, std::size_t(d) * H, d);
      uniform_fill(k.b1, std::size_t(H), d);
      uniform_fill(k.W2, std::size_t(H) * d, H);
      uniform_fill(k.b2, std::size_t(d), H);
    }
    if (c.attn_bias) {  // PyTorch's nn.Linear bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
      uniform_fill(k.bq, std::size_t(F), d);
      uniform_fill(k.bk, std::size_t(F), d);
      uniform_fill(k.bv, std::size_t(F), d);
      if (k.bo != kAbsent) uniform_fill(k.bo, std::size_t(d), A);
    }
    ones(k.lna_g, d);
  }
  ones(l.lnf_g, d);
  uniform_fill(l.Wout, std::size_t(d) * c.out_dim, d);
  if (l.bout != kAbsent) uniform_fill(l.bout, std::size_t(c.out_dim), d);
  step_ = 0;
}

template void Model<float>::init_weights(Rng& rng);
template void Model<double>::init_weights(Rng& rng);

}  // namespace tinyloop
