#pragma once
// Every field of a TrainConfig, listed once: its key, type and checkpoint format version (in
// the checkpoint's order), and its command-line flag, accepted and plausible ranges and help.
// The checkpoint's configuration block, the CLI's flags and --help, the resume check, the
// reports' flag text and the plausible-range warnings all read this one list.
#include <cstddef>
#include <cstdint>

#include "tinyloop/config.hpp"

namespace tinyloop {

enum class FieldType : std::uint8_t {
  i32,      // stored as 4 bytes
  i64,      // 8
  u64,      // 8
  f32,      // 4 (IEEE-754 bits)
  choice,   // an enumeration, stored as u32; named by `choices` in value order
  boolean,  // stored as u32 0 or 1; its flag is a switch that sets `switch_value`
};

struct ConfigField {
  const char* key;      // "optim.lr": its name in checkpoint messages
  FieldType type;
  std::uint32_t since;  // the checkpoint format version that first stores it
  void* (*member)(TrainConfig&);  // nullptr: a retired f32 field, always lo (= hi)
  // Command line. flag == nullptr: not settable there (AdamW's betas, the vocabularies, ...).
  const char* flag;     // "--lr"
  const char* meta;     // "X"; nullptr for a switch
  const char* help;     // one line, without the default (the CLI adds the presets' values)
  double lo, hi;        // the values the flag accepts (i32, i64, f32)
  bool lo_open;         // lo itself refused
  double plausible_lo, plausible_hi;  // outside: the run starts with a warning (lo > hi: no such range)
  const char* const* choices;  // choice and boolean: the names of the values, in value order
  int choice_count;
  bool switch_value;  // boolean: the value its switch sets
  bool (*applies)(const TrainConfig&);  // nullptr: always; else the flag is refused unless it holds
  const char* applies_text;             // "to --loop hamiltonian"
};

// The fields in the checkpoint's order; *count gets their number.
const ConfigField* config_fields(std::size_t* count);

// The field with this key ("optim.lr") or flag ("--lr"); nullptr when none.
const ConfigField* find_config_field(const char* key_or_flag);

// A field's value in its stored encoding (two's complement, IEEE-754 bits, the enumeration's
// number, 0/1), widened to 64 bits, and back. Two configurations are the same exactly when
// every field's bits are. A retired field reads as its one value and ignores what is set.
std::uint64_t field_bits(const ConfigField& f, const TrainConfig& c);
void set_field_bits(const ConfigField& f, TrainConfig& c, std::uint64_t bits);
// The same encoding for a value of type t at p, of any struct (the checkpoint's model block
// stores ModelSpec's fields with it).
std::uint64_t value_bits(FieldType t, const void* p);
void set_value_bits(FieldType t, void* p, std::uint64_t bits);
// A field's value as a number (exact for every type but u64 above 2^53, i.e. large seeds).
double field_number(const ConfigField& f, const TrainConfig& c);
// Bytes of the field in the checkpoint: 8 for i64 and u64, else 4.
std::size_t field_bytes(const ConfigField& f);

// The first field whose value differs (nullptr: the configurations are the same).
const ConfigField* first_difference(const TrainConfig& a, const TrainConfig& b);

}  // namespace tinyloop
