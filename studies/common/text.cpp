#include "common/text.hpp"

namespace tinyloop::study {

const std::string* Report::find(const std::string& name) const {
  for (const File& f : files)
    if (f.name == name) return &f.text;
  return nullptr;
}

void fail(const std::string& message) { throw Failure(message); }

void check(const Status& status) {
  if (!status) fail(status.message());
}

}  // namespace tinyloop::study
