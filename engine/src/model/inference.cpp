#include "tinyloop/inference.hpp"

#include <cmath>

#include "kernels/attention.hpp"
#include "kernels/attention_online_simd.hpp"
#include "kernels/dense.hpp"
#include "kernels/dense_simd.hpp"
#include "kernels/gelu.hpp"
#include "kernels/layernorm.hpp"
#include "kernels/token_simd.hpp"
#include "model/looped_block.hpp"
#include "model/positions.hpp"
#include "tinyloop/arena.hpp"

namespace tinyloop {

namespace {

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

Buffers take_buffers(Arena& a, const ModelConfig& m, int max_len) {
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

MemoryPlan Inference::plan(const ModelConfig& m, int max_len) {
  MemoryPlan p;
  if (!validate(m).is_ok() || max_len < 1 || max_len > kMaxInferLen) return p;
  Arena dry;
  take_buffers(dry, m, max_len);
  p.params = ParamLayout::make(m).total * sizeof(float);
  p.activations = dry.used() - p.params;
  p.total = dry.used() + Arena::slack();
  return p;
}

Status Inference::init(const ModelConfig& m, int max_len, void* buffer, std::size_t bytes) {
  ready_ = false;
  TINYLOOP_TRY(validate(m));
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

}  // namespace

Status Inference::run(const std::int32_t* tokens, int len, const InferOutputs& out) {
  using namespace kernels;
  if (!ready_) return Status::fail(Error::not_initialized, "inference used before a successful init()");
  if (tokens == nullptr || len < 1) return Status::fail(Error::bad_config, "inference needs at least one token");
  if (len > max_len_)
    return Status::fail(Error::sequence_too_long, "sequence of %d tokens exceeds the planned capacity of %d", len,
                        max_len_);
  for (int i = 0; i < len; ++i)
    if (tokens[i] < 0 || tokens[i] >= cfg_.vocab_in)
      return Status::fail(Error::token_out_of_range, "token %d at position %d is outside the vocabulary [0, %d)",
                          int(tokens[i]), i, cfg_.vocab_in);
  if (out.attention && (out.attention_loop < 0 || out.attention_loop > cfg_.loops))
    return Status::fail(Error::bad_config, "attention loop %d is outside 1..%d (0: every loop)", out.attention_loop,
                        cfg_.loops);

  const auto w = Weights<const float>::bind(params_, layout_);
  const auto coef = model::LoopCoefficients::of(cfg_);
  const float mu = float(coef.mu), alpha = float(coef.alpha);
  const int D = kDim, V = cfg_.vocab_out;
  const float slope = model::alibi_slope(cfg_, w.rho);
  const bool rope = rope_ != nullptr;
  auto rotate_at = [&](int i, float* v) { model::rope_rotate(rope_ + std::size_t(i) * D, false, v); };
  for (int i = 0; i < len; ++i) {
    if (rope) model::rope_angles(i, cfg_.rope_base, rope_ + std::size_t(i) * D);
    model::embed_token(cfg_, w.E, tokens[i], i, x_ + i * D);
    for (int c = 0; c < D; ++c) {
      z_[i * D + c] = 0;
      if (vel_) vel_[i * D + c] = 0;
    }
  }
#if TINYLOOP_SIMD
  // Keys and values transposed (d x stride) for the streaming SIMD rows; queries go in pairs
  // that share every key and value load.
  using Row = simd::Vec<kDim>;
  const int stride = int(padded_len(len));
  for (int t = 0; t < cfg_.loops; ++t) {
    // Keys and values of every token come from Z_{t-1}; then each query updates its own Z in place.
    for (int j = 0; j < len; ++j) {
      Row y = Row::load(z_ + j * D);
      const Row xj = Row::load(x_ + j * D);
      for (int k = 0; k < Row::kRegs; ++k) y.r[k] += xj.r[k];
      float h[kDim], kv[2 * kDim];
      token::layernorm(y, w.ln1_gain, w.ln1_bias).store(h);
      token::dense<kDim, kDim>(h, w.Wk, nullptr).store(kv);
      token::dense<kDim, kDim>(h, w.Wv, nullptr).store(kv + kDim);
      if (rope) rotate_at(j, kv);
      for (int c = 0; c < D; ++c) {
        k_[c * stride + j] = kv[c];
        v_[c * stride + j] = kv[kDim + c];
      }
    }
    for (int c = 0; c < D; ++c)
      for (int j = len; j < stride; ++j) k_[c * stride + j] = v_[c * stride + j] = 0.0f;
    for (int i = 0; i < len; i += 2) {
      const int rows = i + 1 < len ? 2 : 1;
      float y[2][kDim], q[2][kDim], a[2][kDim];
      for (int r = 0; r < rows; ++r) {
        Row yr = Row::load(z_ + (i + r) * D);
        const Row xr = Row::load(x_ + (i + r) * D);
        for (int k = 0; k < Row::kRegs; ++k) yr.r[k] += xr.r[k];
        yr.store(y[r]);
        float h[kDim];
        token::layernorm(yr, w.ln1_gain, w.ln1_bias).store(h);
        token::dense<kDim, kDim>(h, w.Wq, nullptr).store(q[r]);
        if (rope) rotate_at(i + r, q[r]);
        if (float* P = attention_row(out, t, len, i + r))
          attention_probs_row(q[r], k_, stride, cfg_.causal ? i + r + 1 : len, len, i + r, slope, P);
      }
      const int count0 = cfg_.causal ? i + 1 : len;
      if (rows == 2)
        attention_rows2_online_simd(q[0], q[1], k_, v_, stride, count0, cfg_.causal ? i + 2 : len, a[0], a[1], i,
                                    i + 1, slope);
      else
        attention_row_online_simd(q[0], k_, v_, stride, count0, a[0], i, slope);
      for (int r = 0; r < rows; ++r) {
        float* z = z_ + (i + r) * D;
        Row u = Row::load(y[r]);
        const Row ar = Row::load(a[r]);
        for (int k = 0; k < Row::kRegs; ++k) u.r[k] += ar.r[k];
        float h[kDim], g[kHidden], act[kHidden], mlp[kDim];
        token::layernorm(u, w.ln2_gain, w.ln2_bias).store(h);
        token::dense<kDim, kHidden>(h, w.W1, w.b1).store(g);
        gelu_row<kHidden>(g, act, (float*)nullptr);
        token::dense<kHidden, kDim>(act, w.W2, w.b2).store(mlp);
        for (int c = 0; c < D; ++c) {
          float step = alpha * (a[r][c] + mlp[c]);
          if (vel_) {
            step += mu * vel_[(i + r) * D + c];
            vel_[(i + r) * D + c] = step;
          }
          z[c] += step;
        }
      }
    }
#else
  for (int t = 0; t < cfg_.loops; ++t) {
    // Keys and values of every token come from Z_{t-1}; then each query updates its own Z in place.
    for (int j = 0; j < len; ++j) {
      float y[kDim], h[kDim];
      for (int c = 0; c < D; ++c) y[c] = z_[j * D + c] + x_[j * D + c];
      layernorm_forward(y, w.ln1_gain, w.ln1_bias, h, (float*)nullptr, (float*)nullptr);
      dense_forward<kDim, kDim>(h, w.Wk, (const float*)nullptr, k_ + j * D);
      dense_forward<kDim, kDim>(h, w.Wv, (const float*)nullptr, v_ + j * D);
      if (rope) rotate_at(j, k_ + j * D);
    }
    for (int i = 0; i < len; ++i) {
      float y[kDim], h[kDim], q[kDim], a[kDim], u[kDim], g[kHidden], act[kHidden], mlp[kDim];
      float* z = z_ + i * D;
      for (int c = 0; c < D; ++c) y[c] = z[c] + x_[i * D + c];
      layernorm_forward(y, w.ln1_gain, w.ln1_bias, h, (float*)nullptr, (float*)nullptr);
      dense_forward<kDim, kDim>(h, w.Wq, (const float*)nullptr, q);
      if (rope) rotate_at(i, q);
      if (float* P = attention_row(out, t, len, i))
        attention_probs_row(q, k_, 0, cfg_.causal ? i + 1 : len, len, i, slope, P);
      attention_row_online(q, k_, v_, cfg_.causal ? i + 1 : len, a, i, slope);
      for (int c = 0; c < D; ++c) u[c] = y[c] + a[c];
      layernorm_forward(u, w.ln2_gain, w.ln2_bias, h, (float*)nullptr, (float*)nullptr);
      dense_forward<kDim, kHidden>(h, w.W1, w.b1, g);
      gelu_row<kHidden>(g, act, (float*)nullptr);
      dense_forward<kHidden, kDim>(act, w.W2, w.b2, mlp);
      for (int c = 0; c < D; ++c) {
        float step = alpha * (a[c] + mlp[c]);
        if (vel_) {
          step += mu * vel_[i * D + c];
          vel_[i * D + c] = step;
        }
        z[c] += step;
      }
    }
#endif
    if (out.per_loop_predictions) {
      std::int32_t* pred = out.per_loop_predictions + std::size_t(t) * len;
      for (int i = 0; i < len; ++i) {
        float h[kDim];
        readout_input(w, z_ + i * D, x_ + i * D, h);
        pred[i] = readout_argmax(w, h, V);
      }
    }
  }
  for (int i = 0; i < len; ++i) {
    float h[kDim];
    readout_input(w, z_ + i * D, x_ + i * D, h);
    if (out.logits) kernels::dense_forward_n<kDim>(h, w.Wout, w.bout, out.logits + std::size_t(i) * V, V);
    if (out.predictions) out.predictions[i] = readout_argmax(w, h, V);
  }
  return Status::ok();
}

}  // namespace tinyloop
