#pragma once
// What every study shares besides its figures (common/svg.hpp): the report it hands back (files
// in memory, written by its caller), the number formats of its tables, and how it fails.
#include <stdexcept>
#include <string>
#include <vector>

#include "tinyloop/status.hpp"

namespace tinyloop::study {

// A study's output: files (name inside the report folder, contents) and a few summary lines
// for the terminal. The caller decides where and how they are written.
struct File {
  std::string name, text;
};
struct Report {
  std::vector<File> files;
  std::string summary;
  const std::string* find(const std::string& name) const;  // nullptr when absent
};

// One number through a printf format with a single double conversion: format("%.4f", v).
std::string format(const char* printf_format, double v);
// "%.9g": shortest text that reads back to the same float (the CSV format of the studies).
std::string g9(double v);

// A study stops on a runtime problem (a model that cannot be planned, a file that cannot be
// read) with a Failure; its message is one line, which the CLI prints as its runtime error.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void fail(const std::string& message);
// fail(status.message()) unless the status is ok.
void check(const Status& status);

}  // namespace tinyloop::study
