// The model family (tinyloop/family.hpp): layout, planner, forward, hand-written backward,
// loss and AdamW step. Per-sequence work runs as independent tasks; their gradients are summed
// in sequence order, so results do not depend on the thread count.
#include "tinyloop/family.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "kernels/attention.hpp"
#include "kernels/generic.hpp"
#include "kernels/gelu.hpp"
#include "loss/cross_entropy.hpp"
#include "model/positions.hpp"
#include "optim/adamw.hpp"
#include "optim/gradient_slots.hpp"
#include "tinyloop/arena.hpp"

namespace tinyloop::family {

namespace {
constexpr std::size_t round8(std::size_t n) { return (n + 7) / 8 * 8; }
constexpr int kMaxWidth = 4096;
constexpr int kMaxLoopsLooped = 10000;
}  // namespace

Status validate(const FamilyConfig& c) {
  const int max_layers = c.looped ? kMaxLoopsLooped : kMaxFamilyBlocks;
  if (c.layers < 1 || c.layers > max_layers)
    return Status::fail(Error::bad_config, "layers must be in [1, %d], got %d", max_layers, c.layers);
  if (c.width < 1 || c.width > kMaxWidth)
    return Status::fail(Error::bad_config, "width must be in [1, %d], got %d", kMaxWidth, c.width);
  if (c.heads < 1 || c.heads > c.width * 4)
    return Status::fail(Error::bad_config, "heads must be in [1, %d], got %d", c.width * 4, c.heads);
  if (c.head_dim < 0 || c.head_dim > kMaxWidth) return Status::fail(Error::bad_config, "head_dim out of range");
  if (c.head_width() < 1) return Status::fail(Error::bad_config, "width %d gives heads of width 0", c.width);
  if (c.head_dim == 0 && c.width % c.heads != 0)
    return Status::fail(Error::bad_config, "width %d is not divisible by %d heads (set head_dim)", c.width, c.heads);
  if (!c.out_proj && c.heads * c.head_width() != c.width)
    return Status::fail(Error::bad_config, "without out_proj heads * head_dim (%d) must equal width (%d)",
                        c.heads * c.head_width(), c.width);
  if (c.hidden < 0 || c.hidden > 4 * kMaxWidth) return Status::fail(Error::bad_config, "hidden out of range");
  if (c.attention != AttentionKind::softmax && c.attention != AttentionKind::linear)
    return Status::fail(Error::bad_config, "unknown attention kind %d", int(c.attention));
  if (!std::isfinite(c.attn_scale) || c.attn_scale < 0)
    return Status::fail(Error::bad_config, "attn_scale must be finite and >= 0");
  if (int(c.positions) > int(Positions::rope))
    return Status::fail(Error::bad_config, "unknown position kind %d", int(c.positions));
  if (!std::isfinite(c.pe_scale)) return Status::fail(Error::bad_config, "pe_scale must be finite");
  if (!std::isfinite(c.alibi_rho) || c.alibi_rho < -30.0f || c.alibi_rho > 30.0f)
    return Status::fail(Error::bad_config, "alibi_rho must be in [-30, 30], got %g", double(c.alibi_rho));
  if (!(c.rope_base > 1.0f) || !std::isfinite(c.rope_base))
    return Status::fail(Error::bad_config, "rope_base must be > 1, got %g", double(c.rope_base));
  if ((uses_alibi(c.positions) || uses_rope(c.positions)) && c.attention != AttentionKind::softmax)
    return Status::fail(Error::bad_config, "ALiBi and RoPE positions need softmax attention, not linear");
  if (uses_rope(c.positions) && c.head_width() % 2 != 0)
    return Status::fail(Error::bad_config, "RoPE rotates pairs: the head width must be even, got %d", c.head_width());
  if (c.max_len < 1 || c.max_len > (1 << 20)) return Status::fail(Error::bad_config, "max_len out of range");
  if (c.input == InputKind::tokens) {
    if (c.vocab_in < 1 || c.vocab_in > (1 << 20)) return Status::fail(Error::bad_config, "vocab_in out of range");
  } else if (c.input == InputKind::vectors) {
    if (c.in_dim < 1 || c.in_dim > kMaxWidth) return Status::fail(Error::bad_config, "in_dim out of range");
    if (!c.input_proj && c.in_dim != c.width)
      return Status::fail(Error::bad_config, "vector inputs without input_proj need in_dim (%d) = width (%d)",
                          c.in_dim, c.width);
  } else {
    return Status::fail(Error::bad_config, "unknown input kind %d", int(c.input));
  }
  if (c.output == OutputKind::classes) {
    if (c.out_dim < 2 || c.out_dim > (1 << 20)) return Status::fail(Error::bad_config, "classes must be >= 2");
  } else if (c.output == OutputKind::regression) {
    if (c.out_dim < 1 || c.out_dim > kMaxWidth) return Status::fail(Error::bad_config, "out_dim out of range");
  } else {
    return Status::fail(Error::bad_config, "unknown output kind %d", int(c.output));
  }
  return Status::ok();
}

FamilyLayout FamilyLayout::make(const FamilyConfig& c) {
  FamilyLayout l;
  const int d = c.width, F = c.heads * c.head_width(), H = c.hidden_width();
  std::size_t offset = 0;
  auto add = [&](const char* name, int rows, int cols) {
    FamilyTensor& t = l.tensors[l.count++];
    std::snprintf(t.name, sizeof t.name, "%s", name);
    t.rows = rows;
    t.cols = cols;
    t.offset = offset;
    offset += round8(t.size());
    return t.offset;
  };
  l.E = l.pos = l.Win = l.bin = l.lnf_g = l.lnf_b = l.Wout = l.bout = kAbsent;
  if (c.input == InputKind::tokens) l.E = add("E", c.vocab_in, d);
  if (c.input == InputKind::vectors && c.input_proj) {
    l.Win = add("Win", c.in_dim, d);
    l.bin = add("bin", 1, d);
  }
  if (c.positions == Positions::learned) l.pos = add("pos", c.max_len, d);
  char name[24];
  for (int b = 0; b < c.blocks() && b < kMaxFamilyBlocks; ++b) {
    Block& k = l.block[b];
    k = Block{kAbsent, kAbsent, kAbsent, kAbsent, kAbsent, kAbsent, kAbsent,
              kAbsent, kAbsent, kAbsent, kAbsent, kAbsent, kAbsent};
    auto nm = [&](const char* role) {
      std::snprintf(name, sizeof name, "L%d.%s", b, role);
      return name;
    };
    if (c.layernorm) {
      k.ln1_g = add(nm("ln1.gain"), 1, d);
      k.ln1_b = add(nm("ln1.bias"), 1, d);
    }
    k.Wq = add(nm("Wq"), d, F);
    k.Wk = add(nm("Wk"), d, F);
    k.Wv = add(nm("Wv"), d, F);
    if (c.out_proj) k.Wo = add(nm("Wo"), F, d);
    if (uses_alibi(c.positions)) k.rho = add(nm("rho"), 1, c.heads);
    if (c.mlp) {
      if (c.layernorm) {
        k.ln2_g = add(nm("ln2.gain"), 1, d);
        k.ln2_b = add(nm("ln2.bias"), 1, d);
      }
      k.W1 = add(nm("W1"), d, H);
      k.b1 = add(nm("b1"), 1, H);
      k.W2 = add(nm("W2"), H, d);
      k.b2 = add(nm("b2"), 1, d);
    }
  }
  if (c.layernorm) {
    l.lnf_g = add("lnf.gain", 1, d);
    l.lnf_b = add("lnf.bias", 1, d);
  }
  l.Wout = add("Wout", d, c.out_dim);
  if (c.readout_bias) l.bout = add("bout", 1, c.out_dim);
  l.total = offset;
  return l;
}

int FamilyLayout::find(const char* name) const {
  for (int i = 0; i < count; ++i)
    if (std::strcmp(tensors[i].name, name) == 0) return i;
  return -1;
}

namespace {

// What one sequence's forward saves (capacity strides; rows indexed with the actual n).
template <class T>
struct FTape {
  T* ys;     // (L+1) x N x d: the stream entering each layer, and the final one
  T* xhat1;  // L x N x d
  T* rstd1;  // L x N
  T* h1;     // L x N x d  (LN1 output)
  T* q; T* k; T* v;  // L x N x F
  T* P;      // L x heads x N x N
  T* c;      // L x N x F  concatenated head outputs
  T* u;      // L x N x d  after the attention residual
  T* xhat2; T* rstd2; T* h2;  // L x N x d, L x N, L x N x d
  T* act; T* dact;            // L x N x hidden
  T* xhatf; T* rstdf; T* hf;  // N x d, N, N x d
  T* out;                     // N x out_dim
};

template <class T>
struct FScratch {
  T* dx; T* dy; T* du; T* dh;  // N x d
  T* dq; T* dk; T* dv; T* dc;  // N x F
  T* dp;                       // N
  T* dg;                       // N x hidden
  T* dout;                     // N x out_dim
  T* rope;                     // N x head_dim: the RoPE table of each position (RoPE only)
};

struct Dims {
  int L, N, d, F, H, heads, dh, O;
  static Dims of(const FamilyConfig& c, int max_len) {
    return Dims{c.layers, max_len, c.width, c.heads * c.head_width(), c.hidden_width(), c.heads, c.head_width(),
                c.out_dim};
  }
};

template <class T>
FTape<T> take_tape(Arena& a, const FamilyConfig& c, const Dims& m) {
  const std::size_t L = m.L, N = m.N, d = m.d, F = m.F, H = m.H;
  FTape<T> t{};
  t.ys = a.take<T>((L + 1) * N * d);
  if (c.layernorm) {
    t.xhat1 = a.take<T>(L * N * d);
    t.rstd1 = a.take<T>(L * N);
    t.h1 = a.take<T>(L * N * d);
  }
  t.q = a.take<T>(L * N * F);
  t.k = a.take<T>(L * N * F);
  t.v = a.take<T>(L * N * F);
  t.P = a.take<T>(L * std::size_t(m.heads) * N * N);
  t.c = a.take<T>(L * N * F);
  t.u = a.take<T>(L * N * d);
  if (c.mlp) {
    if (c.layernorm) {
      t.xhat2 = a.take<T>(L * N * d);
      t.rstd2 = a.take<T>(L * N);
      t.h2 = a.take<T>(L * N * d);
    }
    t.act = a.take<T>(L * N * H);
    t.dact = a.take<T>(L * N * H);
  }
  if (c.layernorm) {
    t.xhatf = a.take<T>(N * d);
    t.rstdf = a.take<T>(N);
    t.hf = a.take<T>(N * d);
  }
  t.out = a.take<T>(N * std::size_t(m.O));
  return t;
}

template <class T>
FScratch<T> take_scratch(Arena& a, const FamilyConfig& c, const Dims& m) {
  const std::size_t N = m.N, d = m.d, F = m.F;
  FScratch<T> s{};
  s.dx = a.take<T>(N * d);
  s.dy = a.take<T>(N * d);
  s.du = a.take<T>(N * d);
  s.dh = a.take<T>(N * d);
  s.dq = a.take<T>(N * F);
  s.dk = a.take<T>(N * F);
  s.dv = a.take<T>(N * F);
  s.dc = a.take<T>(N * F);
  s.dp = a.take<T>(N);
  s.dg = a.take<T>(N * std::size_t(m.H));
  s.dout = a.take<T>(N * std::size_t(m.O));
  if (uses_rope(c.positions)) s.rope = a.take<T>(N * std::size_t(m.dh));
  return s;
}

template <class T>
inline void zero(T* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) p[i] = T(0);
}

// Rotates the query or key pairs of every head of one row (heads x dh) by position's RoPE
// table; `inverse` applies the transpose.
template <class T>
void rope_row(const T* table, int heads, int dh, bool inverse, T* row) {
  for (int hd = 0; hd < heads; ++hd) model::rope_rotate(table, inverse, row + std::size_t(hd) * dh, dh);
}

}  // namespace

