#include "tinyloop/inference.hpp"

#include <cmath>

#include "kernels/attention.hpp"
#include "kernels/attention_online_simd.hpp"
#include "kernels/block_kernels.hpp"
#include "kernels/layernorm.hpp"
#include "kernels/token_simd.hpp"
#include "model/looped_block.hpp"
#include "model/positions.hpp"
#include "tinyloop/arena.hpp"

namespace tinyloop {

namespace {

using Kernels = kernels::BlockKernels<float>;  // xsimd in a SIMD build, else the scalar references

constexpr int kMaxInferLen = 1 << 24;

struct Buffers {
  float *params, *x, *z, *vel, *k, *v, *rope;
};

// Keys and values of the SIMD path are stored transposed, d rows of a stride padded to whole
// registers of the attention kernel (the padding columns are zeroed on every run); the scalar
// path keeps n x d rows.
#if TINYLOOP_SIMD
constexpr std::size_t kKeyLanes = std::size_t(kernels::online::kLanes);
#else
constexpr std::size_t kKeyLanes = 8;
#endif
inline std::size_t padded_len(int len) { return (std::size_t(len) + kKeyLanes - 1) / kKeyLanes * kKeyLanes; }

Buffers take_buffers(Arena& a, const ModelSpec& m, int max_len) {
  const std::size_t N = std::size_t(max_len) * kDim;
  const std::size_t KV = padded_len(max_len) * kDim;
  Buffers b{};
  b.params = a.take<float>(ParamLayout::make(m).total);
  b.x = a.take<float>(N);
  b.z = a.take<float>(N);
  b.vel = m.loop == LoopKind::hamiltonian ? a.take<float>(N) : nullptr;
  b.k = a.take<float>(KV);
  b.v = a.take<float>(KV);
  b.rope = uses_rope(m.positions) ? a.take<float>(N) : nullptr;
  return b;
}

}  // namespace

MemoryPlan Inference::plan(const ModelSpec& m, int max_len) {
  MemoryPlan p;
  if (!validate(m).is_ok() || !is_looped_block(m) || max_len < 1 || max_len > kMaxInferLen) return p;
  Arena dry;
  take_buffers(dry, m, max_len);
  p.params = ParamLayout::make(m).total * sizeof(float);
  p.activations = dry.used() - p.params;
  p.total = dry.used() + Arena::slack();
  return p;
}

Status Inference::init(const ModelSpec& m, int max_len, void* buffer, std::size_t bytes) {
  ready_ = false;
  TINYLOOP_TRY(validate(m));
  if (!is_looped_block(m))
    return Status::fail(Error::unsupported,
                        "inference runs the paper's looped block (width 8, one head, no output projection)");
  if (max_len < 1 || max_len > kMaxInferLen)
    return Status::fail(Error::sequence_too_long, "inference capacity %d is outside 1..%d", max_len, kMaxInferLen);
  const MemoryPlan need = plan(m, max_len);
  Arena arena;
  TINYLOOP_TRY(open_planned_arena(buffer, bytes, need.total, "inference", &arena));
  Buffers b = take_buffers(arena, m, max_len);
  if (arena.overflowed()) return Status::fail(Error::buffer_too_small, "inference buffer overflowed while binding");
  cfg_ = m;
  layout_ = ParamLayout::make(m);
  max_len_ = max_len;
  params_ = b.params;
  x_ = b.x;
  z_ = b.z;
  vel_ = b.vel;
  k_ = b.k;
  v_ = b.v;
  rope_ = b.rope;
  for (std::size_t i = 0; i < layout_.total; ++i) params_[i] = 0;
  ready_ = true;
  return Status::ok();
}

float Inference::alibi_slope() const {
  if (!ready_) return 0.0f;
  return model::alibi_slope(cfg_, Weights<const float>::bind(params_, layout_).rho);
}

Status Inference::load_params(const float* flat, std::size_t count) {
  if (!ready_) return Status::fail(Error::not_initialized, "inference used before a successful init()");
  if (flat == nullptr || count != layout_.total)
    return Status::fail(Error::bad_checkpoint, "parameter array has %zu entries, the model needs %zu", count,
                        layout_.total);
  for (std::size_t i = 0; i < count; ++i) {
    if (!std::isfinite(flat[i]))
      return Status::fail(Error::non_finite, "parameter %zu is not finite", i);
    params_[i] = flat[i];
  }
  return Status::ok();
}

namespace {

// LNf(Z + X): the read-out's input.
void readout_input(const Weights<const float>& w, const float* z, const float* x, float* h) {
  float y[kDim];
  for (int c = 0; c < kDim; ++c) y[c] = z[c] + x[c];
  kernels::layernorm_forward(y, w.lnf_gain, w.lnf_bias, h, (float*)nullptr, (float*)nullptr);
}

// Arg-max class without materialising the logits (any vocabulary size); ties -> lowest.
std::int32_t readout_argmax(const Weights<const float>& w, const float* h, int classes) {
  std::int32_t best = 0;
  float best_value = -INFINITY;
  for (int o = 0; o < classes; ++o) {
    float s = w.bout[o];
    for (int c = 0; c < kDim; ++c) s += h[c] * w.Wout[c * classes + o];
    if (s > best_value) { best_value = s; best = o; }
  }
  return best;
}

// Where row i of loop t (0-based) of the requested attention goes; nullptr when not asked.
inline float* attention_row(const InferOutputs& out, int t, int len, int i) {
  if (!out.attention) return nullptr;
  if (out.attention_loop > 0)
    return out.attention_loop == t + 1 ? out.attention + std::size_t(i) * std::size_t(len) : nullptr;
  return out.attention + (std::size_t(t) * std::size_t(len) + std::size_t(i)) * std::size_t(len);
}

// softmax(q K^T / sqrt d - slope |i - j|) over keys 0..count-1 into row[0..len) (masked keys
// 0). Keys are k[c * kstride + j] (transposed) or, with kstride 0, k[j * d + c].
void attention_probs_row(const float* q, const float* k, int kstride, int count, int len, int i, float slope,
                         float* row) {
  const float scale = kernels::inv_sqrt_dim<float>();
  float m = -INFINITY, sum = 0;
  for (int j = 0; j < count; ++j) {
    float s = 0;
    for (int c = 0; c < kDim; ++c) s += q[c] * (kstride ? k[c * kstride + j] : k[j * kDim + c]);
    row[j] = s * scale - slope * float(kernels::alibi_distance(i, j));
    m = std::fmax(m, row[j]);
  }
  for (int j = 0; j < count; ++j) sum += (row[j] = std::exp(row[j] - m));
  for (int j = 0; j < count; ++j) row[j] /= sum;
  for (int j = count; j < len; ++j) row[j] = 0;
}

// What one call of Inference::run reads and writes: the weights, the per-token buffers of the
// engine, the sequence length, the loop's coefficients and the outputs asked for.
struct RunContext {
  const ModelSpec& cfg;
  const Weights<const float>& w;
  float *x, *z, *vel, *k, *v;
  float* rope;  // RoPE angles per position; nullptr without RoPE
  int len;
  float mu, alpha, slope;
  const InferOutputs& out;
};

inline void rotate_at(const RunContext& c, int i, float* v) {
  model::rope_rotate(c.rope + std::size_t(i) * kDim, false, v);
}

// X = the token embeddings (and the RoPE angles); Z and the velocity start at zero.
void embed_tokens(const RunContext& c, const std::int32_t* tokens) {
  for (int i = 0; i < c.len; ++i) {
    if (c.rope) model::rope_angles(i, c.cfg.rope_base, c.rope + std::size_t(i) * kDim);
    float sinusoid[kDim];
    if (uses_sinusoids(c.cfg.positions)) model::sinusoidal_position(i, sinusoid);
    model::embed_token(c.cfg, c.w.E, tokens[i], sinusoid, c.x + i * kDim);
    for (int ch = 0; ch < kDim; ++ch) {
      c.z[i * kDim + ch] = 0;
      if (c.vel) c.vel[i * kDim + ch] = 0;
    }
  }
}

// Z_i += alpha (attention + MLP), plus mu times the previous step on the Hamiltonian loop.
inline void update_state(const RunContext& c, int i, const float* a, const float* mlp) {
  float* z = c.z + i * kDim;
  for (int ch = 0; ch < kDim; ++ch) {
    float step = c.alpha * (a[ch] + mlp[ch]);
    if (c.vel) {
      step += c.mu * c.vel[i * kDim + ch];
      c.vel[i * kDim + ch] = step;
    }
    z[ch] += step;
  }
}

#if TINYLOOP_SIMD
// Keys and values transposed (d x stride) for the streaming SIMD rows; queries go in groups of
// kInferenceQueries that share every key and value load.
using Row = kernels::simd::Vec<kDim>;

// Keys and values of every token from Z_{t-1}, and zeros in the padding columns.
void keys_values(const RunContext& c, int stride) {
  using namespace kernels;
  const Weights<const float>& w = c.w;
  for (int j = 0; j < c.len; ++j) {
    Row y = Row::load(c.z + j * kDim);
    const Row xj = Row::load(c.x + j * kDim);
    for (int k = 0; k < Row::kRegs; ++k) y.r[k] += xj.r[k];
    float h[kDim], kv[2 * kDim];
    token::layernorm(y, w.ln1_gain, w.ln1_bias).store(h);
    token::dense<kDim, kDim>(h, w.Wk, nullptr).store(kv);
    token::dense<kDim, kDim>(h, w.Wv, nullptr).store(kv + kDim);
    if (c.rope) rotate_at(c, j, kv);
    for (int ch = 0; ch < kDim; ++ch) {
      c.k[ch * stride + j] = kv[ch];
      c.v[ch * stride + j] = kv[kDim + ch];
    }
  }
  for (int ch = 0; ch < kDim; ++ch)
    for (int j = c.len; j < stride; ++j) c.k[ch * stride + j] = c.v[ch * stride + j] = 0.0f;
}

// The query of row i (y = Z_i + X_i kept for the residual), and its attention probabilities
// when asked.
inline void query_row(const RunContext& c, int t, int i, int stride, float* y, float* q) {
  using namespace kernels;
  Row yr = Row::load(c.z + i * kDim);
  const Row xr = Row::load(c.x + i * kDim);
  for (int k = 0; k < Row::kRegs; ++k) yr.r[k] += xr.r[k];
  yr.store(y);
  float h[kDim];
  token::layernorm(yr, c.w.ln1_gain, c.w.ln1_bias).store(h);
  token::dense<kDim, kDim>(h, c.w.Wq, nullptr).store(q);
  if (c.rope) rotate_at(c, i, q);
  if (float* P = attention_row(c.out, t, c.len, i))
    attention_probs_row(q, c.k, stride, c.cfg.causal ? i + 1 : c.len, c.len, i, c.slope, P);
}

// The MLP on y + a, then the update of Z_i.
inline void mlp_update(const RunContext& c, int i, const float* y, const float* a) {
  using namespace kernels;
  const Weights<const float>& w = c.w;
  Row u = Row::load(y);
  const Row ar = Row::load(a);
  for (int k = 0; k < Row::kRegs; ++k) u.r[k] += ar.r[k];
  float h[kDim], g[kHidden], act[kHidden], mlp[kDim];
  token::layernorm(u, w.ln2_gain, w.ln2_bias).store(h);
  token::dense<kDim, kHidden>(h, w.W1, w.b1).store(g);
  Kernels::gelu_row<kHidden>(g, act, (float*)nullptr);
  token::dense<kHidden, kDim>(act, w.W2, w.b2).store(mlp);
  update_state(c, i, a, mlp);
}

// The attention of `rows` queries (at most kInferenceQueries) sharing their key loads.
void attention_rows(const RunContext& c, int rows, const float* const* q, int stride, const int* count,
                    float* const* out, const int* row) {
  using namespace kernels;
  static_assert(kInferenceQueries == 4, "one case per group size below");
  switch (rows) {
    case 4: attention_rows_online_simd<4>(q, c.k, c.v, stride, count, out, row, c.slope); break;
    case 3: attention_rows_online_simd<3>(q, c.k, c.v, stride, count, out, row, c.slope); break;
    case 2: attention_rows_online_simd<2>(q, c.k, c.v, stride, count, out, row, c.slope); break;
    default: attention_rows_online_simd<1>(q, c.k, c.v, stride, count, out, row, c.slope); break;
  }
}

// One loop over the sequence: keys and values from Z_{t-1}, then each group of queries updates
// its own Z in place.
void run_loop(const RunContext& c, int t) {
  using namespace kernels;
  constexpr int G = kInferenceQueries;
  const int len = c.len, stride = int(padded_len(len));
  keys_values(c, stride);
  for (int i = 0; i < len; i += G) {
    const int rows = i + G <= len ? G : len - i;
    float y[G][kDim], q[G][kDim], a[G][kDim];
    const float* qs[G];
    float* out[G];
    int count[G], row[G];
    for (int r = 0; r < rows; ++r) {
      query_row(c, t, i + r, stride, y[r], q[r]);
      qs[r] = q[r];
      out[r] = a[r];
      count[r] = c.cfg.causal ? i + r + 1 : len;
      row[r] = i + r;
    }
    attention_rows(c, rows, qs, stride, count, out, row);
    for (int r = 0; r < rows; ++r) mlp_update(c, i + r, y[r], a[r]);
  }
}
#else
// One loop over the sequence (scalar kernels, n x d keys and values): keys and values from
// Z_{t-1}, then each query updates its own Z in place.
void run_loop(const RunContext& c, int t) {
  using namespace kernels;
  const Weights<const float>& w = c.w;
  const int len = c.len;
  for (int j = 0; j < len; ++j) {
    float y[kDim], h[kDim];
    for (int ch = 0; ch < kDim; ++ch) y[ch] = c.z[j * kDim + ch] + c.x[j * kDim + ch];
    layernorm_forward(y, w.ln1_gain, w.ln1_bias, h, (float*)nullptr, (float*)nullptr);
    Kernels::dense_forward<kDim, kDim>(h, w.Wk, (const float*)nullptr, c.k + j * kDim);
    Kernels::dense_forward<kDim, kDim>(h, w.Wv, (const float*)nullptr, c.v + j * kDim);
    if (c.rope) rotate_at(c, j, c.k + j * kDim);
  }
  for (int i = 0; i < len; ++i) {
    float y[kDim], h[kDim], q[kDim], a[kDim], u[kDim], g[kHidden], act[kHidden], mlp[kDim];
    for (int ch = 0; ch < kDim; ++ch) y[ch] = c.z[i * kDim + ch] + c.x[i * kDim + ch];
    layernorm_forward(y, w.ln1_gain, w.ln1_bias, h, (float*)nullptr, (float*)nullptr);
    Kernels::dense_forward<kDim, kDim>(h, w.Wq, (const float*)nullptr, q);
    if (c.rope) rotate_at(c, i, q);
    if (float* P = attention_row(c.out, t, len, i))
      attention_probs_row(q, c.k, 0, c.cfg.causal ? i + 1 : len, len, i, c.slope, P);
    attention_row_online(q, c.k, c.v, c.cfg.causal ? i + 1 : len, a, i, c.slope);
    for (int ch = 0; ch < kDim; ++ch) u[ch] = y[ch] + a[ch];
    layernorm_forward(u, w.ln2_gain, w.ln2_bias, h, (float*)nullptr, (float*)nullptr);
    Kernels::dense_forward<kDim, kHidden>(h, w.W1, w.b1, g);
    Kernels::gelu_row<kHidden>(g, act, (float*)nullptr);
    Kernels::dense_forward<kHidden, kDim>(act, w.W2, w.b2, mlp);
    update_state(c, i, a, mlp);
  }
}
#endif

// The arg-max class of every position after loop t (0-based), when asked for.
void per_loop_readout(const RunContext& c, int t) {
  if (!c.out.per_loop_predictions) return;
  std::int32_t* pred = c.out.per_loop_predictions + std::size_t(t) * c.len;
  for (int i = 0; i < c.len; ++i) {
    float h[kDim];
    readout_input(c.w, c.z + i * kDim, c.x + i * kDim, h);
    pred[i] = readout_argmax(c.w, h, c.cfg.out_dim);
  }
}

// The logits and predictions after the last loop, as asked for.
void final_readout(const RunContext& c) {
  const int V = c.cfg.out_dim;
  for (int i = 0; i < c.len; ++i) {
    float h[kDim];
    readout_input(c.w, c.z + i * kDim, c.x + i * kDim, h);
    if (c.out.logits) kernels::dense_forward_n<kDim>(h, c.w.Wout, c.w.bout, c.out.logits + std::size_t(i) * V, V);
    if (c.out.predictions) c.out.predictions[i] = readout_argmax(c.w, h, V);
  }
}

}  // namespace

Status Inference::run(const std::int32_t* tokens, int len, const InferOutputs& out) {
  if (!ready_) return Status::fail(Error::not_initialized, "inference used before a successful init()");
  if (tokens == nullptr || len < 1) return Status::fail(Error::bad_config, "inference needs at least one token");
  if (len > max_len_)
    return Status::fail(Error::sequence_too_long, "sequence of %d tokens exceeds the planned capacity of %d", len,
                        max_len_);
  for (int i = 0; i < len; ++i)
    if (tokens[i] < 0 || tokens[i] >= cfg_.vocab_in)
      return Status::fail(Error::token_out_of_range, "token %d at position %d is outside the vocabulary [0, %d)",
                          int(tokens[i]), i, cfg_.vocab_in);
  if (out.attention && (out.attention_loop < 0 || out.attention_loop > cfg_.layers))
    return Status::fail(Error::bad_config, "attention loop %d is outside 1..%d (0: every loop)", out.attention_loop,
                        cfg_.layers);

  const auto w = Weights<const float>::bind(params_, layout_);
  const auto coef = model::LoopCoefficients::of(cfg_);
  const RunContext c{cfg_, w, x_, z_, vel_, k_, v_, rope_, len, float(coef.mu), float(coef.alpha),
                     model::alibi_slope(cfg_, w.rho), out};
  embed_tokens(c, tokens);
  for (int t = 0; t < cfg_.layers; ++t) {
    run_loop(c, t);
    per_loop_readout(c, t);
  }
  final_readout(c);
  return Status::ok();
}

}  // namespace tinyloop
