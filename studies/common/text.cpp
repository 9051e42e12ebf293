#include "common/text.hpp"

#include <cstdio>

namespace tinyloop::study {

const std::string* Report::find(const std::string& name) const {
  for (const File& f : files)
    if (f.name == name) return &f.text;
  return nullptr;
}

std::string format(const char* printf_format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, printf_format, v);
  return buf;
}

std::string g9(double v) { return format("%.9g", v); }

void fail(const std::string& message) { throw Failure(message); }

void check(const Status& status) {
  if (!status) fail(status.message());
}

}  // namespace tinyloop::study
