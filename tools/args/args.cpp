#include "args.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "text_format.hpp"

namespace tinyloop::cli {

void usage_error(const std::string& message) { throw CliError{kExitUsage, message}; }
void runtime_error(const std::string& message) { throw CliError{kExitRuntime, message}; }

namespace {

// Shows a user-supplied value inside an error message without letting it break the line.
std::string quoted(const std::string& text) { return "'" + text::printable(text, 40) + "'"; }

bool starts_plain(const std::string& text) {
  return !text.empty() && !std::isspace(static_cast<unsigned char>(text[0]));
}

const FlagSpec* lookup(const CommandSpec& spec, const std::string& name) {
  for (const FlagSpec& f : spec.flags)
    if (name == f.name) return &f;
  return nullptr;
}

}  // namespace

bool parse_int64(const std::string& text, std::int64_t* out, bool* overflow) {
  *overflow = false;
  if (!starts_plain(text)) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0') return false;
  if (errno == ERANGE) {
    *overflow = true;
    return false;
  }
  *out = static_cast<std::int64_t>(v);
  return true;
}

bool parse_uint64(const std::string& text, std::uint64_t* out, bool* overflow) {
  *overflow = false;
  if (!starts_plain(text) || text[0] == '-') return false;  // strtoull would wrap "-1"
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0') return false;
  if (errno == ERANGE) {
    *overflow = true;
    return false;
  }
  *out = static_cast<std::uint64_t>(v);
  return true;
}

bool parse_double(const std::string& text, double* out) {
  if (!starts_plain(text)) return false;
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0') return false;
  *out = v;
  return true;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1, 0));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  // An abbreviation ("hamilton", "--eval-len") names the one candidate it starts.
  std::string prefix_of;
  int prefixes = 0;
  for (const std::string& c : candidates) {
    if (word.size() >= 3 && c.size() > word.size() && c.compare(0, word.size(), word) == 0) {
      prefix_of = c;
      ++prefixes;
    }
  }
  if (prefixes == 1) return prefix_of;
  std::string best;
  std::size_t best_d = static_cast<std::size_t>(-1);
  for (const std::string& c : candidates) {
    std::size_t dist = edit_distance(word, c);
    if (dist < best_d) {
      best_d = dist;
      best = c;
    }
  }
  // Up to a third of the word may be wrong (at least 2 edits, which covers short flags).
  std::size_t allowed = std::max<std::size_t>(2, word.size() / 3);
  return best_d <= allowed ? best : std::string();
}

std::string format_help(const CommandSpec& spec) {
  std::string out = "usage: ";
  out += spec.usage;
  out += "\n\n";
  out += spec.summary;
  out += "\n";
  if (!spec.flags.empty()) {
    out += "\noptions:\n";
    std::size_t width = 0;
    std::vector<std::string> heads;
    for (const FlagSpec& f : spec.flags) {
      std::string head = f.name;
      if (f.metavar) {
        head += " ";
        head += f.metavar;
      }
      width = std::max(width, head.size());
      heads.push_back(head);
    }
    heads.push_back("--help");
    width = std::max<std::size_t>(width, 6);
    for (std::size_t i = 0; i <= spec.flags.size(); ++i) {
      const char* help = i < spec.flags.size() ? spec.flags[i].help : "show this help and exit";
      out += "  " + heads[i] + std::string(width - heads[i].size() + 2, ' ') + help + "\n";
    }
  }
  if (spec.notes) {
    out += "\n";
    out += spec.notes;
    if (out.back() != '\n') out += "\n";
  }
  return out;
}

ParsedArgs ParsedArgs::parse(const CommandSpec& spec, const std::vector<std::string>& args) {
  ParsedArgs p;
  p.spec_ = &spec;
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      p.help_ = true;
      return p;
    }
  }
  std::vector<std::string> names;
  for (const FlagSpec& f : spec.flags) names.push_back(f.name);
  names.push_back("--help");

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-' || arg == "--") {
      usage_error("unexpected argument " + quoted(arg) + " for " + spec.name +
                  " (options start with '--'; see 'tinyloop " + spec.name + " --help')");
    }
    std::string name = arg;
    std::string value;
    bool inline_value = false;
    std::size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    const FlagSpec* f = lookup(spec, name);
    if (!f) {
      std::string msg = "unknown flag " + quoted(name) + " for " + spec.name;
      std::string near = closest_match(name, names);
      if (!near.empty()) msg += "; did you mean '" + near + "'?";
      else msg += " (see 'tinyloop " + std::string(spec.name) + " --help')";
      usage_error(msg);
    }
    for (const auto& kv : p.values_)
      if (kv.first == name) usage_error(name + " given more than once");
    if (!f->metavar) {
      if (inline_value) usage_error(name + " takes no value, got " + quoted(value));
      p.values_.emplace_back(name, std::string());
      continue;
    }
    if (!inline_value) {
      // A following "--something" is the next flag, not a value; "-5" is a value.
      if (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0)
        usage_error(name + " expects a value (" + f->metavar + ")");
      value = args[++i];
    }
    p.values_.emplace_back(name, value);
  }
  return p;
}

