#pragma once
// The one model (MODEL §1, §4.2, §4.3): stacked or looped transformer layers with
// several heads, any width, optional MLP and LayerNorm, softmax or linear attention,
// sinusoidal / learned / no positions or the relative ones of SPEC §1.1 (ALiBi, RoPE), token or
// vector inputs, and classification (CE) or regression (MSE) outputs. Everything comes from
// ModelSpec; the model is planned up front into one caller buffer (Arena / MemoryPlan), and
// after init() no member function allocates, throws or calls the OS.
// AdamW, clipping and the schedule are the engine's own (optim/adamw); cross-entropy is
// loss/cross_entropy.hpp. The paper's looped block (SPEC §1) is one configuration of it
// (paper_block(), tinyloop/model_spec.hpp), and that shape runs on the compile-time d = 8 SIMD kernels
// (runs_d8_kernels); every other shape on the generic kernels (kernels/generic.hpp).
//
// Per layer (weights of layer l, or of the one shared block when looped):
//   h = LN1(x)                          (identity when layernorm is off)
//   Q_h, K_h, V_h = h Wq[:, h], h Wk[:, h], h Wv[:, h]            (no bias)
//   softmax: A_h = softmax(Q_h K_h^T * s - m_h D, causal) V_h
//            (ALiBi: m_h = softplus(rho_h), D_ij = i - j, or |i - j| without the causal mask;
//             RoPE: the pairs (2k, 2k+1) of Q_h, K_h row i rotated by i * base^(-2k/head_dim))
//   linear:  A_h = ((Q_h K_h^T * s) masked causally) V_h          (no normalisation)
//   position_gated (heads of width `width`, summed; tinyloop/model_spec.hpp):
//            A = sum_h (T_h . S_h) V_h, T_h = (Q_h K_h^T * s) masked causally,
//            S_h = softmax((pos Wq_h + bq_h)(pos Wk_h + bk_h)^T * s, causal): the learned table
//            through the head's own maps, the same for every sequence (computed once per batch)
//   s = attn_scale, or 1/sqrt(head_dim) when attn_scale is 0
//   (with attn_bias: Q_h, K_h, V_h gain the biases bq, bk, bv, and a the bias bo)
//   a = concat_h(A_h) Wo                (Wo absent when out_proj is off: needs heads*head_dim = width;
//                                        position_gated: a = A Wo, Wo width x width)
//   u = x + a                           (x dropped when residual is off; with branch_norm,
//                                        u = x + LNa(a), a LayerNorm on the branch with its own
//                                        gain and bias: the ICAR authors' augmented model)
//   x' = u + W2 gelu(W1 LN2(u) + b1) + b2    (when the MLP is on; else x' = u)
// Looped with the Hamiltonian update (SPEC §1 option): vel_l = mu vel_{l-1} + alpha (x' - x),
// x' = x + vel_l. With the standard loop this is the paper's Z_t = Z_{t-1} + A + M on the stream
// x = Z + X: the input is re-injected at every loop because it stays in the stream.
// Input: X_i = E[token_i] or (v_i Win + bin) or v_i (vector inputs without projection), plus
// pe_scale * sinusoid(i) (sinusoidal, alibi_sinusoidal) or pos[i] (learned, unless position_gated
// attention reads the table instead).
// Output: y_i = LNf(x_L) Wout + bout.
// Loss: mean cross-entropy over counted positions (label >= 0 and mask set), or the mean over
// counted positions and output components of (y - target)^2 (PyTorch's mse_loss); plus the
// energy-entropy terms of SPEC §2 (kinetic, potential, Tsallis) when LossConfig weighs them
// (d = 8 kernels only, for now).
#include <cstddef>
#include <cstdint>

#include "tinyloop/config.hpp"  // ModelSpec (tinyloop/model_spec.hpp), LossConfig, OptimConfig
#include "tinyloop/loss_terms.hpp"
#include "tinyloop/memory_plan.hpp"
#include "tinyloop/parallel.hpp"
#include "tinyloop/rng.hpp"
#include "tinyloop/status.hpp"

