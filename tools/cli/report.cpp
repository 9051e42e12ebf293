#include "report.hpp"

#include <cmath>

#include "args.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::cli {

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
  out_ += "\"" + text::json_escape(k) + "\": ";
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(const std::string& s) {
  before_value();
  out_ += "\"" + text::json_escape(s) + "\"";
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
  out_ += std::isfinite(v) ? text::format_g9(v) : "null";
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

void write_text_atomic(const std::string& path, const std::string& text, const char* what) {
  Status s = platform::write_file_atomic(path.c_str(), text.data(), text.size());
  if (!s) runtime_error(std::string(what) + " not saved: " + s.message());
}

}  // namespace tinyloop::cli
