#pragma once
// Output helpers: a small JSON writer and atomic text writes (the number formats and quoting
// they use are tools/text's text_format.hpp, included here for the commands that print both).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "text_format.hpp"

namespace tinyloop::cli {

// Streaming JSON writer. Containers opened at a depth below `pretty_depth` put each member
// on its own line; deeper ones stay on one line (so long number arrays stay compact).
class JsonWriter {
 public:
  explicit JsonWriter(int pretty_depth = 2) : pretty_depth_(pretty_depth) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  // compact: keep this array on one line whatever its depth.
  JsonWriter& begin_array(bool compact = false);
  JsonWriter& end_array();
  JsonWriter& key(const std::string& k);
  JsonWriter& value(const std::string& s);
  JsonWriter& value(const char* s) { return value(std::string(s)); }
  JsonWriter& value(bool b);
  JsonWriter& value(std::int64_t v);
  JsonWriter& value(std::uint64_t v);
  JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
  // %.9g round-trips a float; non-finite numbers become null (JSON has no NaN).
  JsonWriter& value(double v);
  JsonWriter& null();

  // The document, with a trailing newline.
  std::string finish() const { return out_ + "\n"; }

 private:
  void before_value();
  void open(char c, bool compact = false);
  void close(char c);

  std::string out_;
  struct Level {
    bool first = true;
    bool pretty = false;
  };
  std::vector<Level> stack_;
  bool after_key_ = false;
  int pretty_depth_;
};

// Writes text through platform::write_file_atomic; a failure is the runtime error
// "<what> not saved: <reason naming the path>".
void write_text_atomic(const std::string& path, const std::string& text, const char* what);

}  // namespace tinyloop::cli