template <class T>
struct FamilyModel<T>::State {
  FTape<T>* tapes;       // max_batch
  FScratch<T>* scratch;  // workers
  T* seq_grads;          // max_batch x param_count
  double* seq_loss;      // max_batch
  long* seq_correct;     // max_batch
  int last_len;
};

namespace {

template <class T>
typename FamilyModel<T>::State* bind(Arena& a, const FamilyConfig& c, const FamilyCapacity& cap,
                                     const FamilyLayout& layout, T** params, T** grads, T** m, T** v,
                                     MemoryPlan* plan) {
  using State = typename FamilyModel<T>::State;
  const Dims dims = Dims::of(c, cap.max_len);
  const std::size_t P = layout.total, B = std::size_t(cap.max_batch);
  const optim::ParameterBlocks<T> blocks = optim::take_parameter_blocks<T>(a, P, B, plan);
  *params = blocks.params;
  *grads = blocks.grads;
  *m = blocks.m;
  *v = blocks.v;
  T* seq_grads = blocks.seq_grads;
  std::size_t mark = a.used();
  State* st = a.take<State>(1);
  auto* tapes = a.take<FTape<T>>(B);
  auto* scratch = a.take<FScratch<T>>(std::size_t(cap.workers));
  double* seq_loss = a.take<double>(B);
  long* seq_correct = a.take<long>(B);
  const std::size_t bookkeeping = a.used() - mark;
  mark = a.used();
  for (std::size_t b = 0; b < B; ++b) {
    auto t = take_tape<T>(a, c, dims);
    if (tapes) tapes[b] = t;
  }
  plan->activations = a.used() - mark;
  mark = a.used();
  for (int w = 0; w < cap.workers; ++w) {
    auto s = take_scratch<T>(a, c, dims);
    if (scratch) scratch[w] = s;
  }
  plan->scratch = a.used() - mark + bookkeeping;
  plan->total = a.used() + Arena::slack();
  if (st) *st = State{tapes, scratch, seq_grads, seq_loss, seq_correct, 0};
  return st;
}

Status check_capacity(const FamilyConfig& c, const FamilyCapacity& cap) {
  TINYLOOP_TRY(validate(c));
  if (cap.max_len < 1 || cap.max_len > (1 << 16) || cap.max_batch < 1 || cap.max_batch > (1 << 16) ||
      cap.workers < 1 || cap.workers > 1024)
    return Status::fail(Error::bad_config, "capacity out of range (len %d, batch %d, workers %d)", cap.max_len,
                        cap.max_batch, cap.workers);
  if (c.positions == Positions::learned && cap.max_len > c.max_len)
    return Status::fail(Error::bad_config, "capacity length %d exceeds the %d learned positions", cap.max_len,
                        c.max_len);
  return Status::ok();
}

template <class T>
struct SeqContext {
  const FamilyConfig* cfg;
  const FamilyLayout* layout;
  typename FamilyModel<T>::State* st;
  const T* params;
  const FamilyBatch<T>* batch;
  bool backward;
  double count;  // counted positions in the batch
};

template <class T>
bool counted(const FamilyBatch<T>& b, std::size_t idx) {
  if (b.mask && b.mask[idx] == 0) return false;
  if (b.labels && b.labels[idx] < 0) return false;
  return true;
}

template <class T>
void sequence_task(const SeqContext<T>& cx, int b, int worker) {
  using namespace kernels::generic;
  const FamilyConfig& c = *cx.cfg;
  const FamilyLayout& lay = *cx.layout;
  const FamilyBatch<T>& batch = *cx.batch;
  const FTape<T>& t = cx.st->tapes[b];
  const FScratch<T>& s = cx.st->scratch[worker];
  const T* W = cx.params;
  const int n = batch.len, d = c.width, F = c.heads * c.head_width(), H = c.hidden_width(), O = c.out_dim;
  const int dh = c.head_width(), L = c.layers;
  const std::size_t N = std::size_t(n);  // rows are packed with the actual length
  const std::size_t base = std::size_t(b) * N;
  const bool softmax = c.attention == AttentionKind::softmax;
  const bool alibi = uses_alibi(c.positions), rope = uses_rope(c.positions);
  const T scale = T(c.attn_scale > 0 ? double(c.attn_scale) : 1.0 / std::sqrt(double(dh)));
  auto blk = [&](int l) -> const FamilyLayout::Block& { return lay.block[c.looped ? 0 : l]; };
  auto at = [&](int l, T* p, std::size_t per) { return p + std::size_t(l) * per; };

  // ---- embedding
  T* x0 = t.ys;
  for (int i = 0; i < n; ++i) {
    T* x = x0 + std::size_t(i) * d;
    if (c.input == InputKind::tokens) {
      const T* e = W + lay.E + std::size_t(batch.tokens[base + i]) * d;
      for (int k = 0; k < d; ++k) x[k] = e[k];
    } else if (c.input_proj) {
      dense_rows(batch.inputs + (base + i) * c.in_dim, 1, c.in_dim, W + lay.Win, W + lay.bin, d, x);
    } else {
      for (int k = 0; k < d; ++k) x[k] = batch.inputs[(base + i) * c.in_dim + k];
    }
    if (uses_sinusoids(c.positions)) {
      for (int k = 0; k < d; ++k) {
        const int k2 = k - (k % 2);
        const double angle = double(i) / std::pow(10000.0, double(k2) / double(d));
        x[k] += T(c.pe_scale) * T(k % 2 == 0 ? std::sin(angle) : std::cos(angle));
      }
    } else if (c.positions == Positions::learned) {
      const T* p = W + lay.pos + std::size_t(i) * d;
      for (int k = 0; k < d; ++k) x[k] += p[k];
    }
  }

  if (rope)
    for (int i = 0; i < n; ++i) model::rope_angles(i, c.rope_base, s.rope + std::size_t(i) * dh, dh);

  // ---- layers
  const std::size_t Nd = N * d, NF = N * F, NH = N * std::size_t(H), NN = N * N;
  for (int l = 0; l < L; ++l) {
    const auto& k = blk(l);
    const T* y = at(l, t.ys, Nd);
    const T* h1 = y;
    if (c.layernorm) {
      T* h = at(l, t.h1, Nd);
      for (int i = 0; i < n; ++i)
        layernorm(y + std::size_t(i) * d, d, W + k.ln1_g, W + k.ln1_b, h + std::size_t(i) * d,
                  at(l, t.xhat1, Nd) + std::size_t(i) * d, at(l, t.rstd1, N) + i);
      h1 = h;
    }
    T* q = at(l, t.q, NF); T* kk = at(l, t.k, NF); T* v = at(l, t.v, NF); T* cc = at(l, t.c, NF);
    dense_rows(h1, n, d, W + k.Wq, (const T*)nullptr, F, q);
    dense_rows(h1, n, d, W + k.Wk, (const T*)nullptr, F, kk);
    dense_rows(h1, n, d, W + k.Wv, (const T*)nullptr, F, v);
    if (rope)  // the tape keeps the rotated queries and keys, as attention sees them
      for (int i = 0; i < n; ++i) {
        rope_row(s.rope + std::size_t(i) * dh, c.heads, dh, false, q + std::size_t(i) * F);
        rope_row(s.rope + std::size_t(i) * dh, c.heads, dh, false, kk + std::size_t(i) * F);
      }
    for (int hd = 0; hd < c.heads; ++hd) {
      T* P = t.P + (std::size_t(l) * c.heads + hd) * NN;
      const T slope = alibi ? model::softplus(W[k.rho + hd]) : T(0);
      attention_head(q + hd * dh, kk + hd * dh, v + hd * dh, F, n, dh, c.causal, softmax, scale, P, cc + hd * dh,
                     slope);
    }
    T* u = at(l, t.u, Nd);
    if (c.out_proj) dense_rows(cc, n, F, W + k.Wo, (const T*)nullptr, d, u);
    else for (std::size_t e = 0; e < Nd; ++e) u[e] = cc[e];
    if (c.residual)
      for (std::size_t e = 0; e < Nd; ++e) u[e] += y[e];
    T* next = at(l + 1, t.ys, Nd);
    if (c.mlp) {
      const T* h2 = u;
      if (c.layernorm) {
        T* h = at(l, t.h2, Nd);
        for (int i = 0; i < n; ++i)
          layernorm(u + std::size_t(i) * d, d, W + k.ln2_g, W + k.ln2_b, h + std::size_t(i) * d,
                    at(l, t.xhat2, Nd) + std::size_t(i) * d, at(l, t.rstd2, N) + i);
        h2 = h;
      }
      T* act = at(l, t.act, NH); T* dact = at(l, t.dact, NH);
      dense_rows(h2, n, d, W + k.W1, W + k.b1, H, act);
      for (std::size_t e = 0; e < NH; ++e) kernels::gelu_forward(act[e], act + e, dact + e);
      dense_rows(act, n, H, W + k.W2, W + k.b2, d, next);
      for (std::size_t e = 0; e < Nd; ++e) next[e] += u[e];
    } else {
      for (std::size_t e = 0; e < Nd; ++e) next[e] = u[e];
    }
  }

  // ---- readout and loss
  const T* xL = at(L, t.ys, Nd);
  const T* hf = xL;
  if (c.layernorm) {
    for (int i = 0; i < n; ++i)
      layernorm(xL + std::size_t(i) * d, d, W + lay.lnf_g, W + lay.lnf_b, t.hf + std::size_t(i) * d,
                t.xhatf + std::size_t(i) * d, t.rstdf + i);
    hf = t.hf;
  }
  dense_rows(hf, n, d, W + lay.Wout, lay.bout == kAbsent ? (const T*)nullptr : W + lay.bout, O, t.out);
  double loss = 0;
  long correct = 0;
  const T inv_count = T(cx.count > 0 ? 1.0 / cx.count : 0.0);
  for (int i = 0; i < n; ++i) {
    const std::size_t idx = base + i;
    const T* y = t.out + std::size_t(i) * O;
    T* dy = s.dout + std::size_t(i) * O;
    const bool use = counted(batch, idx);
    if (!use) {
      zero(dy, std::size_t(O));
      continue;
    }
    if (c.output == OutputKind::classes) {
      const int label = batch.labels[idx];
      loss += double(loss::cross_entropy(y, O, label, inv_count, cx.backward ? dy : (T*)nullptr));
      if (loss::argmax(y, O) == label) ++correct;
    } else {
      const T* target = batch.targets + idx * O;
      const T g = T(2) * inv_count / T(O);
      for (int o = 0; o < O; ++o) {
        const T r = y[o] - target[o];
        loss += double(r) * double(r) / double(O);
        dy[o] = g * r;
      }
    }
  }
  cx.st->seq_loss[b] = loss;
  cx.st->seq_correct[b] = correct;
  if (!cx.backward) return;

  // ---- backward
  T* G = cx.st->seq_grads + std::size_t(b) * lay.total;
  zero(G, lay.total);
  zero(s.dx, Nd);
  zero(s.dh, Nd);
  dense_rows_backward(hf, n, d, W + lay.Wout, O, s.dout, G + lay.Wout, lay.bout == kAbsent ? (T*)nullptr : G + lay.bout,
                      s.dh);
  if (c.layernorm) {
    for (int i = 0; i < n; ++i)
      layernorm_backward(s.dh + std::size_t(i) * d, t.xhatf + std::size_t(i) * d, t.rstdf[i], d, W + lay.lnf_g,
                         G + lay.lnf_g, G + lay.lnf_b, s.dx + std::size_t(i) * d);
  } else {
    for (std::size_t e = 0; e < Nd; ++e) s.dx[e] += s.dh[e];
  }
  for (int l = L - 1; l >= 0; --l) {
    const auto& k = blk(l);
    // s.dx: gradient of the stream leaving layer l.
    for (std::size_t e = 0; e < Nd; ++e) s.du[e] = s.dx[e];
    if (c.mlp) {
      const T* u = at(l, t.u, Nd);
      const T* h2 = c.layernorm ? at(l, t.h2, Nd) : u;
      const T* act = at(l, t.act, NH); const T* dact = at(l, t.dact, NH);
      zero(s.dg, NH);
      dense_rows_backward(act, n, H, W + k.W2, d, s.dx, G + k.W2, G + k.b2, s.dg);
      for (std::size_t e = 0; e < NH; ++e) s.dg[e] *= dact[e];
      zero(s.dh, Nd);
      dense_rows_backward(h2, n, d, W + k.W1, H, s.dg, G + k.W1, G + k.b1, s.dh);
      if (c.layernorm) {
        for (int i = 0; i < n; ++i)
          layernorm_backward(s.dh + std::size_t(i) * d, at(l, t.xhat2, Nd) + std::size_t(i) * d, at(l, t.rstd2, N)[i],
                             d, W + k.ln2_g, G + k.ln2_g, G + k.ln2_b, s.du + std::size_t(i) * d);
      } else {
        for (std::size_t e = 0; e < Nd; ++e) s.du[e] += s.dh[e];
      }
    }
    // du: gradient of u = (y) + attention output.
    if (c.residual) for (std::size_t e = 0; e < Nd; ++e) s.dy[e] = s.du[e];
    else zero(s.dy, Nd);
    const T* cc = at(l, t.c, NF);
    if (c.out_proj) {
      zero(s.dc, NF);
      dense_rows_backward(cc, n, F, W + k.Wo, d, s.du, G + k.Wo, (T*)nullptr, s.dc);
    } else {
      for (std::size_t e = 0; e < NF; ++e) s.dc[e] = s.du[e];
    }
    const T* q = at(l, t.q, NF); const T* kk = at(l, t.k, NF); const T* v = at(l, t.v, NF);
    zero(s.dq, NF); zero(s.dk, NF); zero(s.dv, NF);
    for (int hd = 0; hd < c.heads; ++hd) {
      const T* P = t.P + (std::size_t(l) * c.heads + hd) * NN;
      T dslope = 0;
      attention_head_backward(q + hd * dh, kk + hd * dh, v + hd * dh, F, n, dh, c.causal, softmax, scale, P,
                              s.dc + hd * dh, s.dp, s.dq + hd * dh, s.dk + hd * dh, s.dv + hd * dh,
                              alibi ? &dslope : nullptr);
      if (alibi) G[k.rho + hd] += dslope * model::sigmoid(W[k.rho + hd]);  // slope = softplus(rho)
    }
    if (rope)  // back through the rotation: its transpose
      for (int i = 0; i < n; ++i) {
        rope_row(s.rope + std::size_t(i) * dh, c.heads, dh, true, s.dq + std::size_t(i) * F);
        rope_row(s.rope + std::size_t(i) * dh, c.heads, dh, true, s.dk + std::size_t(i) * F);
      }
    const T* y = at(l, t.ys, Nd);
    const T* h1 = c.layernorm ? at(l, t.h1, Nd) : y;
    zero(s.dh, Nd);
    dense_rows_backward(h1, n, d, W + k.Wq, F, s.dq, G + k.Wq, (T*)nullptr, s.dh);
    dense_rows_backward(h1, n, d, W + k.Wk, F, s.dk, G + k.Wk, (T*)nullptr, s.dh);
    dense_rows_backward(h1, n, d, W + k.Wv, F, s.dv, G + k.Wv, (T*)nullptr, s.dh);
    if (c.layernorm) {
      for (int i = 0; i < n; ++i)
        layernorm_backward(s.dh + std::size_t(i) * d, at(l, t.xhat1, Nd) + std::size_t(i) * d, at(l, t.rstd1, N)[i],
                           d, W + k.ln1_g, G + k.ln1_g, G + k.ln1_b, s.dy + std::size_t(i) * d);
    } else {
      for (std::size_t e = 0; e < Nd; ++e) s.dy[e] += s.dh[e];
    }
    for (std::size_t e = 0; e < Nd; ++e) s.dx[e] = s.dy[e];
  }
  // ---- embedding backward
  for (int i = 0; i < n; ++i) {
    const T* g = s.dx + std::size_t(i) * d;
    if (c.input == InputKind::tokens) {
      T* ge = G + lay.E + std::size_t(batch.tokens[base + i]) * d;
      for (int k = 0; k < d; ++k) ge[k] += g[k];
    } else if (c.input_proj) {
      dense_rows_backward(batch.inputs + (base + i) * c.in_dim, 1, c.in_dim, W + lay.Win, d, g, G + lay.Win,
                          G + lay.bin, (T*)nullptr);
    }
    if (c.positions == Positions::learned) {
      T* gp = G + lay.pos + std::size_t(i) * d;
      for (int k = 0; k < d; ++k) gp[k] += g[k];
    }
  }
}

}  // namespace

