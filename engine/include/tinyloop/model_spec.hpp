#pragma once
// The one model description (docs/MODEL.md): stacked or looped transformer layers, any width
// and heads, attention kind, positions, MLP and LayerNorm on or off, token or vector inputs,
// classes or regression out. tinyloop/model.hpp runs it; the paper's looped block is one
// configuration of it (paper_block()).
#include <cstdint>

#include "tinyloop/status.hpp"

namespace tinyloop {

// The looped block's width is a compile-time constant of its kernels: 8 floats are one AVX
// register or two NEON registers. Its MLP is 4 * d wide.
constexpr int kDim = 8;
constexpr int kHidden = 4 * kDim;

enum class LoopKind : std::uint8_t { standard = 0, hamiltonian = 1 };

// How a head mixes the sequence (the equations are tinyloop/model.hpp's):
//   softmax, linear: heads of width head_width(), concatenated into heads * head_width().
//   position_gated: the ICAR authors' non-augmented model (their Fig. 7, docs/TASKS.md). Each head
//     is `width` wide (head_dim 0 or width) and multiplies linear token scores by a causal softmax
//     over the learned position table seen through the head's own query and key maps:
//       T_h = causal(Q_h K_h^T * s)                                   (no softmax)
//       S_h = softmax_causal((pos Wq_h + bq_h)(pos Wk_h + bk_h)^T * s)  (the same for every sequence)
//       a = sum_h (T_h . S_h) V_h                                      (elementwise; heads summed)
//     then Wo (width x width) as usual. It needs positions = learned; the table then feeds S_h
//     and is not added to the input. causal = false drops both masks.
enum class AttentionKind : std::uint8_t { softmax = 0, linear = 1, position_gated = 2 };
// alibi and rope act inside attention (SPEC §1.1); alibi_sinusoidal also adds the sinusoids.
// The numbers are the configuration block's and the C ABI's (docs/CHECKPOINT.md); version 4's
// model block keeps its own (io/checkpoint_spec.cpp).
enum class Positions : std::uint8_t {
  sinusoidal = 0,        // X = E[x] + pe_scale * P (the paper's)
  none = 1,              // NoPE: only the causal mask orders
  alibi = 2,             // scores - softplus(rho) (i - j), no sinusoids in X
  alibi_sinusoidal = 3,  // both
  rope = 4,              // query/key pairs rotated by position, no sinusoids in X
  learned = 5,           // a learned table pos[i] added to the input (max_len rows; position_gated
                         // attention reads it instead of adding it)
};
constexpr bool uses_sinusoids(Positions p) { return p == Positions::sinusoidal || p == Positions::alibi_sinusoidal; }
constexpr bool uses_alibi(Positions p) { return p == Positions::alibi || p == Positions::alibi_sinusoidal; }
constexpr bool uses_rope(Positions p) { return p == Positions::rope; }
enum class InputKind : std::uint8_t { tokens = 0, vectors = 1 };
enum class OutputKind : std::uint8_t { classes = 0, regression = 1 };

struct ModelSpec {
  int layers = 2;
  bool looped = false;  // one shared block run `layers` times (weight sharing)
  int heads = 1;
  int width = 8;
  int head_dim = 0;  // 0: width / heads (position_gated: width)
  bool mlp = true;
  int hidden = 0;  // 0: 4 * width
  bool layernorm = true;
  AttentionKind attention = AttentionKind::softmax;
  float attn_scale = 0.0f;  // 0: 1 / sqrt(head_dim)
  bool causal = true;
  bool out_proj = true;
  bool residual = true;
  Positions positions = Positions::sinusoidal;
  float pe_scale = 1.0f;  // sinusoidal only
  int max_len = 64;       // rows of the learned position table
  float alibi_rho = 0.5f;      // initial rho of every head's ALiBi slope softplus(rho)
  float rope_base = 10000.0f;  // RoPE: theta_k = base^(-2k/head_dim)
  InputKind input = InputKind::tokens;
  int vocab_in = 4;         // tokens
  int in_dim = 8;           // vectors
  bool input_proj = true;   // vectors: Win, bin; off: the vector is the stream (in_dim = width)
  OutputKind output = OutputKind::classes;
  int out_dim = 5;  // classes, or regression components
  bool readout_bias = true;
  int ignore_class = -1;  // a class left out of the accuracy (still in the loss): the paper's NONE
  LoopKind loop = LoopKind::standard;  // hamiltonian: looped models only
  float mu = 0.9f;     // hamiltonian momentum
  float alpha = 1.0f;  // hamiltonian step
  float init_scale = 1.0f;  // multiplies every randomly drawn tensor of init_weights()
  bool attn_bias = false;    // biases on the query, key and value projections and on Wo
  bool branch_norm = false;  // LayerNorm on the attention branch before the residual
  bool generic_kernels = false;  // run the d = 8 block on the generic kernels too (cross-checks)

  bool position_gated() const { return attention == AttentionKind::position_gated; }
  int head_width() const { return head_dim > 0 ? head_dim : position_gated() ? width : width / heads; }
  // The attention's output before Wo: the heads concatenated, or summed (position_gated).
  int attention_width() const { return position_gated() ? head_width() : heads * head_width(); }
  // The learned table is added to the input, unless position_gated attention reads it instead.
  bool adds_learned_positions() const { return positions == Positions::learned && !position_gated(); }
  int hidden_width() const { return hidden > 0 ? hidden : 4 * width; }
  int blocks() const { return looped ? 1 : layers; }  // weight sets
};

Status validate(const ModelSpec& c);

// The paper's looped block (SPEC §1): one shared pre-LN block of width 8, one head without
// output projection, an MLP 32 wide, run for 25 loops with the input re-injected; A = 4 symbols
// in, A + 1 classes out (class A, NONE, left out of the accuracy); sinusoidal positions scaled
// by 0.15. The training recipe's model (TrainConfig::model) starts here.
ModelSpec paper_block();

// True when `c` has that block's shape, whatever its loops, positions, vocabulary and loop kind:
// the model that checkpoint versions 1-3, Inference and the C ABI hold and run.
bool is_looped_block(const ModelSpec& c);

// True when a configuration runs on the compile-time d = 8 SIMD kernels
// (model/looped_block.hpp): the looped block, unless generic_kernels asks otherwise. Every other
// shape runs on kernels/generic.hpp.
bool runs_d8_kernels(const ModelSpec& c);

}  // namespace tinyloop
