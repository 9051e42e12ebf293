#pragma once
// Flag parsing and validation for the tinyloop CLI and the studies' commands. Every problem becomes
// a CliError that main() prints as one "tinyloop: error: ..." line: exit 2 for usage errors, 1 for runtime.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tinyloop::cli {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

struct CliError {
  int exit_code;
  std::string message;  // one line, no "tinyloop: error:" prefix
};
[[noreturn]] void usage_error(const std::string& message);
[[noreturn]] void runtime_error(const std::string& message);

struct FlagSpec {
  const char* name;     // "--steps"
  const char* metavar;  // "N"; nullptr for a switch that takes no value
  const char* help;     // one line, default included
};

struct CommandSpec {
  const char* name;     // "train"
  const char* usage;    // "tinyloop train [options]"
  const char* summary;  // one line for `tinyloop --help`
  std::vector<FlagSpec> flags;
  const char* notes = nullptr;  // extra paragraph for `--help`, may be nullptr
};

std::string format_help(const CommandSpec& spec);

class ParsedArgs {
 public:
  // Accepts `--flag value`, `--flag=value` and switches; --help / -h anywhere requests help
  // (and wins over every other problem on the line). Throws CliError on unknown flags,
  // missing values, repeated flags and stray arguments.
  static ParsedArgs parse(const CommandSpec& spec, const std::vector<std::string>& args);

  bool help_requested() const { return help_; }
  bool has(const std::string& flag) const { return find(flag) != nullptr; }
  const std::string* find(const std::string& flag) const;

  std::string get_string(const std::string& flag, const std::string& fallback) const;
  // Throws a usage error naming the flag when it is absent.
  std::string require_string(const std::string& flag, const char* what) const;
  std::int64_t get_int(const std::string& flag, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) const;
  std::uint64_t get_u64(const std::string& flag, std::uint64_t fallback) const;
  // Finite, representable as float, inside [min, max] (or (min, max] with min_exclusive).
  float get_float(const std::string& flag, float fallback, double min, double max,
                  bool min_exclusive = false) const;
  std::string get_choice(const std::string& flag, const std::string& fallback,
                         const std::vector<std::string>& choices) const;
  // Comma-separated entries, none empty: "runs/a,runs/b". Absent: `fallback`.
  std::vector<std::string> get_string_list(const std::string& flag, const std::vector<std::string>& fallback) const;
  // Comma-separated integers, each in [min, max]: "64,100,200".
  std::vector<int> get_int_list(const std::string& flag, const std::vector<int>& fallback,
                                int min, int max) const;

 private:
  const CommandSpec* spec_ = nullptr;
  std::vector<std::pair<std::string, std::string>> values_;  // flag -> value ("" for switches)
  bool help_ = false;
};

// Primitives shared with token parsing. Both reject empty text, leading blanks and
// trailing garbage; *overflow is set when the digits are fine but the value does not fit.
bool parse_int64(const std::string& text, std::int64_t* out, bool* overflow);
bool parse_uint64(const std::string& text, std::uint64_t* out, bool* overflow);
bool parse_double(const std::string& text, double* out);

// Optimal-string-alignment distance (a swap of two neighbours counts as one edit).
std::size_t edit_distance(const std::string& a, const std::string& b);
// The candidate nearest to `word` when it is close enough to be a plausible typo, else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace tinyloop::cli