template <class T>
MemoryPlan FamilyModel<T>::plan(const FamilyConfig& cfg, const FamilyCapacity& cap) {
  MemoryPlan p;
  if (!check_capacity(cfg, cap)) return p;
  const FamilyLayout layout = FamilyLayout::make(cfg);
  Arena dry;
  T *a, *b, *c, *d;
  bind<T>(dry, cfg, cap, layout, &a, &b, &c, &d, &p);
  return p;
}

template <class T>
Status FamilyModel<T>::init(const FamilyConfig& cfg, const OptimConfig& optim, const FamilyCapacity& cap,
                            void* buffer, std::size_t bytes) {
  TINYLOOP_TRY(check_capacity(cfg, cap));
  const MemoryPlan p = plan(cfg, cap);
  Arena arena;
  TINYLOOP_TRY(open_planned_arena(buffer, bytes, p.total, "family model", &arena));
  cfg_ = cfg;
  optim_ = optim;
  cap_ = cap;
  layout_ = FamilyLayout::make(cfg);
  MemoryPlan q;
  State* st = bind<T>(arena, cfg, cap, layout_, &params_, &grads_, &adam_m_, &adam_v_, &q);
  if (st == nullptr || arena.overflowed())
    return Status::fail(Error::buffer_too_small, "family model buffer overflowed its plan");
  for (std::size_t i = 0; i < layout_.total; ++i) params_[i] = grads_[i] = adam_m_[i] = adam_v_[i] = T(0);
  step_ = 0;
  state_ = st;
  pool_ = &serial_;
  return Status::ok();
}