const std::string* ParsedArgs::find(const std::string& flag) const {
  for (const auto& kv : values_)
    if (kv.first == flag) return &kv.second;
  return nullptr;
}

std::string ParsedArgs::get_string(const std::string& flag, const std::string& fallback) const {
  const std::string* v = find(flag);
  if (!v) return fallback;
  if (v->empty()) usage_error(flag + " expects a non-empty value");
  return *v;
}

std::string ParsedArgs::require_string(const std::string& flag, const char* what) const {
  const std::string* v = find(flag);
  if (!v) usage_error(std::string(spec_->name) + " needs " + flag + " " + what);
  if (v->empty()) usage_error(flag + " expects a non-empty value");
  return *v;
}

std::int64_t ParsedArgs::get_int(const std::string& flag, std::int64_t fallback, std::int64_t min,
                                 std::int64_t max) const {
  const std::string* v = find(flag);
  if (!v) return fallback;
  std::int64_t x = 0;
  bool overflow = false;
  if (!parse_int64(*v, &x, &overflow)) {
    if (overflow) usage_error(flag + " value " + quoted(*v) + " is out of range");
    usage_error(flag + " expects an integer, got " + quoted(*v));
  }
  if (x < min || x > max) {
    // A huge bound is only a safety limit: name just the side that was crossed.
    const bool huge = max > (std::int64_t(1) << 31) || min < -(std::int64_t(1) << 31);
    if (huge && x < min) usage_error(flag + " must be >= " + std::to_string(min) + ", got " + *v);
    if (huge) usage_error(flag + " must be <= " + std::to_string(max) + ", got " + *v);
    usage_error(flag + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                ", got " + *v);
  }
  return x;
}

std::uint64_t ParsedArgs::get_u64(const std::string& flag, std::uint64_t fallback) const {
  const std::string* v = find(flag);
  if (!v) return fallback;
  std::uint64_t x = 0;
  bool overflow = false;
  if (!parse_uint64(*v, &x, &overflow)) {
    if (overflow) usage_error(flag + " value " + quoted(*v) + " is out of range (max 18446744073709551615)");
    usage_error(flag + " expects a non-negative integer, got " + quoted(*v));
  }
  return x;
}

float ParsedArgs::get_float(const std::string& flag, float fallback, double min, double max,
                            bool min_exclusive) const {
  const std::string* v = find(flag);
  if (!v) return fallback;
  double x = 0;
  if (!parse_double(*v, &x)) usage_error(flag + " expects a number, got " + quoted(*v));
  if (!std::isfinite(x) || std::fabs(x) > double(FLT_MAX))
    usage_error(flag + " must be a finite number, got " + quoted(*v));
  bool low = min_exclusive ? !(x > min) : !(x >= min);
  if (low || x > max) {
    std::string range;
    if (max >= double(FLT_MAX)) range = std::string(min_exclusive ? "> " : ">= ") + text::format_g(min, 6);
    else
      range = std::string("in ") + (min_exclusive ? "(" : "[") + text::format_g(min, 6) + ", " +
              text::format_g(max, 6) + "]";
    usage_error(flag + " must be " + range + ", got " + *v);
  }
  return static_cast<float>(x);
}

std::string ParsedArgs::get_choice(const std::string& flag, const std::string& fallback,
                                   const std::vector<std::string>& choices) const {
  const std::string* v = find(flag);
  if (!v) return fallback;
  for (const std::string& c : choices)
    if (*v == c) return c;
  std::string list;
  for (std::size_t i = 0; i < choices.size(); ++i) list += (i ? " or '" : "'") + choices[i] + "'";
  std::string msg = flag + " expects " + list + ", got " + quoted(*v);
  std::string near = closest_match(*v, choices);
  if (!near.empty()) msg += "; did you mean '" + near + "'?";
  usage_error(msg);
}

std::vector<std::string> ParsedArgs::get_string_list(const std::string& flag,
                                                     const std::vector<std::string>& fallback) const {
  const std::string* v = find(flag);
  if (!v) return fallback;
  if (v->empty()) usage_error(flag + " expects a comma-separated list, got ''");
  const std::vector<std::string> out = text::split(*v, ",");
  for (const std::string& item : out)
    if (item.empty()) usage_error(flag + " has an empty entry in " + quoted(*v));
  return out;
}

std::vector<int> ParsedArgs::get_int_list(const std::string& flag, const std::vector<int>& fallback,
                                          int min, int max) const {
  if (!find(flag)) return fallback;
  const std::string& v = *find(flag);
  std::vector<int> out;
  for (const std::string& item : get_string_list(flag, {})) {
    std::int64_t x = 0;
    bool overflow = false;
    if (!parse_int64(item, &x, &overflow))
      usage_error(flag + " expects a comma-separated list of integers, got " + quoted(item) + " in " + quoted(v));
    if (overflow || x < min || x > max)
      usage_error(flag + " entries must be between " + std::to_string(min) + " and " + std::to_string(max) +
                  ", got " + item);
    out.push_back(static_cast<int>(x));
  }
  return out;
}

}  // namespace tinyloop::cli
