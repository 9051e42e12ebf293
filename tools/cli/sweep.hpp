#pragma once
// Sweep specs and command lines, shared by `sweep`, `merge` and `reproduce`.
#include <string>
#include <vector>

#include "args.hpp"
#include "commands.hpp"

namespace tinyloop::cli {

struct SweepRun {
  std::string name, seed, dir;
  std::vector<std::string> args;    // the subcommand's arguments
  std::string subcommand = "train";  // or "reproduce": a study table's search
};

// Parses and checks a sweep spec (see `tinyloop sweep --help`); `where` names it in errors.
std::vector<SweepRun> parse_sweep(const std::string& text, const std::string& where);

// Splits the words that are neither flags nor flag values (positional arguments) from `args`.
std::vector<std::string> split_positionals(const CommandSpec& spec, const Args& args, Args* rest);

std::string self_executable();
std::string command_line(const std::string& bin, const std::string& sub, const std::vector<std::string>& args);

}  // namespace tinyloop::cli