template <class T>
void FamilyModel<T>::set_parallel(ParallelFor* pool) {
  pool_ = (pool != nullptr && pool->workers() <= cap_.workers) ? pool : &serial_;
}

template <class T>
void FamilyModel<T>::init_weights(Rng& rng) {
  const FamilyConfig& c = cfg_;
  const FamilyLayout& l = layout_;
  for (std::size_t i = 0; i < l.total; ++i) params_[i] = adam_m_[i] = adam_v_[i] = T(0);
  auto normal_fill = [&](std::size_t off, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) params_[off + i] = T(normal(rng));
  };
  auto uniform_fill = [&](std::size_t off, std::size_t count, int fan_in) {
    const double bound = 1.0 / std::sqrt(double(fan_in));
    for (std::size_t i = 0; i < count; ++i) params_[off + i] = T((2.0 * rng.uniform01_double() - 1.0) * bound);
  };
  auto ones = [&](std::size_t off, int count) {
    for (int i = 0; i < count; ++i) params_[off + i] = T(1);
  };
  const int d = c.width, F = c.heads * c.head_width(), H = c.hidden_width();
  if (l.E != kAbsent) normal_fill(l.E, std::size_t(c.vocab_in) * d);
  if (l.Win != kAbsent) {
    uniform_fill(l.Win, std::size_t(c.in_dim) * d, c.in_dim);
    uniform_fill(l.bin, std::size_t(d), c.in_dim);
  }
  if (l.pos != kAbsent) normal_fill(l.pos, std::size_t(c.max_len) * d);
  for (int b = 0; b < c.blocks(); ++b) {
    const auto& k = l.block[b];
    if (k.ln1_g != kAbsent) ones(k.ln1_g, d);
    uniform_fill(k.Wq, std::size_t(d) * F, d);
    uniform_fill(k.Wk, std::size_t(d) * F, d);
    uniform_fill(k.Wv, std::size_t(d) * F, d);
    if (k.Wo != kAbsent) uniform_fill(k.Wo, std::size_t(F) * d, F);
    if (k.rho != kAbsent)  // a setting, not a draw
      for (int h = 0; h < c.heads; ++h) params_[k.rho + h] = T(c.alibi_rho);
    if (c.mlp) {
      if (k.ln2_g != kAbsent) ones(k.ln2_g, d);
      uniform_fill(k.W1, std::size_t(d) * H, d);
      uniform_fill(k.b1, std::size_t(H), d);
      uniform_fill(k.W2, std::size_t(H) * d, H);
      uniform_fill(k.b2, std::size_t(d), H);
    }
  }
  if (l.lnf_g != kAbsent) ones(l.lnf_g, d);
  uniform_fill(l.Wout, std::size_t(d) * c.out_dim, d);
  if (l.bout != kAbsent) uniform_fill(l.bout, std::size_t(c.out_dim), d);
  step_ = 0;
}

