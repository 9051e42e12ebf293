#pragma once
// The model family (MODEL §4.2, §4.3): stacked or looped transformer layers with
// several heads, any width, optional MLP and LayerNorm, softmax or linear attention,
// sinusoidal / learned / no positions or the relative ones of SPEC §1.1 (ALiBi, RoPE), token or
// vector inputs, and classification (CE) or regression (MSE) outputs. Everything comes from
// FamilyConfig; the model is planned up front into one caller buffer (Arena / MemoryPlan, as
// the lam2026 Trainer), and after init() no member function allocates, throws or calls the OS.
// AdamW, clipping and the schedule are the engine's own (optim/adamw); cross-entropy is
// loss/cross_entropy.hpp.
//
// Per layer (weights of layer l, or of the one shared block when looped):
//   h = LN1(x)                          (identity when layernorm is off)
//   Q_h, K_h, V_h = h Wq[:, h], h Wk[:, h], h Wv[:, h]            (no bias)
//   softmax: A_h = softmax(Q_h K_h^T * s - m_h D, causal) V_h
//            (ALiBi: m_h = softplus(rho_h), D_ij = i - j, or |i - j| without the causal mask;
//             RoPE: the pairs (2k, 2k+1) of Q_h, K_h row i rotated by i * base^(-2k/head_dim))
//   linear:  A_h = ((Q_h K_h^T * s) masked causally) V_h          (no normalisation)
//   s = attn_scale, or 1/sqrt(head_dim) when attn_scale is 0
//   a = concat_h(A_h) Wo                (Wo absent when out_proj is off: needs heads*head_dim = width)
//   u = x + a                           (x dropped when residual is off)
//   x' = u + W2 gelu(W1 LN2(u) + b1) + b2    (when the MLP is on; else x' = u)
// Input: X_i = E[token_i] or (v_i Win + bin) or v_i (vector inputs without projection), plus
// pe_scale * sinusoid(i) (sinusoidal, alibi_sinusoidal) or pos[i] (learned).
// Output: y_i = LNf(x_L) Wout + bout.
// Loss: mean cross-entropy over counted positions (label >= 0 and mask set), or the mean over
// counted positions and output components of (y - target)^2 (PyTorch's mse_loss).
#include <cstddef>
#include <cstdint>

#include "tinyloop/config.hpp"
#include "tinyloop/memory_plan.hpp"
#include "tinyloop/parallel.hpp"
#include "tinyloop/rng.hpp"
#include "tinyloop/status.hpp"

namespace tinyloop::family {

enum class AttentionKind : std::uint8_t { softmax = 0, linear = 1 };
// alibi and rope act inside attention (SPEC §1.1); alibi_sinusoidal also adds the sinusoids.
enum class Positions : std::uint8_t {
  none = 0,
  sinusoidal = 1,
  learned = 2,
  alibi = 3,
  alibi_sinusoidal = 4,
  rope = 5,
};
constexpr bool uses_sinusoids(Positions p) { return p == Positions::sinusoidal || p == Positions::alibi_sinusoidal; }
constexpr bool uses_alibi(Positions p) { return p == Positions::alibi || p == Positions::alibi_sinusoidal; }
constexpr bool uses_rope(Positions p) { return p == Positions::rope; }
enum class InputKind : std::uint8_t { tokens = 0, vectors = 1 };
enum class OutputKind : std::uint8_t { classes = 0, regression = 1 };

struct FamilyConfig {
  int layers = 2;
  bool looped = false;  // one shared block run `layers` times (weight sharing)
  int heads = 1;
  int width = 8;
  int head_dim = 0;  // 0: width / heads
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

