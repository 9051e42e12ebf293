// The configuration block of a checkpoint (docs/CHECKPOINT.md): the fields of
// tinyloop/config_fields.hpp in their order, those of the file's version and older.
#include "io/checkpoint_config.hpp"

#include <cstring>

#include "tinyloop/config_fields.hpp"

namespace tinyloop::io {

namespace {
// Version 4 describes its model in the model block (io/checkpoint_spec.hpp); its configuration
// block keeps the recipe any model shares: the optimiser and its schedule, batch, steps and seed.
// The looped block's model, objective, task and curriculum fields are not stored.
bool stored(const ConfigField& f, std::uint32_t version) {
  if (f.since > version) return false;
  if (version < kVersionModelBlock) return true;
  return std::strncmp(f.key, "optim.", 6) == 0 || std::strcmp(f.key, "batch") == 0 ||
         std::strcmp(f.key, "steps") == 0 || std::strcmp(f.key, "seed") == 0;
}
}  // namespace

std::size_t config_bytes(std::uint32_t version) {
  std::size_t count = 0, bytes = 0;
  const ConfigField* fields = config_fields(&count);
  for (std::size_t i = 0; i < count; ++i)
    if (stored(fields[i], version)) bytes += field_bytes(fields[i]);
  return bytes;
}

void write_config(Writer& w, const TrainConfig& c, std::uint32_t version) {
  std::size_t count = 0;
  const ConfigField* fields = config_fields(&count);
  for (std::size_t i = 0; i < count; ++i) {
    const ConfigField& f = fields[i];
    if (!stored(f, version)) continue;
    if (field_bytes(f) == 8) w.u64(field_bits(f, c));
    else w.u32(static_cast<std::uint32_t>(field_bits(f, c)));
  }
}

// Enumerations and booleans are stored as u32; values that would not survive the narrowing
// to the in-memory type are refused here, the rest by validate().
Status read_config(Reader& r, std::uint32_t version, TrainConfig* out) {
  if (!r.has(config_bytes(version))) return truncated_at(r, "configuration block");
  std::size_t count = 0;
  const ConfigField* fields = config_fields(&count);
  TrainConfig c;
  for (std::size_t i = 0; i < count; ++i) {
    const ConfigField& f = fields[i];
    if (!stored(f, version)) continue;
    const std::uint64_t bits = field_bytes(f) == 8 ? r.u64() : r.u32();
    if (f.type == FieldType::choice && bits > 0xFFu)
      return Status::fail(Error::bad_checkpoint, "invalid configuration: %s = %lu is not a known value", f.key,
                          static_cast<unsigned long>(bits));
    if (f.type == FieldType::boolean && bits > 1u)
      return Status::fail(Error::bad_checkpoint, "invalid configuration: %s = %lu is not 0 or 1", f.key,
                          static_cast<unsigned long>(bits));
    if (!f.member && bits != field_bits(f, c))
      return Status::fail(Error::bad_checkpoint, "invalid configuration: %s is retired and must be %g", f.key, f.lo);
    set_field_bits(f, c, bits);
  }
  // The looped block's NONE class, implied. out_dim is only checked by validate(): a stored
  // INT_MIN must not overflow here first.
  c.model.ignore_class = c.model.out_dim > 0 ? c.model.out_dim - 1 : -1;
  const Status v = validate(c);
  if (!v.is_ok()) return Status::fail(Error::bad_checkpoint, "invalid configuration: %s", v.message());
  *out = c;
  return Status::ok();
}

}  // namespace tinyloop::io
