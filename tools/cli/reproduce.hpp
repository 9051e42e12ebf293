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

}  // namespace tinyloop::cli