template <class T>
Status FamilyModel<T>::check(const FamilyBatch<T>& b) const {
  if (state_ == nullptr) return Status::fail(Error::not_initialized, "family model used before a successful init()");
  if (b.batch < 1 || b.batch > cap_.max_batch)
    return Status::fail(Error::batch_too_large, "batch of %d sequences is outside the planned 1..%d", b.batch,
                        cap_.max_batch);
  if (b.len < 1 || b.len > cap_.max_len)
    return Status::fail(Error::sequence_too_long, "sequence length %d is outside the planned 1..%d", b.len,
                        cap_.max_len);
  const std::size_t count = std::size_t(b.batch) * std::size_t(b.len);
  if (cfg_.input == InputKind::tokens) {
    if (b.tokens == nullptr) return Status::fail(Error::bad_config, "token model given no tokens");
    for (std::size_t i = 0; i < count; ++i)
      if (b.tokens[i] < 0 || b.tokens[i] >= cfg_.vocab_in)
        return Status::fail(Error::token_out_of_range, "token %d at %zu is outside [0, %d)", int(b.tokens[i]), i,
                            cfg_.vocab_in);
  } else if (b.inputs == nullptr) {
    return Status::fail(Error::bad_config, "vector model given no input vectors");
  }
  if (cfg_.output == OutputKind::classes) {
    if (b.labels == nullptr) return Status::fail(Error::bad_config, "classification model given no labels");
    for (std::size_t i = 0; i < count; ++i)
      if (b.labels[i] >= cfg_.out_dim)
        return Status::fail(Error::target_out_of_range, "label %d at %zu is outside [0, %d)", int(b.labels[i]), i,
                            cfg_.out_dim);
  } else if (b.targets == nullptr) {
    return Status::fail(Error::bad_config, "regression model given no targets");
  }
  return Status::ok();
}