namespace tinyloop {

// The energy-entropy terms switched off (the default objective of init()).
LossConfig cross_entropy_only();

// One named parameter tensor; the whole model is one flat array, each tensor 8-aligned.
struct LayoutTensor {
  char name[24];  // "E", "pos", "Win", "bin", "L0.Wq", ..., "L0.rho", ..., "lnf.gain", "Wout", "bout"
  int rows, cols;  // y = x W: rows = in, cols = out; vectors have rows = 1
  std::size_t offset;
  std::size_t size() const { return std::size_t(rows) * std::size_t(cols); }
};

constexpr int kMaxBlocks = 64;
constexpr int kTensorsPerBlock = 19;  // ln1 g/b, Wq, Wk, Wv, Wo, rho, ln2 g/b, W1, b1, W2, b2, bq, bk, bv, bo, lna g/b
constexpr int kMaxTensors = 8 + kMaxBlocks * kTensorsPerBlock;

struct ModelLayout {
  LayoutTensor tensors[kMaxTensors];
  int count = 0;
  std::size_t total = 0;
  // Offsets (or SIZE_MAX when absent) of each role, for the model code.
  struct Block {
    std::size_t ln1_g, ln1_b, Wq, Wk, Wv, Wo, rho, ln2_g, ln2_b, W1, b1, W2, b2;  // rho: 1 x heads (ALiBi)
    std::size_t bq, bk, bv, bo, lna_g, lna_b;  // attn_bias, branch_norm
  };
  std::size_t E, pos, Win, bin, lnf_g, lnf_b, Wout, bout;
  Block block[kMaxBlocks];
  // Tensors in SPEC order: inputs (E, Win, bin, pos), then per block Wq, Wk, Wv, Wo, ln1, ln2,
  // W1, b1, W2, b2, then lnf, Wout, bout, then each block's rho. The looped block's layout is
  // the checkpoint's ParamLayout (tinyloop/params.hpp), tensor for tensor.
  static ModelLayout make(const ModelSpec& c);
  int find(const char* name) const;
};

constexpr std::size_t kAbsent = ~std::size_t(0);

// Planned sizes: the longest sequence, the largest batch, and the threads that may run
// sequences at once (one scratch area each).
struct Capacity {
  int max_len = 64;
  int max_batch = 32;
  int workers = 1;
  // The d = 8 kernels keep the attention probabilities for the backward pass unless that would
  // exceed this many bytes of saved activations; then they recompute them (flash-style).
  std::size_t activation_budget = std::size_t(1) << 30;
  // The d = 8 kernels: every sequence of a batch keeps its saved activations, so attention()
  // can return any sequence's probabilities after a pass. Off (the default), each worker keeps
  // one sequence's at a time and runs its forward and backward back to back, so they stay in
  // the core's cache instead of streaming about 1 MB per sequence (n = 64) through memory, and
  // the plan shrinks by the batch size. The results are the same to the bit. (With a Tsallis
  // term, a batch whose mean entropy crosses its target runs twice; see model.cpp run_block.)
  bool keep_attention = false;
};

// One batch. Inputs: tokens (batch x len) or inputs (batch x len x in_dim). Targets: labels
// (batch x len; negative = not counted) or targets (batch x len x out_dim). mask (batch x len,
// optional): positions with 0 are not counted. lengths (batch, optional): sequence b is its first
// lengths[b] positions, the rest padding, which must not be counted. The stacked kernels skip the
// padding (a batch of mixed lengths costs what its real positions cost); the d = 8 block and
// position_gated attention compute it, which gives the same result at every real position when
// attention is causal, so they refuse lengths when it is not.
template <class T>
struct ModelBatch {
  const std::int32_t* tokens = nullptr;
  const T* inputs = nullptr;
  const std::int32_t* labels = nullptr;
  const T* targets = nullptr;
  const std::uint8_t* mask = nullptr;
  const std::int32_t* lengths = nullptr;
  int batch = 0;
  int len = 0;
};

struct ModelStats {
  double loss = 0;      // the total objective (terms.total)
  double accuracy = 0;  // classes: counted positions (other than ignore_class) predicted right
  long counted = 0;
  LossTerms terms;      // ce holds the mean cross-entropy or squared error
  double grad_norm = 0;
  double lr = 0;
  bool skipped = false;
  const char* fault = "";  // which term broke when skipped ("cross-entropy", ..., "gradient", "weight update")
};

template <class T>
class Model {
 public:
  static MemoryPlan plan(const ModelSpec& cfg, const Capacity& cap);
  // Cross-entropy (or squared error) alone.
  Status init(const ModelSpec& cfg, const OptimConfig& optim, const Capacity& cap, void* buffer,
              std::size_t bytes);
  // With the energy-entropy terms of `loss`; `total_steps` times the learning-rate and entropy
  // schedules until train_step says otherwise.
  Status init(const ModelSpec& cfg, const OptimConfig& optim, const LossConfig& loss, std::int64_t total_steps,
              const Capacity& cap, void* buffer, std::size_t bytes);
  void set_parallel(ParallelFor* pool);
  void init_weights(Rng& rng);  // PyTorch defaults; resets AdamW state and the step

