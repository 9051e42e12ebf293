#include "report.hpp"

#include <cmath>
#include <cstdio>

#include "args.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::cli {

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
        if (u < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (stack_.empty()) return;
  Level& l = stack_.back();
  if (!l.first) out_ += l.pretty ? "," : ", ";
  if (l.pretty) {
    out_ += "\n";
    out_.append(2 * stack_.size(), ' ');
  }
  l.first = false;
}

void JsonWriter::open(char c, bool compact) {
  before_value();
  out_ += c;
  Level l;
  l.pretty = !compact && static_cast<int>(stack_.size()) < pretty_depth_;
  stack_.push_back(l);
}

void JsonWriter::close(char c) {
  Level l = stack_.back();
  stack_.pop_back();
  if (l.pretty && !l.first) {
    out_ += "\n";
    out_.append(2 * stack_.size(), ' ');
  }
  out_ += c;
}

JsonWriter& JsonWriter::begin_object() { open('{'); return *this; }
JsonWriter& JsonWriter::end_object() { close('}'); return *this; }
JsonWriter& JsonWriter::begin_array(bool compact) { open('[', compact); return *this; }
JsonWriter& JsonWriter::end_array() { close(']'); return *this; }

JsonWriter& JsonWriter::key(const std::string& k) {
  before_value();
  out_ += "\"" + json_escape(k) + "\": ";
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(const std::string& s) {
  before_value();
  out_ += "\"" + json_escape(s) + "\"";
  return *this;
}

JsonWriter& JsonWriter::value(bool b) {
  before_value();
  out_ += b ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t v) {
  before_value();
  out_ += std::to_string(v);
  return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t v) {
  before_value();
  out_ += std::to_string(v);
  return *this;
}

JsonWriter& JsonWriter::value(double v) {
  before_value();
  out_ += std::isfinite(v) ? format_g9(v) : "null";
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

std::string format_g9(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
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

void write_text_atomic(const std::string& path, const std::string& text, const char* what) {
  Status s = platform::write_file_atomic(path.c_str(), text.data(), text.size());
  if (!s) runtime_error(std::string(what) + " not saved: " + s.message());
}

}  // namespace tinyloop::cli