template <class T>
Status FamilyModel<T>::pass(const FamilyBatch<T>& b, bool backward, FamilyStats* stats) {
  TINYLOOP_TRY(check(b));
  state_->last_len = b.len;
  long count = 0;
  const std::size_t total = std::size_t(b.batch) * std::size_t(b.len);
  for (std::size_t i = 0; i < total; ++i) count += counted(b, i) ? 1 : 0;
  const SeqContext<T> ctx{&cfg_, &layout_, state_, params_, &b, backward, double(count)};
  auto one = [&](int seq, int worker) { sequence_task<T>(ctx, seq, worker); };
  parallel_for(*pool_, b.batch, one);
  double loss = 0;
  long correct = 0;
  for (int s = 0; s < b.batch; ++s) {
    loss += state_->seq_loss[s];
    correct += state_->seq_correct[s];
  }
  FamilyStats out;
  out.counted = count;
  out.loss = count > 0 ? loss / double(count) : 0.0;
  out.accuracy = count > 0 ? double(correct) / double(count) : 1.0;
  if (backward) optim::sum_sequence_gradients(state_->seq_grads, b.batch, layout_.total, grads_);
  if (stats) *stats = out;
  return Status::ok();
}

template <class T>
Status FamilyModel<T>::compute_gradients(const FamilyBatch<T>& b, FamilyStats* stats) {
  return pass(b, true, stats);
}

