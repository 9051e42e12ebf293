#include "text_format.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tinyloop::text {

namespace {

// A byte as an escape code: escape_code("\\x", 2, 7) = "\x07".
std::string escape_code(const char* prefix, int digits, unsigned char u) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s%0*x", prefix, digits, unsigned(u));
  return buf;
}

}  // namespace

std::string format_g(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string format_g9(double v) { return format_g(v, 9); }

std::string format_float(float v) {
  for (int digits = 6; digits < 9; ++digits) {
    const std::string text = format_g(double(v), digits);
    if (std::strtof(text.c_str(), nullptr) == v) return text;
  }
  return format_g9(double(v));
}

std::string format_fixed(double v, int digits) {
  char buf[352];  // DBL_MAX with a few decimals fits
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string format_exp(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*e", digits, v);
  return buf;
}

std::string format_percent(double fraction) {
  if (!std::isfinite(fraction)) return "-";
  return format_fixed(100.0 * fraction, fraction >= 0.99 ? 2 : 1);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  char buf[32];
  auto s = static_cast<long long>(seconds + 0.5);
  if (s < 60) std::snprintf(buf, sizeof buf, "%llds", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  return buf;
}

std::string format_bytes(std::size_t bytes) {
  char buf[32];
  double b = static_cast<double>(bytes);
  if (b < 1024.0) std::snprintf(buf, sizeof buf, "%zu B", bytes);
  else if (b < 1024.0 * 1024.0) std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else if (b < 1024.0 * 1024.0 * 1024.0) std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1024.0 * 1024.0));
  else std::snprintf(buf, sizeof buf, "%.1f GiB", b / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

std::string json_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20) out += escape_code("\\u", 4, u);
        else out += c;
    }
  }
  return out;
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,/=:+") ==
                        std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string printable(const std::string& text, std::size_t max_chars) {
  std::string out;
  std::size_t shown = 0;
  for (char c : text) {
    if (++shown > max_chars) return out + "...";
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) out += escape_code("\\x", 2, u);
    else out += c;
  }
  return out;
}

std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  for (std::size_t start = 0;;) {
    const std::size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + sep.size();
  }
}

}  // namespace tinyloop::text