  int head_width() const { return head_dim > 0 ? head_dim : width / heads; }
  int hidden_width() const { return hidden > 0 ? hidden : 4 * width; }
  int blocks() const { return looped ? 1 : layers; }  // weight sets
};

Status validate(const FamilyConfig& c);

// One named parameter tensor; the whole model is one flat array, each tensor 8-aligned.
struct FamilyTensor {
  char name[24];  // "E", "pos", "Win", "bin", "L0.Wq", ..., "L0.rho", ..., "lnf.gain", "Wout", "bout"
  int rows, cols;  // y = x W: rows = in, cols = out; vectors have rows = 1
  std::size_t offset;
  std::size_t size() const { return std::size_t(rows) * std::size_t(cols); }
};

constexpr int kMaxFamilyBlocks = 64;
constexpr int kFamilyTensorsPerBlock = 13;  // ln1 g/b, Wq, Wk, Wv, Wo, rho, ln2 g/b, W1, b1, W2, b2
constexpr int kMaxFamilyTensors = 8 + kMaxFamilyBlocks * kFamilyTensorsPerBlock;

struct FamilyLayout {
  FamilyTensor tensors[kMaxFamilyTensors];
  int count = 0;
  std::size_t total = 0;
  // Offsets (or SIZE_MAX when absent) of each role, for the model code.
  struct Block {
    std::size_t ln1_g, ln1_b, Wq, Wk, Wv, Wo, rho, ln2_g, ln2_b, W1, b1, W2, b2;  // rho: 1 x heads (ALiBi)
  };
  std::size_t E, pos, Win, bin, lnf_g, lnf_b, Wout, bout;
  Block block[kMaxFamilyBlocks];
  static FamilyLayout make(const FamilyConfig& c);
  int find(const char* name) const;
};

constexpr std::size_t kAbsent = ~std::size_t(0);

struct FamilyCapacity {
  int max_len = 64;
  int max_batch = 32;
  int workers = 1;
};

// One batch. Inputs: tokens (batch x len) or inputs (batch x len x in_dim). Targets: labels
// (batch x len; negative = not counted) or targets (batch x len x out_dim). mask (batch x len,
// optional): positions with 0 are not counted.
template <class T>
struct FamilyBatch {
  const std::int32_t* tokens = nullptr;
  const T* inputs = nullptr;
  const std::int32_t* labels = nullptr;
  const T* targets = nullptr;
  const std::uint8_t* mask = nullptr;
  int batch = 0;
  int len = 0;
};

struct FamilyStats {
  double loss = 0;
  double accuracy = 0;  // classes: counted positions predicted right
  long counted = 0;
  double grad_norm = 0;
  double lr = 0;
  bool skipped = false;
};

template <class T>
class FamilyModel {
 public:
  static MemoryPlan plan(const FamilyConfig& cfg, const FamilyCapacity& cap);
  Status init(const FamilyConfig& cfg, const OptimConfig& optim, const FamilyCapacity& cap, void* buffer,
              std::size_t bytes);
  void set_parallel(ParallelFor* pool);
  void init_weights(Rng& rng);  // PyTorch defaults; resets AdamW state and the step

  Status compute_gradients(const FamilyBatch<T>& b, FamilyStats* stats);
  Status evaluate(const FamilyBatch<T>& b, FamilyStats* stats);  // forward only
  // Gradients, global-norm clip, AdamW (lr from the schedule over `total_steps`).
  Status train_step(const FamilyBatch<T>& b, std::int64_t total_steps, FamilyStats* stats);

  T* params() { return params_; }
  const T* params() const { return params_; }
  const T* grads() const { return grads_; }
  std::size_t param_count() const { return layout_.total; }
  const FamilyLayout& layout() const { return layout_; }
  const FamilyConfig& config() const { return cfg_; }
  std::int64_t step() const { return step_; }

  // After a forward pass: outputs of sequence b (len x out_dim), and the attention matrix of
  // layer l (0-based), head h (len x len, row i valid for j <= i when causal; softmax attention
  // stores the probabilities after the ALiBi bias, linear attention the masked scaled scores).
  const T* outputs(int b) const;
  const T* attention(int b, int layer, int head) const;

  struct State;

 private:
  Status check(const FamilyBatch<T>& b) const;
  Status pass(const FamilyBatch<T>& b, bool backward, FamilyStats* stats);

  FamilyConfig cfg_{};
  OptimConfig optim_{};
  FamilyCapacity cap_{};
  FamilyLayout layout_{};
  T* params_ = nullptr;
  T* grads_ = nullptr;
  T* adam_m_ = nullptr;
  T* adam_v_ = nullptr;
  std::int64_t step_ = 0;
  State* state_ = nullptr;
  SerialFor serial_;
  ParallelFor* pool_ = &serial_;
};

extern template class FamilyModel<float>;
extern template class FamilyModel<double>;

}  // namespace tinyloop::family
