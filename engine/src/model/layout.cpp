// The model's description: validation, the looped block as one configuration, and the
// parameter layout every shape shares (tinyloop/model.hpp).
#include <cmath>
#include <cstdio>
#include <cstring>

#include "model/layout_walk.hpp"
#include "tinyloop/model.hpp"

namespace tinyloop {

namespace {
constexpr int kMaxWidth = 4096;
constexpr int kMaxLoopsLooped = 10000;
constexpr int kMaxGatedHeads = 1024;

// position_gated attention (tinyloop/model_spec.hpp): its gates read the learned table through
// heads as wide as the stream.
Status validate_position_gated(const ModelSpec& c) {
  if (!c.position_gated()) return Status::ok();
  if (c.positions != Positions::learned)
    return Status::fail(Error::bad_config,
                        "position_gated attention needs positions = learned: its gates read the learned table "
                        "(which is then not added to the input)");
  if (c.head_dim != 0 && c.head_dim != c.width)
    return Status::fail(Error::bad_config,
                        "position_gated heads are as wide as the stream: head_dim must be 0 or width (%d), got %d",
                        c.width, c.head_dim);
  return Status::ok();
}

std::size_t* role_slot(ModelLayout& l, const TensorSpec& t) {
  ModelLayout::Block& k = l.block[t.block < 0 ? 0 : t.block];
  switch (t.role) {
    case Role::E: return &l.E;
    case Role::Win: return &l.Win;
    case Role::bin: return &l.bin;
    case Role::pos: return &l.pos;
    case Role::Wq: return &k.Wq;
    case Role::Wk: return &k.Wk;
    case Role::Wv: return &k.Wv;
    case Role::Wo: return &k.Wo;
    case Role::ln1_g: return &k.ln1_g;
    case Role::ln1_b: return &k.ln1_b;
    case Role::ln2_g: return &k.ln2_g;
    case Role::ln2_b: return &k.ln2_b;
    case Role::W1: return &k.W1;
    case Role::b1: return &k.b1;
    case Role::W2: return &k.W2;
    case Role::b2: return &k.b2;
    case Role::lnf_g: return &l.lnf_g;
    case Role::lnf_b: return &l.lnf_b;
    case Role::Wout: return &l.Wout;
    case Role::bout: return &l.bout;
    case Role::rho: return &k.rho;
    case Role::bq: return &k.bq;
    case Role::bk: return &k.bk;
    case Role::bv: return &k.bv;
    case Role::bo: return &k.bo;
    case Role::lna_g: return &k.lna_g;
    case Role::lna_b: return &k.lna_b;
  }
  return &l.E;
}
}  // namespace

ModelSpec paper_block() {
  ModelSpec c;
  c.layers = 25;
  c.looped = true;
  c.heads = 1;
  c.width = kDim;
  c.hidden = kHidden;
  c.out_proj = false;
  c.positions = Positions::sinusoidal;
  c.pe_scale = 0.15f;
  c.vocab_in = 4;
  c.out_dim = 5;
  c.ignore_class = 4;  // NONE
  return c;
}

bool is_looped_block(const ModelSpec& c) {
  return c.looped && c.width == kDim && c.heads == 1 && c.head_width() == kDim && c.hidden_width() == kHidden &&
         c.mlp && c.layernorm && c.residual && !c.out_proj && c.attention == AttentionKind::softmax &&
         c.attn_scale == 0.0f && c.positions != Positions::learned && c.input == InputKind::tokens &&
         c.output == OutputKind::classes && c.readout_bias && !c.attn_bias && !c.branch_norm &&
         c.ignore_class == c.out_dim - 1;
}

bool runs_d8_kernels(const ModelSpec& c) { return !c.generic_kernels && is_looped_block(c); }

LossConfig cross_entropy_only() {
  LossConfig l;
  l.lambda_p = l.lambda_k = l.lambda_s = 0.0f;
  return l;
}

Status validate(const ModelSpec& c) {
  const int max_layers = c.looped ? kMaxLoopsLooped : kMaxBlocks;
  if (c.layers < 1 || c.layers > max_layers)
    return Status::fail(Error::bad_config, "%s must be in [1, %d], got %d", c.looped ? "loops" : "layers", max_layers,
                        c.layers);
  if (c.width < 1 || c.width > kMaxWidth)
    return Status::fail(Error::bad_config, "width must be in [1, %d], got %d", kMaxWidth, c.width);
  if (int(c.attention) > int(AttentionKind::position_gated))
    return Status::fail(Error::bad_config, "unknown attention kind %d", int(c.attention));
  const int max_heads = c.position_gated() ? kMaxGatedHeads : c.width * 4;  // gated heads are width wide
  if (c.heads < 1 || c.heads > max_heads)
    return Status::fail(Error::bad_config, "heads must be in [1, %d], got %d", max_heads, c.heads);
  if (c.head_dim < 0 || c.head_dim > kMaxWidth) return Status::fail(Error::bad_config, "head_dim out of range");
  if (c.head_width() < 1) return Status::fail(Error::bad_config, "width %d gives heads of width 0", c.width);
  if (c.head_dim == 0 && !c.position_gated() && c.width % c.heads != 0)
    return Status::fail(Error::bad_config, "width %d is not divisible by %d heads (set head_dim)", c.width, c.heads);
  TINYLOOP_TRY(validate_position_gated(c));
  if (!c.out_proj && c.attention_width() != c.width)
    return Status::fail(Error::bad_config, "without out_proj heads * head_dim (%d) must equal width (%d)",
                        c.attention_width(), c.width);
  if (c.hidden < 0 || c.hidden > 4 * kMaxWidth) return Status::fail(Error::bad_config, "hidden out of range");
  if (!std::isfinite(c.attn_scale) || c.attn_scale < 0)
    return Status::fail(Error::bad_config, "attn_scale must be finite and >= 0");
  if (int(c.positions) > int(Positions::learned))
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
  if (c.ignore_class < -1 || c.ignore_class >= c.out_dim)
    return Status::fail(Error::bad_config, "ignore_class must be -1 or a class in [0, %d), got %d", c.out_dim,
                        c.ignore_class);
  if (!(c.init_scale > 0.0f) || !std::isfinite(c.init_scale))
    return Status::fail(Error::bad_config, "init_scale must be > 0, got %g", double(c.init_scale));
  if (c.loop != LoopKind::standard && c.loop != LoopKind::hamiltonian)
    return Status::fail(Error::bad_config, "unknown loop kind %d", int(c.loop));
  if (!std::isfinite(c.mu) || !std::isfinite(c.alpha))
    return Status::fail(Error::bad_config, "hamiltonian mu and alpha must be finite");
  if (c.loop == LoopKind::hamiltonian && !runs_d8_kernels(c))
    return Status::fail(Error::unsupported,
                        "the hamiltonian loop runs on the d = 8 looped block only (width 8, one head, looped)");
  return Status::ok();
}

ModelLayout ModelLayout::make(const ModelSpec& c) {
  ModelLayout l;
  l.E = l.pos = l.Win = l.bin = l.lnf_g = l.lnf_b = l.Wout = l.bout = kAbsent;
  for (Block& k : l.block)
    k = Block{kAbsent, kAbsent, kAbsent, kAbsent, kAbsent, kAbsent, kAbsent, kAbsent, kAbsent, kAbsent,
              kAbsent, kAbsent, kAbsent, kAbsent, kAbsent, kAbsent, kAbsent, kAbsent, kAbsent};
  l.total = walk_layout(c, [&](const TensorSpec& t) {
    LayoutTensor& out = l.tensors[l.count++];
    if (t.block < 0) std::snprintf(out.name, sizeof out.name, "%s", t.name);
    else std::snprintf(out.name, sizeof out.name, "L%d.%s", t.block, t.name);
    out.rows = t.rows;
    out.cols = t.cols;
    out.offset = t.offset;
    *role_slot(l, t) = t.offset;
  });
  return l;
}

int ModelLayout::find(const char* name) const {
  for (int i = 0; i < count; ++i)
    if (std::strcmp(tensors[i].name, name) == 0) return i;
  return -1;
}

}  // namespace tinyloop
