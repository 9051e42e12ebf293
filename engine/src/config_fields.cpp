// The one list of configuration fields (tinyloop/config_fields.hpp).
#include "tinyloop/config_fields.hpp"

#include <cfloat>
#include <climits>
#include <cstring>

namespace tinyloop {

namespace {

// Positions' values 0-4; learned positions (5) belong to other shapes than the looped block.
constexpr const char* kPositionNames[] = {"sinusoidal", "none", "alibi", "alibi+sinusoidal", "rope"};
constexpr const char* kLoopNames[] = {"standard", "hamiltonian"};
constexpr const char* kScheduleNames[] = {"constant", "cosine"};
constexpr const char* kMaskNames[] = {"no mask", "causal mask"};  // model.causal false, true

constexpr double kAny = DBL_MAX;    // no bound beyond the type's
constexpr double kFloat = FLT_MAX;
// A plausible range with lo > hi: the field has none (no warning is ever given for it).
constexpr double kNoPlausibleLo = 1.0, kNoPlausibleHi = 0.0;

#define TL_MEMBER(path) [](TrainConfig& c) -> void* { return &c.path; }

constexpr bool hamiltonian_loop(const TrainConfig& c) { return c.model.loop == LoopKind::hamiltonian; }
constexpr bool cosine_eta(const TrainConfig& c) { return c.loss.eta_schedule == Schedule::cosine; }
constexpr bool alibi(const TrainConfig& c) { return uses_alibi(c.model.positions); }
constexpr bool rope(const TrainConfig& c) { return uses_rope(c.model.positions); }

// Shorthands for the rows below.
constexpr ConfigField number(const char* key, FieldType t, std::uint32_t since, void* (*m)(TrainConfig&), const char* flag,
                   const char* meta, const char* help, double lo, double hi, bool lo_open = false,
                   double plo = kNoPlausibleLo, double phi = kNoPlausibleHi) {
  return ConfigField{key, t, since, m, flag, meta, help, lo, hi, lo_open, plo, phi, nullptr, 0, false, nullptr,
                     nullptr};
}
constexpr ConfigField hidden(const char* key, FieldType t, std::uint32_t since, void* (*m)(TrainConfig&)) {
  return number(key, t, since, m, nullptr, nullptr, nullptr, -kAny, kAny);
}
template <int N>
constexpr ConfigField choice(const char* key, std::uint32_t since, void* (*m)(TrainConfig&), const char* flag,
                   const char* meta, const char* help, const char* const (&names)[N]) {
  return ConfigField{key, FieldType::choice, since, m, flag, meta, help, 0, N - 1, false, kNoPlausibleLo,
                     kNoPlausibleHi, names, N, false, nullptr, nullptr};
}
// A field of the file format that no model reads any more: its member is gone, a file holds
// `value` there, and a reader accepts nothing else.
constexpr ConfigField retired(const char* key, std::uint32_t since, double value) {
  return number(key, FieldType::f32, since, nullptr, nullptr, nullptr, nullptr, value, value);
}
constexpr ConfigField only(ConfigField f, bool (*applies)(const TrainConfig&), const char* text) {
  f.applies = applies;
  f.applies_text = text;
  return f;
}

constexpr ConfigField kFields[] = {
    // ---- version 1
    number("model.loops", FieldType::i32, 1, TL_MEMBER(model.layers), "--loops", "L",
           "loop iterations of the block", 1, 10000),
    hidden("model.vocab_in", FieldType::i32, 1, TL_MEMBER(model.vocab_in)),
    hidden("model.vocab_out", FieldType::i32, 1, TL_MEMBER(model.out_dim)),
    choice("model.positions", 1, TL_MEMBER(model.positions), "--positions", "KIND",
           "sinusoidal (the paper's, added to the input), none (only the causal mask orders), alibi (learned "
           "recency slope in the scores), alibi+sinusoidal, or rope (rotated queries and keys); docs/MODEL.md §1.1",
           kPositionNames),
    number("model.pe_scale", FieldType::f32, 1, TL_MEMBER(model.pe_scale), "--pe-scale", "X",
           "scale of the sinusoidal positions", -kFloat, kFloat, false, -10, 10),
    ConfigField{"model.causal", FieldType::boolean, 1, TL_MEMBER(model.causal), "--no-mask", nullptr,
                "attention without the causal mask", 0, 1, false, kNoPlausibleLo, kNoPlausibleHi, kMaskNames, 2,
                false, nullptr, nullptr},
    choice("model.loop", 1, TL_MEMBER(model.loop), "--loop", "KIND", "standard or hamiltonian", kLoopNames),
    only(number("model.mu", FieldType::f32, 1, TL_MEMBER(model.mu), "--mu", "X", "hamiltonian loop momentum mu",
                -kFloat, kFloat, false, 0, 1),
         hamiltonian_loop, "to --loop hamiltonian"),
    only(number("model.alpha", FieldType::f32, 1, TL_MEMBER(model.alpha), "--alpha", "X",
                "hamiltonian loop step alpha", -kFloat, kFloat, false, 0, 10),
         hamiltonian_loop, "to --loop hamiltonian"),
    // The Hamiltonian loop's free-energy weight (only 0 was ever accepted) and a temperature
    // no kernel read.
    retired("model.beta", 1, 0.0),
    retired("model.tau", 1, 1.0),
    number("loss.lambda_p", FieldType::f32, 1, TL_MEMBER(loss.lambda_p), "--lambda-p", "X",
           "weight of the potential U", 0, kFloat, false, 0, 100),
    number("loss.lambda_k", FieldType::f32, 1, TL_MEMBER(loss.lambda_k), "--lambda-k", "X",
           "weight of the kinetic energy K", 0, kFloat, false, 0, 100),
    number("loss.lambda_s", FieldType::f32, 1, TL_MEMBER(loss.lambda_s), "--lambda-s", "X",
           "weight of the Tsallis entropy term", 0, kFloat, false, 0, 100),
    number("loss.q", FieldType::f32, 1, TL_MEMBER(loss.q), "--q", "X", "Tsallis q", 0, kFloat, true, 0.1, 10),
    number("loss.eta", FieldType::f32, 1, TL_MEMBER(loss.eta), "--eta", "X",
           "Tsallis entropy target eta; with --eta-schedule cosine, its value at the first step", -kFloat, kFloat,
           false, 0, 100),
    number("optim.lr", FieldType::f32, 1, TL_MEMBER(optim.lr), "--lr", "X", "AdamW learning rate", 0, kFloat, true,
           1e-6, 1),
    hidden("optim.beta1", FieldType::f32, 1, TL_MEMBER(optim.beta1)),
    hidden("optim.beta2", FieldType::f32, 1, TL_MEMBER(optim.beta2)),
    hidden("optim.eps", FieldType::f32, 1, TL_MEMBER(optim.eps)),
    number("optim.weight_decay", FieldType::f32, 1, TL_MEMBER(optim.weight_decay), "--weight-decay", "X",
           "AdamW weight decay on every parameter", 0, kFloat, false, 0, 1),
    hidden("optim.clip_norm", FieldType::f32, 1, TL_MEMBER(optim.clip_norm)),
    number("optim.warmup_steps", FieldType::i32, 1, TL_MEMBER(optim.warmup_steps), "--warmup", "N",
           "linear warm-up steps", 0, INT_MAX),
    choice("optim.schedule", 1, TL_MEMBER(optim.schedule), "--schedule", "NAME",
           "learning-rate schedule: constant or cosine", kScheduleNames),
    hidden("optim.min_lr_ratio", FieldType::f32, 1, TL_MEMBER(optim.min_lr_ratio)),
    number("task.alphabet", FieldType::i32, 1, TL_MEMBER(task.alphabet), "--alphabet", "A",
           "induction alphabet size; vocab_in = A, vocab_out = A + 1", 2, 65536),
    number("task.hops", FieldType::i32, 1, TL_MEMBER(task.hops), "--hops", "K", "k of the k-hop induction task", 1,
           64),
    number("curriculum.min_len", FieldType::i32, 1, TL_MEMBER(curriculum.min_len), "--min-len", "N",
           "shortest training sequence", 1, 1 << 20),
    number("curriculum.max_len", FieldType::i32, 1, TL_MEMBER(curriculum.max_len), "--max-len", "N",
           "longest training sequence, reached at the end of the ramp", 1, 1 << 20),
    number("curriculum.ramp", FieldType::f32, 1, TL_MEMBER(curriculum.ramp), "--ramp", "F",
           "fraction of the run over which the longest length grows from --min-len to --max-len; 0: --max-len "
           "from the start",
           0, 1),
    number("batch", FieldType::i32, 1, TL_MEMBER(batch), "--batch", "B", "sequences per batch", 1, 1 << 16),
    number("steps", FieldType::i64, 1, TL_MEMBER(steps), "--steps", "N",
           "planned optimizer steps; the curriculum and lr schedule span them", 0, double(std::int64_t(1) << 40)),
    number("seed", FieldType::u64, 1, TL_MEMBER(seed), "--seed", "S",
           "seed: weights from Rng(S, 1), data from Rng(S, 2)", 0, kAny),
    // ---- version 2
    choice("loss.eta_schedule", 2, TL_MEMBER(loss.eta_schedule), "--eta-schedule", "NAME",
           "entropy target schedule: constant (the paper's) or cosine, from --eta to --eta-final over the run",
           kScheduleNames),
    only(number("loss.eta_final", FieldType::f32, 2, TL_MEMBER(loss.eta_final), "--eta-final", "X",
                "entropy target at the last step of --eta-schedule cosine", -kFloat, kFloat, false, 0, 100),
         cosine_eta, "with --eta-schedule cosine"),
    number("init_scale", FieldType::f32, 2, TL_MEMBER(model.init_scale), "--init-scale", "X",
           "multiplies the random initial weights (PyTorch's defaults at 1)", 0, kFloat, true, 0.01, 10),
    // ---- version 3
    only(number("model.alibi_rho", FieldType::f32, 3, TL_MEMBER(model.alibi_rho), "--alibi-rho", "X",
                "initial rho of the ALiBi slope softplus(rho), in [-30, 30]", -30, 30),
         alibi, "to --positions alibi or alibi+sinusoidal"),
    only(number("model.rope_base", FieldType::f32, 3, TL_MEMBER(model.rope_base), "--rope-base", "X",
                "RoPE base: pair k turns by position * base^(-2k/d)", 1, kFloat, true),
         rope, "to --positions rope"),
};

#undef TL_MEMBER

constexpr std::size_t kFieldCount = sizeof(kFields) / sizeof(kFields[0]);

std::uint32_t f32_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace

const ConfigField* config_fields(std::size_t* count) {
  *count = kFieldCount;
  return kFields;
}

const ConfigField* find_config_field(const char* name) {
  for (const ConfigField& f : kFields)
    if (std::strcmp(f.key, name) == 0 || (f.flag && std::strcmp(f.flag, name) == 0)) return &f;
  return nullptr;
}

std::size_t field_bytes(const ConfigField& f) {
  return f.type == FieldType::i64 || f.type == FieldType::u64 ? 8 : 4;
}

std::uint64_t value_bits(FieldType t, const void* p) {
  switch (t) {
    case FieldType::i32: return static_cast<std::uint32_t>(*static_cast<const std::int32_t*>(p));
    case FieldType::i64: return static_cast<std::uint64_t>(*static_cast<const std::int64_t*>(p));
    case FieldType::u64: return *static_cast<const std::uint64_t*>(p);
    case FieldType::f32: return f32_bits(*static_cast<const float*>(p));
    case FieldType::choice: return *static_cast<const std::uint8_t*>(p);  // every enumeration is a uint8_t
    case FieldType::boolean: return *static_cast<const bool*>(p) ? 1u : 0u;
  }
  return 0;
}

std::uint64_t field_bits(const ConfigField& f, const TrainConfig& c) {
  if (!f.member) return f32_bits(float(f.lo));  // retired
  return value_bits(f.type, f.member(const_cast<TrainConfig&>(c)));  // read only
}

double field_number(const ConfigField& f, const TrainConfig& c) {
  if (!f.member) return f.lo;  // retired
  void* p = f.member(const_cast<TrainConfig&>(c));  // read only
  switch (f.type) {
    case FieldType::i32: return double(*static_cast<std::int32_t*>(p));
    case FieldType::i64: return double(*static_cast<std::int64_t*>(p));
    case FieldType::u64: return double(*static_cast<std::uint64_t*>(p));
    case FieldType::f32: return double(*static_cast<float*>(p));
    case FieldType::choice: return double(*static_cast<std::uint8_t*>(p));
    case FieldType::boolean: return *static_cast<bool*>(p) ? 1.0 : 0.0;
  }
  return 0;
}

void set_value_bits(FieldType t, void* p, std::uint64_t bits) {
  switch (t) {
    case FieldType::i32: {
      const std::uint32_t u = static_cast<std::uint32_t>(bits);
      *static_cast<std::int32_t*>(p) = u <= 0x7FFFFFFFu ? std::int32_t(u) : -std::int32_t(~u) - 1;
      break;
    }
    case FieldType::i64:
      *static_cast<std::int64_t*>(p) = bits <= 0x7FFFFFFFFFFFFFFFull ? std::int64_t(bits) : -std::int64_t(~bits) - 1;
      break;
    case FieldType::u64: *static_cast<std::uint64_t*>(p) = bits; break;
    case FieldType::f32: {
      const std::uint32_t u = static_cast<std::uint32_t>(bits);
      std::memcpy(p, &u, 4);
      break;
    }
    case FieldType::choice: *static_cast<std::uint8_t*>(p) = static_cast<std::uint8_t>(bits); break;
    case FieldType::boolean: *static_cast<bool*>(p) = bits != 0; break;
  }
}

void set_field_bits(const ConfigField& f, TrainConfig& c, std::uint64_t bits) {
  if (f.member) set_value_bits(f.type, f.member(c), bits);
}

const ConfigField* first_difference(const TrainConfig& a, const TrainConfig& b) {
  for (const ConfigField& f : kFields)
    if (field_bits(f, a) != field_bits(f, b)) return &f;
  return nullptr;
}

}  // namespace tinyloop
