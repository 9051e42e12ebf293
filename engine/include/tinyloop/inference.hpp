#pragma once
// Inference with streaming (online-softmax) attention: working memory grows as O(n * d),
// never O(n^2). After init() nothing allocates, throws or calls the OS.
#include <cstddef>
#include <cstdint>

#include "tinyloop/config.hpp"
#include "tinyloop/memory_plan.hpp"
#include "tinyloop/params.hpp"
#include "tinyloop/status.hpp"

namespace tinyloop {

struct InferOutputs {
  float* logits = nullptr;                 // len x vocab_out, optional
  std::int32_t* predictions = nullptr;     // len, optional: arg-max class per position
  std::int32_t* per_loop_predictions = nullptr;  // loops x len, optional: readout after each loop
  // Attention probabilities, optional: len x len row-major (row i = query i; masked keys 0) of
  // loop attention_loop (1-based), or of every loop (loops x len x len) when attention_loop is 0.
  // O(n^2) caller memory by nature; the engine's own working memory stays O(n * d).
  float* attention = nullptr;
  int attention_loop = 0;
};

// Runs the paper's looped block (is_looped_block); init() refuses other shapes.
class Inference {
 public:
  static MemoryPlan plan(const ModelSpec& m, int max_len);

  Status init(const ModelSpec& m, int max_len, void* buffer, std::size_t bytes);
  // Copies the flat parameter array (ParamLayout order, padding included).
  Status load_params(const float* flat, std::size_t count);
  Status run(const std::int32_t* tokens, int len, const InferOutputs& out);

  const ParamLayout& layout() const { return layout_; }
  const ModelSpec& config() const { return cfg_; }
  int max_len() const { return max_len_; }
  // The loaded model's ALiBi recency slope softplus(rho); 0 for other position schemes.
  float alibi_slope() const;

 private:
  ModelSpec cfg_{};
  ParamLayout layout_{};
  int max_len_ = 0;
  float* params_ = nullptr;
  float* x_ = nullptr;    // injected input, len x d
  float* z_ = nullptr;    // latent, len x d
  float* vel_ = nullptr;  // Hamiltonian velocity, len x d (only for that loop kind)
  float* k_ = nullptr;    // keys: d x stride (stride = len rounded up to 8) with SIMD, else len x d
  float* v_ = nullptr;    // values, laid out as the keys
  float* rope_ = nullptr; // RoPE cosines and sines, len x d (only for that position kind)
  bool ready_ = false;
};

}  // namespace tinyloop