template <class T>
Status FamilyModel<T>::evaluate(const FamilyBatch<T>& b, FamilyStats* stats) {
  return pass(b, false, stats);
}

template <class T>
Status FamilyModel<T>::train_step(const FamilyBatch<T>& b, std::int64_t total_steps, FamilyStats* stats) {
  FamilyStats out;
  TINYLOOP_TRY(pass(b, true, &out));
  const optim::UpdateResult r = optim::apply_update(optim_, step_, total_steps,
                                                    std::isfinite(out.loss) ? nullptr : "loss", grads_, params_,
                                                    adam_m_, adam_v_, layout_.total);
  out.grad_norm = r.grad_norm;
  out.lr = r.lr;
  out.skipped = r.fault != nullptr;
  ++step_;
  if (stats) *stats = out;
  return Status::ok();
}

template <class T>
const T* FamilyModel<T>::outputs(int b) const {
  if (state_ == nullptr || b < 0 || b >= cap_.max_batch) return nullptr;
  return state_->tapes[b].out;
}

template <class T>
const T* FamilyModel<T>::attention(int b, int layer, int head) const {
  if (state_ == nullptr || b < 0 || b >= cap_.max_batch || layer < 0 || layer >= cfg_.layers || head < 0 ||
      head >= cfg_.heads)
    return nullptr;
  const std::size_t n = std::size_t(state_->last_len);
  return state_->tapes[b].P + (std::size_t(layer) * cfg_.heads + head) * n * n;
}

template class FamilyModel<float>;
template class FamilyModel<double>;

}  // namespace tinyloop::family
