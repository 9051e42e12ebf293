#pragma once
// `tinyloop reproduce <study>`: one command file per study (cmd_reproduce_<study>.cpp) turns its
// flags into the study's options, runs it (studies/<study>) and writes its report.
#include <string>
#include <vector>

#include "args.hpp"
#include "common/text.hpp"

namespace tinyloop::cli {

int run_reproduce_induction(const std::vector<std::string>& args);
int run_reproduce_icar(const std::vector<std::string>& args);
int run_reproduce_retrieval(const std::vector<std::string>& args);

// Writes every file of a study's report into `out` (created with its parents).
void write_report(const std::string& out, const study::Report& report);
// "wrote OUT/a, b, c": the files of the report, in order.
std::string wrote_line(const std::string& out, const study::Report& report);

}  // namespace tinyloop::cli