  Status compute_gradients(const ModelBatch<T>& b, ModelStats* stats);
  Status evaluate(const ModelBatch<T>& b, ModelStats* stats);  // forward only
  // Gradients, global-norm clip, AdamW (lr from the schedule over `total_steps`).
  Status train_step(const ModelBatch<T>& b, std::int64_t total_steps, ModelStats* stats);

  T* params() { return params_; }
  const T* params() const { return params_; }
  const T* grads() const { return grads_; }
  T* adam_m() { return adam_m_; }
  T* adam_v() { return adam_v_; }
  std::size_t param_count() const { return layout_.total; }
  const ModelLayout& layout() const { return layout_; }
  const ModelSpec& config() const { return cfg_; }
  const OptimConfig& optim() const { return optim_; }
  const Capacity& capacity() const { return cap_; }
  std::int64_t step() const { return step_; }
  void set_step(std::int64_t s) { step_ = s; }
  std::int64_t total_steps() const { return total_steps_; }
  bool initialized() const { return state_ != nullptr; }

  // After a forward pass: the positions sequence b was computed at, n (lengths[b] where the
  // kernels skip padding, else len); its outputs (len x out_dim, the first n rows computed), and
  // the attention matrix of layer l (0-based), head h (n x n, row i valid for j <= i when causal; softmax attention
  // stores the probabilities after the ALiBi bias, linear attention the masked scaled scores;
  // nullptr when the d = 8 kernels keep none: without Capacity::keep_attention, or when they
  // recompute them instead of keeping them).
  // position_gated attention stores its map T_h . S_h there, and position_gate() returns the
  // batch's gate S_h (n x n, the same for every sequence; nullptr for the other kinds).
  int length(int b) const;
  const T* outputs(int b) const;
  const T* attention(int b, int layer, int head) const;
  const T* position_gate(int layer, int head) const;

  struct State;

 private:
  Status check(const ModelBatch<T>& b) const;
  Status pass(const ModelBatch<T>& b, bool backward, ModelStats* stats);

  ModelSpec cfg_{};
  OptimConfig optim_{};
  LossConfig loss_{};
  std::int64_t total_steps_ = 0;
  Capacity cap_{};
  ModelLayout layout_{};
  T* params_ = nullptr;
  T* grads_ = nullptr;
  T* adam_m_ = nullptr;
  T* adam_v_ = nullptr;
  std::int64_t step_ = 0;
  State* state_ = nullptr;
  SerialFor serial_;
  ParallelFor* pool_ = &serial_;
};

extern template class Model<float>;
extern template class Model<double>;

}  // namespace tinyloop
