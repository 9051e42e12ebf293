// The one list of configuration fields (tinyloop/config_fields.hpp): it adds up to the
// checkpoint's configuration block in every format version, names each field once, reaches a
// distinct member with each entry, and round-trips every value through its stored bits.
#include <doctest/doctest.h>

#include <cstring>
#include <set>
#include <string>

#include "io/checkpoint_config.hpp"
#include "tinyloop/config_fields.hpp"

using namespace tinyloop;

TEST_CASE("config fields: the list adds up to the checkpoint's configuration block") {
  CHECK(io::config_bytes(1) == 140);
  CHECK(io::config_bytes(2) == 152);
  CHECK(io::config_bytes(3) == 160);
  CHECK(io::config_bytes(3) == io::kConfigBytesV3);
}

TEST_CASE("config fields: keys and flags are unique, and each flag is described") {
  std::size_t count = 0;
  const ConfigField* fields = config_fields(&count);
  REQUIRE(count > 30);
  std::set<std::string> keys, flags;
  for (std::size_t i = 0; i < count; ++i) {
    const ConfigField& f = fields[i];
    CAPTURE(f.key);
    CHECK(keys.insert(f.key).second);
    CHECK(find_config_field(f.key) == &f);
    if (i > 0) CHECK(f.since >= fields[i - 1].since);  // newer versions append
    if (!f.flag) continue;
    CHECK(flags.insert(f.flag).second);
    CHECK(find_config_field(f.flag) == &f);
    CHECK(f.help != nullptr);
    CHECK((f.meta == nullptr) == (f.type == FieldType::boolean));
    if (f.type == FieldType::choice || f.type == FieldType::boolean) CHECK(f.choices != nullptr);
    if (f.applies) CHECK(f.applies_text != nullptr);
  }
}

TEST_CASE("config fields: each entry reaches its own member, and bits round-trip") {
  std::size_t count = 0;
  const ConfigField* fields = config_fields(&count);
  const TrainConfig base = preset_lam2026();
  std::set<const void*> members;
  for (std::size_t i = 0; i < count; ++i) {
    const ConfigField& f = fields[i];
    CAPTURE(f.key);
    TrainConfig c = base;
    if (!f.member) {  // retired: one value, whatever is set
      CHECK(f.type == FieldType::f32);
      CHECK(f.flag == nullptr);
      CHECK(f.lo == f.hi);
      const std::uint64_t was = field_bits(f, c);
      set_field_bits(f, c, was + 1);
      CHECK(field_bits(f, c) == was);
      CHECK(field_number(f, c) == f.lo);
      CHECK(first_difference(c, base) == nullptr);
      continue;
    }
    CHECK(members.insert(f.member(c)).second);
    // A value different from the preset's, in the field's own encoding.
    const std::uint64_t was = field_bits(f, c);
    const std::uint64_t now = f.type == FieldType::boolean ? (was ^ 1u) : f.type == FieldType::choice ? (was == 0 ? 1u : 0u)
                                                                                                       : was + 1;
    set_field_bits(f, c, now);
    CHECK(field_bits(f, c) == now);
    CHECK(first_difference(c, base) == &f);
    CHECK(first_difference(base, base) == nullptr);
  }
  // field_number reads the member: the preset's learning rate, steps and switch.
  CHECK(field_number(*find_config_field("--lr"), base) == double(base.optim.lr));
  CHECK(field_number(*find_config_field("--steps"), base) == double(base.steps));
  CHECK(field_number(*find_config_field("--no-mask"), base) == 1.0);
  // Negative integers keep their sign through the stored bits.
  TrainConfig c = base;
  const ConfigField* warmup = find_config_field("optim.warmup_steps");
  REQUIRE(warmup != nullptr);
  c.optim.warmup_steps = -7;
  TrainConfig d = base;
  set_field_bits(*warmup, d, field_bits(*warmup, c));
  CHECK(d.optim.warmup_steps == -7);
}
