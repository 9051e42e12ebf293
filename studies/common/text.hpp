#pragma once
// What every study shares besides its figures (common/svg.hpp): the report it hands back (files
// in memory, written by its caller: write_report), how it fails, and the number formats of its tables
// (tools/text).
#include <stdexcept>
#include <string>
#include <vector>

#include "text_format.hpp"  // tools/text: the number formats of every table (text::format_fixed, ...)
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

// A study stops on a runtime problem (a model that cannot be planned, a file that cannot be
// read) with a Failure; its message is one line, which the CLI prints as its runtime error.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void fail(const std::string& message);
// fail(status.message()) unless the status is ok.
void check(const Status& status);

// Writes every file of a report into `out` (created with its parents), each through
// platform::write_file_atomic; a failure is a Failure: "--out: <reason>" or "<file> not saved:
// <reason>".
void write_report(const std::string& out, const Report& report);
// "wrote OUT/a, b, c\n": the files of the report, in order.
std::string wrote_line(const std::string& out, const Report& report);

}  // namespace tinyloop::study
