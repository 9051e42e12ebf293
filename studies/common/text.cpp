#include "common/text.hpp"

#include "tinyloop/platform/posix.hpp"

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

void write_report(const std::string& out, const Report& report) {
  const Status made = platform::make_directories(out.c_str());
  if (!made) fail("--out: " + std::string(made.message()));
  for (const File& f : report.files) {
    const std::string path = out + "/" + f.name;
    const Status s = platform::write_file_atomic(path.c_str(), f.text.data(), f.text.size());
    if (!s) fail(f.name + " not saved: " + s.message());
  }
}

std::string wrote_line(const std::string& out, const Report& report) {
  std::string line = "wrote " + out + "/";
  for (std::size_t i = 0; i < report.files.size(); ++i) line += (i ? ", " : "") + report.files[i].name;
  return line + "\n";
}

}  // namespace tinyloop::study
