// The model block of a version-4 checkpoint (docs/CHECKPOINT.md): the fields of ModelSpec in
// the order of this table, which is the file's order. New fields go at the end, with a new
// format version.
#include "io/checkpoint_spec.hpp"

#include <cstring>

namespace tinyloop::io {

namespace {

enum class Kind : std::uint8_t { i32, f32, enumeration, boolean };

struct SpecField {
  const char* key;  // its name in messages: "spec.heads"
  Kind kind;
  int choices;  // enumerations: the number of values
  void* (*member)(ModelSpec&);
};

#define TL_SPEC(name) [](ModelSpec& s) -> void* { return &s.name; }

// generic_kernels is not stored: it picks kernels at run time and changes no result.
constexpr SpecField kSpecFields[] = {
    {"spec.layers", Kind::i32, 0, TL_SPEC(layers)},
    {"spec.looped", Kind::boolean, 0, TL_SPEC(looped)},
    {"spec.heads", Kind::i32, 0, TL_SPEC(heads)},
    {"spec.width", Kind::i32, 0, TL_SPEC(width)},
    {"spec.head_dim", Kind::i32, 0, TL_SPEC(head_dim)},
    {"spec.mlp", Kind::boolean, 0, TL_SPEC(mlp)},
    {"spec.hidden", Kind::i32, 0, TL_SPEC(hidden)},
    {"spec.layernorm", Kind::boolean, 0, TL_SPEC(layernorm)},
    {"spec.attention", Kind::enumeration, 2, TL_SPEC(attention)},
    {"spec.attn_scale", Kind::f32, 0, TL_SPEC(attn_scale)},
    {"spec.causal", Kind::boolean, 0, TL_SPEC(causal)},
    {"spec.out_proj", Kind::boolean, 0, TL_SPEC(out_proj)},
    {"spec.residual", Kind::boolean, 0, TL_SPEC(residual)},
    {"spec.positions", Kind::enumeration, 6, TL_SPEC(positions)},
    {"spec.pe_scale", Kind::f32, 0, TL_SPEC(pe_scale)},
    {"spec.max_len", Kind::i32, 0, TL_SPEC(max_len)},
    {"spec.alibi_rho", Kind::f32, 0, TL_SPEC(alibi_rho)},
    {"spec.rope_base", Kind::f32, 0, TL_SPEC(rope_base)},
    {"spec.input", Kind::enumeration, 2, TL_SPEC(input)},
    {"spec.vocab_in", Kind::i32, 0, TL_SPEC(vocab_in)},
    {"spec.in_dim", Kind::i32, 0, TL_SPEC(in_dim)},
    {"spec.input_proj", Kind::boolean, 0, TL_SPEC(input_proj)},
    {"spec.output", Kind::enumeration, 2, TL_SPEC(output)},
    {"spec.out_dim", Kind::i32, 0, TL_SPEC(out_dim)},
    {"spec.readout_bias", Kind::boolean, 0, TL_SPEC(readout_bias)},
    {"spec.ignore_class", Kind::i32, 0, TL_SPEC(ignore_class)},
    {"spec.loop", Kind::enumeration, 2, TL_SPEC(loop)},
    {"spec.mu", Kind::f32, 0, TL_SPEC(mu)},
    {"spec.alpha", Kind::f32, 0, TL_SPEC(alpha)},
    {"spec.init_scale", Kind::f32, 0, TL_SPEC(init_scale)},
    {"spec.attn_bias", Kind::boolean, 0, TL_SPEC(attn_bias)},
    {"spec.branch_norm", Kind::boolean, 0, TL_SPEC(branch_norm)},
};

#undef TL_SPEC

std::uint32_t bits_of(const SpecField& f, const ModelSpec& s) {
  const void* p = f.member(const_cast<ModelSpec&>(s));  // read only
  switch (f.kind) {
    case Kind::i32: return static_cast<std::uint32_t>(*static_cast<const std::int32_t*>(p));
    case Kind::f32: return float_bits(*static_cast<const float*>(p));
    case Kind::enumeration: return *static_cast<const std::uint8_t*>(p);  // every enumeration is a uint8_t
    case Kind::boolean: return *static_cast<const bool*>(p) ? 1u : 0u;
  }
  return 0;
}

}  // namespace

static_assert(kSpecBytes == 4 * (sizeof kSpecFields / sizeof kSpecFields[0]), "one 4-byte value per field");

void write_spec(Writer& w, const ModelSpec& s) {
  for (const SpecField& f : kSpecFields) w.u32(bits_of(f, s));
}

Status read_spec(Reader& r, ModelSpec* out) {
  if (!r.has(kSpecBytes)) return truncated_at(r, "model block");
  ModelSpec s;
  for (const SpecField& f : kSpecFields) {
    const std::uint32_t bits = r.u32();
    void* p = f.member(s);
    switch (f.kind) {
      case Kind::i32: *static_cast<std::int32_t*>(p) = to_i32(bits); break;
      case Kind::f32: *static_cast<float*>(p) = bits_float(bits); break;
      case Kind::enumeration:
        if (bits >= std::uint32_t(f.choices))
          return Status::fail(Error::bad_checkpoint, "invalid model: %s = %lu is not a known value", f.key,
                              static_cast<unsigned long>(bits));
        *static_cast<std::uint8_t*>(p) = static_cast<std::uint8_t>(bits);
        break;
      case Kind::boolean:
        if (bits > 1u)
          return Status::fail(Error::bad_checkpoint, "invalid model: %s = %lu is not 0 or 1", f.key,
                              static_cast<unsigned long>(bits));
        *static_cast<bool*>(p) = bits != 0;
        break;
    }
  }
  const Status v = validate(s);
  if (!v.is_ok()) return Status::fail(Error::bad_checkpoint, "invalid model: %s", v.message());
  *out = s;
  return Status::ok();
}

}  // namespace tinyloop::io
