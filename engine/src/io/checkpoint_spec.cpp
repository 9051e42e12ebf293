// The model block of a version-4 checkpoint (docs/CHECKPOINT.md): the fields of ModelSpec in
// the order of this table, which is the file's order. New fields go at the end, with a new
// format version.
#include "io/checkpoint_spec.hpp"

#include "tinyloop/config_fields.hpp"  // the value encodings shared with the configuration block

namespace tinyloop::io {

namespace {

struct SpecField {
  const char* key;  // its name in messages: "spec.heads"
  FieldType type;   // i32, f32, choice or boolean: 4 bytes each
  int choices;      // choice: the number of values
  void* (*member)(ModelSpec&);
  const std::uint8_t* values = nullptr;  // choice: the value each file code stands for (nullptr: the same)
};

// The file's position codes, from when ModelSpec numbered them so: none, sinusoidal, learned,
// alibi, alibi + sinusoidal, rope.
constexpr std::uint8_t kPositionValues[] = {
    std::uint8_t(Positions::none),  std::uint8_t(Positions::sinusoidal),       std::uint8_t(Positions::learned),
    std::uint8_t(Positions::alibi), std::uint8_t(Positions::alibi_sinusoidal), std::uint8_t(Positions::rope)};

#define TL_SPEC(name) [](ModelSpec& s) -> void* { return &s.name; }

// generic_kernels is not stored: it picks kernels at run time and changes no result.
constexpr SpecField kSpecFields[] = {
    {"spec.layers", FieldType::i32, 0, TL_SPEC(layers)},
    {"spec.looped", FieldType::boolean, 0, TL_SPEC(looped)},
    {"spec.heads", FieldType::i32, 0, TL_SPEC(heads)},
    {"spec.width", FieldType::i32, 0, TL_SPEC(width)},
    {"spec.head_dim", FieldType::i32, 0, TL_SPEC(head_dim)},
    {"spec.mlp", FieldType::boolean, 0, TL_SPEC(mlp)},
    {"spec.hidden", FieldType::i32, 0, TL_SPEC(hidden)},
    {"spec.layernorm", FieldType::boolean, 0, TL_SPEC(layernorm)},
    {"spec.attention", FieldType::choice, 3, TL_SPEC(attention)},
    {"spec.attn_scale", FieldType::f32, 0, TL_SPEC(attn_scale)},
    {"spec.causal", FieldType::boolean, 0, TL_SPEC(causal)},
    {"spec.out_proj", FieldType::boolean, 0, TL_SPEC(out_proj)},
    {"spec.residual", FieldType::boolean, 0, TL_SPEC(residual)},
    {"spec.positions", FieldType::choice, 6, TL_SPEC(positions), kPositionValues},
    {"spec.pe_scale", FieldType::f32, 0, TL_SPEC(pe_scale)},
    {"spec.max_len", FieldType::i32, 0, TL_SPEC(max_len)},
    {"spec.alibi_rho", FieldType::f32, 0, TL_SPEC(alibi_rho)},
    {"spec.rope_base", FieldType::f32, 0, TL_SPEC(rope_base)},
    {"spec.input", FieldType::choice, 2, TL_SPEC(input)},
    {"spec.vocab_in", FieldType::i32, 0, TL_SPEC(vocab_in)},
    {"spec.in_dim", FieldType::i32, 0, TL_SPEC(in_dim)},
    {"spec.input_proj", FieldType::boolean, 0, TL_SPEC(input_proj)},
    {"spec.output", FieldType::choice, 2, TL_SPEC(output)},
    {"spec.out_dim", FieldType::i32, 0, TL_SPEC(out_dim)},
    {"spec.readout_bias", FieldType::boolean, 0, TL_SPEC(readout_bias)},
    {"spec.ignore_class", FieldType::i32, 0, TL_SPEC(ignore_class)},
    {"spec.loop", FieldType::choice, 2, TL_SPEC(loop)},
    {"spec.mu", FieldType::f32, 0, TL_SPEC(mu)},
    {"spec.alpha", FieldType::f32, 0, TL_SPEC(alpha)},
    {"spec.init_scale", FieldType::f32, 0, TL_SPEC(init_scale)},
    {"spec.attn_bias", FieldType::boolean, 0, TL_SPEC(attn_bias)},
    {"spec.branch_norm", FieldType::boolean, 0, TL_SPEC(branch_norm)},
};

#undef TL_SPEC

}  // namespace

static_assert(kSpecBytes == 4 * (sizeof kSpecFields / sizeof kSpecFields[0]), "one 4-byte value per field");

namespace {
std::uint32_t file_code(const SpecField& f, std::uint64_t value) {
  if (f.values)
    for (int code = 0; code < f.choices; ++code)
      if (f.values[code] == value) return std::uint32_t(code);
  return static_cast<std::uint32_t>(value);
}
}  // namespace

void write_spec(Writer& w, const ModelSpec& s) {
  for (const SpecField& f : kSpecFields)
    w.u32(file_code(f, value_bits(f.type, f.member(const_cast<ModelSpec&>(s)))));  // read only
}

Status read_spec(Reader& r, ModelSpec* out) {
  if (!r.has(kSpecBytes)) return truncated_at(r, "model block");
  ModelSpec s;
  for (const SpecField& f : kSpecFields) {
    const std::uint32_t bits = r.u32();
    if (f.type == FieldType::choice && bits >= std::uint32_t(f.choices))
      return Status::fail(Error::bad_checkpoint, "invalid model: %s = %lu is not a known value", f.key,
                          static_cast<unsigned long>(bits));
    if (f.type == FieldType::boolean && bits > 1u)
      return Status::fail(Error::bad_checkpoint, "invalid model: %s = %lu is not 0 or 1", f.key,
                          static_cast<unsigned long>(bits));
    set_value_bits(f.type, f.member(s), f.values ? f.values[bits] : bits);
  }
  const Status v = validate(s);
  if (!v.is_ok()) return Status::fail(Error::bad_checkpoint, "invalid model: %s", v.message());
  *out = s;
  return Status::ok();
}

}  // namespace tinyloop::io
