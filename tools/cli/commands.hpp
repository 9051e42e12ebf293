#pragma once
// The subcommands. Each takes the arguments after its name, returns the exit code, and
// throws CliError for anything that should end the run with one error line.
#include <string>
#include <vector>

#include "args.hpp"

namespace tinyloop::cli {

using Args = std::vector<std::string>;

const CommandSpec& train_spec();
const CommandSpec& eval_spec();
const CommandSpec& infer_spec();
const CommandSpec& export_spec();
const CommandSpec& reproduce_spec();
const CommandSpec& sweep_spec();
const CommandSpec& merge_spec();

int run_train(const Args& args);
int run_eval(const Args& args);
int run_infer(const Args& args);
int run_export(const Args& args);
int run_reproduce(const Args& args);
int run_sweep(const Args& args);
int run_merge(const Args& args);

// `reproduce induction` (cmd_reproduce_induction.cpp: the CLI is the induction study's Lab); the
// other studies' commands are theirs (studies/<study>/command.cpp), and run_reproduce dispatches.
int run_reproduce_induction(const Args& args);

}  // namespace tinyloop::cli
