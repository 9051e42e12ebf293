// Checkpoint (de)serialisation in caller memory. Byte layout: docs/CHECKPOINT.md.
//
// Every multi-byte value is written and read one byte at a time, little-endian, so the code
// is independent of the host's byte order, alignment rules and struct padding (32-bit ARM
// included). The reader treats its input as hostile: every length, count and shape read from
// the bytes is checked against the bytes that remain before it is used, and all size
// arithmetic is done in 64 bits with explicit bounds.
#include "tinyloop/checkpoint.hpp"

#include <cstdio>
#include <cstring>
#include <limits>

#include "io/byte_codec.hpp"
#include "io/checkpoint_config.hpp"
#include "io/checkpoint_spec.hpp"
#include "model/layout_walk.hpp"

namespace tinyloop {

static_assert(std::numeric_limits<float>::is_iec559, "checkpoints store IEEE-754 binary32 floats");
static_assert(sizeof(float) == 4, "checkpoints store 4-byte floats");
static_assert(sizeof(int) >= 4, "configuration integers are 32-bit");

namespace {

using io::bits_finite;
using io::bits_float;
using io::float_bits;
using io::config_bytes;
using io::crc32;
using io::kConfigBytesV3;
using io::Reader;
using io::truncated_at;
using io::Writer;

// ---- format constants (docs/CHECKPOINT.md) ---------------------------------------------
constexpr std::uint8_t kMagic[8] = {'T', 'L', 'O', 'O', 'P', 'C', 'K', 0};
// Version 2 appends the entropy schedule (loss.eta_schedule, loss.eta_final) and the
// initialisation scale to the configuration block; version 3 appends the relative-position
// settings (model.alibi_rho, model.rope_base) and is the one that can hold the ALiBi and RoPE
// position kinds, whose models carry a 17th tensor (rho) with ALiBi. The writer picks the
// oldest version that holds the configuration, so files of the paper's recipe stay readable
// by older builds; the reader takes every version. Version 4 holds any other model shape: a
// model block (every ModelSpec field) follows the recipe's configuration block, and the tensors
// carry their layer ("L0.Wq").
constexpr std::uint32_t kVersionLatest = 4;
constexpr std::uint32_t kFlagOptimizer = 1u;
constexpr std::uint32_t kKnownFlags = kFlagOptimizer;

constexpr std::size_t kHeaderBytes = 24;   // magic, version, flags, total size
constexpr std::size_t kStateBytes = 24;      // step, rng state, rng increment
constexpr std::size_t kCrcBytes = 4;
constexpr std::uint32_t kMaxNameLen = 64;  // longer names are rejected before being read

static_assert(kCheckpointHeadBytes == kHeaderBytes + io::kConfigBytesV4 + io::kSpecBytes &&
                  kCheckpointHeadBytes > kHeaderBytes + kConfigBytesV3,
              "the head holds the longest configuration and model blocks");

const char* const kSetNames[3] = {"params", "adam_m", "adam_v"};

// ---- the tensors of a file -------------------------------------------------------------
// What a file's tensors belong to: the looped block of config.model (versions 1-3, tensors under
// their SPEC names) or any ModelSpec (version 4, tensors of layer l named "Ll.Wq").
struct FileModel {
  ModelSpec spec;
  bool block = true;
};

FileModel model_of(const TrainConfig& cfg) { return FileModel{cfg.model, is_looped_block(cfg.model)}; }

struct Tensor {
  char name[24];
  int rows, cols;
  std::uint64_t offset;  // in the flat array; 64-bit so that a hostile shape cannot wrap it
  std::uint64_t size() const { return std::uint64_t(rows) * std::uint64_t(cols); }
};

// Calls visit(const Tensor&) for each tensor in file order; returns the flat array's size
// (each tensor padded to 8 floats, as walk_layout lays them out), in 64 bits.
template <class Visit>
std::uint64_t walk_tensors(const FileModel& m, Visit&& visit) {
  std::uint64_t offset = 0;
  walk_layout(m.spec, [&](const TensorSpec& t) {
    Tensor e{{}, t.rows, t.cols, offset};
    if (m.block || t.block < 0) std::snprintf(e.name, sizeof e.name, "%s", t.name);
    else std::snprintf(e.name, sizeof e.name, "L%d.%s", t.block, t.name);
    visit(e);
    offset += (e.size() + 7) / 8 * 8;
  });
  return offset;
}

int tensor_count(const FileModel& m) {
  int n = 0;
  walk_tensors(m, [&](const Tensor&) { ++n; });
  return n;
}

// Bytes of one tensor set (count + named blocks).
std::uint64_t tensor_set_bytes(const FileModel& m) {
  std::uint64_t n = 4;
  walk_tensors(m, [&](const Tensor& t) { n += 4 + std::strlen(t.name) + 4 + 4 + 4 * t.size(); });
  return n;
}

// The oldest version that can hold the configuration.
std::uint32_t version_for(const TrainConfig& cfg, bool block) {
  if (!block) return io::kVersionModelBlock;
  const ModelSpec defaults = paper_block();
  const Positions k = cfg.model.positions;
  const bool version2_fields = k == Positions::sinusoidal || k == Positions::none;
  if (!version2_fields || cfg.model.alibi_rho != defaults.alibi_rho || cfg.model.rope_base != defaults.rope_base)
    return 3u;
  const bool version1_fields = cfg.loss.eta_schedule == Schedule::constant && cfg.loss.eta_final == 0.0f &&
                               cfg.model.init_scale == 1.0f;
  return version1_fields ? 1u : 2u;
}

std::size_t tensors_offset(std::uint32_t version) {
  const std::size_t model = version >= io::kVersionModelBlock ? io::kSpecBytes : 0;
  return kHeaderBytes + config_bytes(version) + model + kStateBytes;
}

// Exact file size in 64 bits for the given format version; 0 when the model's shapes are invalid.
std::uint64_t file_bytes64(const FileModel& m, bool with_optimizer, std::uint32_t version) {
  if (!validate(m.spec).is_ok()) return 0;  // shapes come from the model (bounded there)
  const std::uint64_t sets = with_optimizer ? 3 : 1;
  return tensors_offset(version) + sets * tensor_set_bytes(m) + kCrcBytes;
}

// ---- tensor sets ------------------------------------------------------------------------
// What makes a stored value unreadable, or nullptr: every value must be finite, and a second
// moment (set 2, adam_v) not negative (-0 is allowed). The reader refuses such a file and the
// writer refuses to write one.
const char* value_problem(std::uint32_t bits, int set) {
  if (!bits_finite(bits)) return "non-finite";
  if (set == 2 && (bits & 0x80000000u) && (bits & 0x7FFFFFFFu)) return "negative";
  return nullptr;
}

// Copies up to 32 bytes of a name from the file into a printable, terminated string.
void printable_name(const std::uint8_t* p, std::size_t n, char (&buf)[40]) {
  std::size_t k = n < 32 ? n : 32;
  for (std::size_t i = 0; i < k; ++i) buf[i] = (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '\'') ? char(p[i]) : '?';
  std::size_t end = k;
  if (n > k) {
    buf[end++] = '.';
    buf[end++] = '.';
    buf[end++] = '.';
  }
  buf[end] = '\0';
}

void write_set(Writer& w, const FileModel& m, const float* flat) {
  w.u32(static_cast<std::uint32_t>(tensor_count(m)));
  walk_tensors(m, [&](const Tensor& t) {
    const std::size_t len = std::strlen(t.name);
    w.u32(static_cast<std::uint32_t>(len));
    w.bytes(t.name, len);
    w.u32(static_cast<std::uint32_t>(t.rows));
    w.u32(static_cast<std::uint32_t>(t.cols));
    const float* src = flat + t.offset;
    for (std::uint64_t k = 0; k < t.size(); ++k) w.f32(src[k]);
  });
}

// Parses one tensor. With dst == nullptr it only validates; otherwise it also fills the flat
// array. set: 0 params, 1 adam_m, 2 adam_v.
Status read_tensor(Reader& r, const Tensor& t, int index, int set, float* dst) {
  const char* set_name = kSetNames[set];
  // Parameters carry no prefix in messages ("tensor 'Wq'"); optimizer state names its set.
  const char* prefix = set == 0 ? "" : set_name;
  const char* space = set == 0 ? "" : " ";
  if (!r.has(4)) return truncated_at(r, "tensor name length");
  const std::uint32_t name_len = r.u32();
  if (name_len > kMaxNameLen)
    return Status::fail(Error::bad_checkpoint, "%s tensor %d: name length %lu exceeds %lu", set_name, index,
                        static_cast<unsigned long>(name_len), static_cast<unsigned long>(kMaxNameLen));
  if (!r.has(name_len)) return truncated_at(r, "tensor name");
  const std::uint8_t* name = r.p + r.pos;
  r.pos += name_len;
  const std::size_t want_len = std::strlen(t.name);
  if (name_len != want_len || std::memcmp(name, t.name, want_len) != 0) {
    char shown[40];
    printable_name(name, name_len, shown);
    return Status::fail(Error::bad_checkpoint, "%s tensor %d: expected '%s', found '%s'", set_name, index, t.name,
                        shown);
  }
  if (!r.has(8)) return truncated_at(r, "tensor shape");
  const std::uint32_t rows = r.u32();
  const std::uint32_t cols = r.u32();
  if (std::uint64_t(rows) != std::uint64_t(t.rows) || std::uint64_t(cols) != std::uint64_t(t.cols))
    return Status::fail(Error::bad_checkpoint, "%s%stensor '%s' has shape %lux%lu, the configuration expects %dx%d",
                        prefix, space, t.name, static_cast<unsigned long>(rows), static_cast<unsigned long>(cols),
                        t.rows, t.cols);
  const std::uint64_t n = t.size();
  if (n > r.left() / 4) return truncated_at(r, "tensor values");
  for (std::uint64_t k = 0; k < n; ++k) {
    const std::uint32_t bits = r.u32();
    if (const char* problem = value_problem(bits, set))
      return Status::fail(Error::bad_checkpoint, "%s value in %s%stensor '%s' at index %llu", problem, prefix, space,
                          t.name, static_cast<unsigned long long>(k));
    if (dst) dst[t.offset + k] = bits_float(bits);
  }
  return Status::ok();
}

// Parses one tensor set; with dst it also fills the flat array of `total` entries (padding 0).
Status read_set(Reader& r, const FileModel& m, std::uint64_t total, int set, float* dst) {
  if (!r.has(4)) return truncated_at(r, "tensor count");
  const std::uint32_t count = r.u32();
  const int expected = tensor_count(m);
  if (count != static_cast<std::uint32_t>(expected))
    return Status::fail(Error::bad_checkpoint, "%s: expected %d tensors, found %lu", kSetNames[set], expected,
                        static_cast<unsigned long>(count));
  if (dst)
    for (std::uint64_t k = 0; k < total; ++k) dst[k] = 0.0f;
  Status status = Status::ok();
  int index = 0;
  walk_tensors(m, [&](const Tensor& t) {
    if (status.is_ok()) status = read_tensor(r, t, index++, set, dst);
  });
  return status;
}

// The fields of the first 24 bytes.
struct Preamble {
  std::uint32_t version = 0;
  bool has_optimizer = false;
  std::uint64_t declared = 0;  // total file size the header states
};

// Magic, version, flags and declared size; leaves `r` after them.
Status read_preamble(Reader& r, Preamble* out) {
  if (r.p == nullptr && r.size != 0) return Status::fail(Error::bad_checkpoint, "no checkpoint data (null pointer)");
  // Magic over the bytes that are present, so a short foreign file is "bad magic".
  for (std::size_t i = 0; i < sizeof kMagic && i < r.size; ++i)
    if (r.p[i] != kMagic[i]) return Status::fail(Error::bad_checkpoint, "not a tinyloop checkpoint (bad magic)");
  if (r.size < kHeaderBytes)
    return Status::fail(Error::bad_checkpoint, "truncated: expected at least %llu bytes, got %llu",
                        static_cast<unsigned long long>(kHeaderBytes), static_cast<unsigned long long>(r.size));
  r.pos = sizeof kMagic;
  out->version = r.u32();
  if (out->version < 1 || out->version > kVersionLatest)
    return Status::fail(Error::bad_checkpoint,
                        "unsupported checkpoint version %lu (this build reads versions 1 to %lu)",
                        static_cast<unsigned long>(out->version), static_cast<unsigned long>(kVersionLatest));
  const std::uint32_t flags = r.u32();
  if (flags & ~kKnownFlags)
    return Status::fail(Error::bad_checkpoint, "unknown checkpoint flags 0x%08lx",
                        static_cast<unsigned long>(flags));
  out->has_optimizer = (flags & kFlagOptimizer) != 0;
  out->declared = r.u64();
  return Status::ok();
}

// One configuration, one encoding: a file the writer would not produce is refused, so that
// every accepted file is written back byte for byte.
Status check_version(std::uint32_t version, const TrainConfig& cfg, bool block) {
  if (version == version_for(cfg, block)) return Status::ok();
  return Status::fail(Error::bad_checkpoint,
                      "format version %lu does not match the configuration (it is written as version %lu)",
                      static_cast<unsigned long>(version), static_cast<unsigned long>(version_for(cfg, block)));
}

// The configuration block and, in version 4, the model block; validated.
Status read_model(Reader& r, std::uint32_t version, TrainConfig* cfg, FileModel* model) {
  TINYLOOP_TRY(read_config(r, version, cfg));
  if (version >= io::kVersionModelBlock) {
    TINYLOOP_TRY(io::read_spec(r, &cfg->model));
  }
  *model = model_of(*cfg);
  return check_version(version, *cfg, model->block);
}

// The flat array's size as a size_t, or a message when it does not fit this machine.
Status fits(std::uint64_t total, std::size_t* out) {
  if (total > std::uint64_t(std::numeric_limits<std::size_t>::max() / sizeof(float)))
    return Status::fail(Error::bad_checkpoint, "a model of %llu parameters does not fit this machine's memory",
                        static_cast<unsigned long long>(total));
  *out = static_cast<std::size_t>(total);
  return Status::ok();
}

// Full validation; with params != nullptr it then copies the tensors (second pass, so the
// outputs are untouched unless the whole file is valid).
Status parse(const std::uint8_t* data, std::size_t size, CheckpointHeader* header, float* params, float* adam_m,
             float* adam_v) {
  Reader r{data, size};
  Preamble pre;
  TINYLOOP_TRY(read_preamble(r, &pre));
  const std::uint32_t version = pre.version;
  const bool has_opt = pre.has_optimizer;
  const std::uint64_t declared = pre.declared;
  if (declared > std::uint64_t(size))
    return Status::fail(Error::bad_checkpoint, "truncated: expected %llu bytes, got %llu",
                        static_cast<unsigned long long>(declared), static_cast<unsigned long long>(size));
  if (declared < std::uint64_t(size))
    return Status::fail(Error::bad_checkpoint, "size mismatch: header declares %llu bytes, got %llu (trailing data)",
                        static_cast<unsigned long long>(declared), static_cast<unsigned long long>(size));
  if (size < tensors_offset(version) + kCrcBytes)
    return Status::fail(Error::bad_checkpoint, "truncated: expected at least %llu bytes, got %llu",
                        static_cast<unsigned long long>(tensors_offset(version) + kCrcBytes),
                        static_cast<unsigned long long>(size));
  const std::size_t body = size - kCrcBytes;
  Reader crc_reader{data, size, body};
  const std::uint32_t stored_crc = crc_reader.u32();
  if (crc32(data, body) != stored_crc)
    return Status::fail(Error::bad_checkpoint, "checksum mismatch: file is corrupted");

  r.size = body;  // from here on the checksum is not part of the payload
  CheckpointHeader h;
  h.has_optimizer = has_opt;
  FileModel m;
  TINYLOOP_TRY(read_model(r, version, &h.config, &m));
  h.looped_block = m.block;
  const std::uint64_t expect = file_bytes64(m, has_opt, version);
  if (expect != std::uint64_t(size))
    return Status::fail(Error::bad_checkpoint, "size %llu does not match the configuration (expected %llu bytes)",
                        static_cast<unsigned long long>(size), static_cast<unsigned long long>(expect));
  if (!r.has(kStateBytes)) return truncated_at(r, "training state");
  h.step = r.i64();
  h.rng_state = r.u64();
  h.rng_inc = r.u64();
  if (h.step < 0)
    return Status::fail(Error::bad_checkpoint, "step must be >= 0, got %lld", static_cast<long long>(h.step));
  if ((h.rng_inc & 1u) == 0)
    return Status::fail(Error::bad_checkpoint, "data rng increment must be odd (PCG32), got 0x%016llx",
                        static_cast<unsigned long long>(h.rng_inc));

  const std::uint64_t total = walk_tensors(m, [](const Tensor&) {});
  TINYLOOP_TRY(fits(total, &h.param_count));
  const std::size_t tensors_at = r.pos;
  const int sets = has_opt ? 3 : 1;
  for (int s = 0; s < sets; ++s) TINYLOOP_TRY(read_set(r, m, total, s, nullptr));
  if (r.pos != body)
    return Status::fail(Error::bad_checkpoint, "%llu unexpected bytes before the checksum",
                        static_cast<unsigned long long>(body - r.pos));

  if (params) {
    float* dst[3] = {params, adam_m, adam_v};
    r.pos = tensors_at;
    for (int s = 0; s < sets; ++s) TINYLOOP_TRY(read_set(r, m, total, s, dst[s]));
  }
  if (header) *header = h;
  return Status::ok();
}

}  // namespace

Status validate_checkpoint_config(const TrainConfig& cfg) {
  if (is_looped_block(cfg.model)) return validate(cfg);
  TINYLOOP_TRY(validate(cfg.model));
  return validate_shared(cfg);
}

// Returns 0 when the model configuration is invalid (its shapes are then undefined) or the
// size does not fit in size_t.
std::size_t checkpoint_bytes(const TrainConfig& cfg, bool with_optimizer) {
  const FileModel m = model_of(cfg);
  const std::uint64_t n = file_bytes64(m, with_optimizer, version_for(cfg, m.block));
  if (n > std::uint64_t(std::numeric_limits<std::size_t>::max())) return 0;
  return static_cast<std::size_t>(n);
}

Status checkpoint_write(const CheckpointData& in, std::uint8_t* out, std::size_t capacity, std::size_t* written) {
  if (written) *written = 0;
  TINYLOOP_TRY(validate_checkpoint_config(in.config));
  if (in.params == nullptr) return Status::fail(Error::bad_config, "checkpoint_write: params is null");
  if ((in.adam_m == nullptr) != (in.adam_v == nullptr))
    return Status::fail(Error::bad_config, "checkpoint_write: adam_m and adam_v must both be set or both be null");
  if (in.step < 0)
    return Status::fail(Error::bad_config, "checkpoint_write: step must be >= 0, got %lld",
                        static_cast<long long>(in.step));
  if ((in.rng_inc & 1u) == 0)
    return Status::fail(Error::bad_config, "checkpoint_write: rng increment must be odd (take it from Rng::increment())");
  const bool has_opt = in.adam_m != nullptr;
  const std::size_t total = checkpoint_bytes(in.config, has_opt);
  if (total == 0) return Status::fail(Error::bad_config, "checkpoint_write: checkpoint size overflows size_t");
  if (out == nullptr || capacity < total)
    return Status::fail(Error::buffer_too_small, "checkpoint needs %llu bytes, buffer holds %llu",
                        static_cast<unsigned long long>(total),
                        static_cast<unsigned long long>(out == nullptr ? 0 : capacity));

  // Refuse to write a file the reader would refuse (value_problem).
  const FileModel m = model_of(in.config);
  const float* sets[3] = {in.params, in.adam_m, in.adam_v};
  Status finite = Status::ok();
  for (int s = 0; s < (has_opt ? 3 : 1); ++s)
    walk_tensors(m, [&](const Tensor& t) {
      for (std::uint64_t k = 0; k < t.size() && finite.is_ok(); ++k) {
        if (const char* problem = value_problem(float_bits(sets[s][t.offset + k]), s))
          finite = Status::fail(Error::non_finite, "%s value in %s tensor '%s' at index %llu", problem, kSetNames[s],
                                t.name, static_cast<unsigned long long>(k));
      }
    });
  if (!finite.is_ok()) return finite;

  Writer w{out, total};
  w.bytes(kMagic, sizeof kMagic);
  const std::uint32_t version = version_for(in.config, m.block);
  w.u32(version);
  w.u32(has_opt ? kFlagOptimizer : 0u);
  w.u64(total);
  write_config(w, in.config, version);
  if (!m.block) io::write_spec(w, m.spec);
  w.i64(in.step);
  w.u64(in.rng_state);
  w.u64(in.rng_inc);
  for (int s = 0; s < (has_opt ? 3 : 1); ++s) write_set(w, m, sets[s]);
  if (w.overflow || w.pos != total - kCrcBytes)
    return Status::fail(Error::bad_config, "checkpoint_write: internal size mismatch (%llu of %llu bytes)",
                        static_cast<unsigned long long>(w.pos), static_cast<unsigned long long>(total));
  w.u32(crc32(out, w.pos));
  if (written) *written = total;
  return Status::ok();
}

Status checkpoint_size_from_head(const std::uint8_t* head, std::size_t size, std::size_t* bytes) {
  if (bytes) *bytes = 0;
  Reader r{head, size};
  Preamble pre;
  TINYLOOP_TRY(read_preamble(r, &pre));
  TrainConfig cfg;
  FileModel m;
  TINYLOOP_TRY(read_model(r, pre.version, &cfg, &m));
  const std::uint64_t expect = file_bytes64(m, pre.has_optimizer, pre.version);
  if (pre.declared != expect)
    return Status::fail(Error::bad_checkpoint,
                        "size mismatch: header declares %llu bytes, its configuration implies %llu",
                        static_cast<unsigned long long>(pre.declared), static_cast<unsigned long long>(expect));
  if (expect > std::uint64_t(std::numeric_limits<std::size_t>::max()))
    return Status::fail(Error::bad_checkpoint, "checkpoint of %llu bytes does not fit this machine's memory",
                        static_cast<unsigned long long>(expect));
  if (bytes) *bytes = static_cast<std::size_t>(expect);
  return Status::ok();
}

Status checkpoint_read_header(const std::uint8_t* data, std::size_t size, CheckpointHeader* out) {
  return parse(data, size, out, nullptr, nullptr, nullptr);
}

Status checkpoint_read_tensors(const std::uint8_t* data, std::size_t size, float* params, float* adam_m,
                               float* adam_v) {
  if (params == nullptr) return Status::fail(Error::bad_config, "checkpoint_read_tensors: params is null");
  return parse(data, size, nullptr, params, adam_m, adam_v);
}

std::uint32_t checkpoint_crc32(const std::uint8_t* data, std::size_t size) { return crc32(data, size); }

}  // namespace tinyloop
