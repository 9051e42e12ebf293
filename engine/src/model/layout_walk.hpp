#pragma once
// The one rule that lays a model's parameters out in its flat array (SPEC order, each tensor
// on an 8-float boundary). ModelLayout stores the walk; ParamLayout (the looped block's
// checkpoint view) reads it without holding a whole ModelLayout, which is too big for a
// microcontroller's stack.
#include <cstddef>

#include "tinyloop/model.hpp"

namespace tinyloop {

enum class Role : int {
  E, Win, bin, pos, Wq, Wk, Wv, Wo, ln1_g, ln1_b, ln2_g, ln2_b, W1, b1, W2, b2, lnf_g, lnf_b, Wout, bout, rho,
  bq, bk, bv, bo, lna_g, lna_b
};

struct TensorSpec {
  Role role;
  int block;         // -1 for the tensors outside the blocks
  const char* name;  // SPEC's name of the role ("Wq", "ln1.gain", ...), without the block
  int rows, cols;
  std::size_t offset;
};

constexpr std::size_t round8(std::size_t n) { return (n + 7) / 8 * 8; }

// Calls visit(const TensorSpec&) for each tensor in order; returns the total (padded) size.
template <class Visit>
std::size_t walk_layout(const ModelSpec& c, Visit&& visit) {
  const int d = c.width, F = c.heads * c.head_width(), A = c.attention_width(), H = c.hidden_width();
  const int blocks = c.blocks() < kMaxBlocks ? c.blocks() : kMaxBlocks;
  std::size_t offset = 0;
  auto add = [&](Role role, int block, const char* name, int rows, int cols) {
    visit(TensorSpec{role, block, name, rows, cols, offset});
    offset += round8(std::size_t(rows) * std::size_t(cols));
  };
  if (c.input == InputKind::tokens) add(Role::E, -1, "E", c.vocab_in, d);
  if (c.input == InputKind::vectors && c.input_proj) {
    add(Role::Win, -1, "Win", c.in_dim, d);
    add(Role::bin, -1, "bin", 1, d);
  }
  if (c.positions == Positions::learned) add(Role::pos, -1, "pos", c.max_len, d);
  for (int b = 0; b < blocks; ++b) {
    add(Role::Wq, b, "Wq", d, F);
    add(Role::Wk, b, "Wk", d, F);
    add(Role::Wv, b, "Wv", d, F);
    if (c.out_proj) add(Role::Wo, b, "Wo", A, d);
    if (c.layernorm) {
      add(Role::ln1_g, b, "ln1.gain", 1, d);
      add(Role::ln1_b, b, "ln1.bias", 1, d);
    }
    if (c.mlp) {
      if (c.layernorm) {
        add(Role::ln2_g, b, "ln2.gain", 1, d);
        add(Role::ln2_b, b, "ln2.bias", 1, d);
      }
      add(Role::W1, b, "W1", d, H);
      add(Role::b1, b, "b1", 1, H);
      add(Role::W2, b, "W2", H, d);
      add(Role::b2, b, "b2", 1, d);
    }
    if (c.attn_bias) {  // after the block's other tensors, so that models without them keep their layout
      add(Role::bq, b, "bq", 1, F);
      add(Role::bk, b, "bk", 1, F);
      add(Role::bv, b, "bv", 1, F);
      if (c.out_proj) add(Role::bo, b, "bo", 1, d);
    }
    if (c.branch_norm) {
      add(Role::lna_g, b, "lna.gain", 1, d);
      add(Role::lna_b, b, "lna.bias", 1, d);
    }
  }
  if (c.layernorm) {
    add(Role::lnf_g, -1, "lnf.gain", 1, d);
    add(Role::lnf_b, -1, "lnf.bias", 1, d);
  }
  add(Role::Wout, -1, "Wout", d, c.out_dim);
  if (c.readout_bias) add(Role::bout, -1, "bout", 1, c.out_dim);
  if (uses_alibi(c.positions))  // last, as SPEC §1.1 appends rho to the looped block's tensors
    for (int b = 0; b < blocks; ++b) add(Role::rho, b, "rho", 1, c.heads);
  return offset;
}

}  // namespace tinyloop
