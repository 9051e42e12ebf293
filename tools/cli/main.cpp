// tinyloop: train, evaluate, run and export tiny looped transformers (docs/MODEL.md).
// Dispatch only; each subcommand lives in its own cmd_*.cpp.
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "args.hpp"
#include "commands.hpp"
#include "tinyloop/platform/posix.hpp"

namespace {

using namespace tinyloop::cli;

struct Command {
  const char* name;
  const CommandSpec& (*spec)();
  int (*run)(const Args&);
};

const Command kCommands[] = {
    {"train", train_spec, run_train},
    {"eval", eval_spec, run_eval},
    {"infer", infer_spec, run_infer},
    {"export", export_spec, run_export},
    {"reproduce", reproduce_spec, run_reproduce},
    {"sweep", sweep_spec, run_sweep},
    {"merge", merge_spec, run_merge},
};

// "train, eval, ..., sweep or merge": every command, from the table above.
std::string command_names(const char* last_separator) {
  std::string list;
  const std::size_t n = sizeof kCommands / sizeof kCommands[0];
  for (std::size_t i = 0; i < n; ++i)
    list += std::string(i == 0 ? "" : i + 1 == n ? last_separator : ", ") + kCommands[i].name;
  return list;
}

void print_top_help(std::FILE* out) {
  std::fprintf(out,
               "usage: tinyloop <command> [options]\n\n"
               "Trains and evaluates tiny looped transformers on the CPU. The model, tasks, losses and\n"
               "checkpoint contents are described in docs/MODEL.md.\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.spec().summary);
  std::fprintf(out,
               "\n'tinyloop <command> --help' lists a command's options.\n"
               "Exit codes: 0 success, 1 runtime error (files, checkpoints), 2 usage error,\n"
               "130 interrupted (train saves its checkpoint first).\n");
}

int dispatch(const std::vector<std::string>& argv) {
  if (argv.empty()) usage_error("missing command (" + command_names(" or ") + "); try 'tinyloop --help'");
  const std::string& name = argv[0];
  if (name == "--help" || name == "-h" || name == "help") {
    if (name == "help" && argv.size() > 1) {
      for (const Command& c : kCommands)
        if (argv[1] == c.name) {
          std::fputs(format_help(c.spec()).c_str(), stdout);
          return kExitOk;
        }
      usage_error("unknown command '" + argv[1] + "'; try 'tinyloop --help'");
    }
    print_top_help(stdout);
    return kExitOk;
  }
  if (name == "--version") {
    std::printf("tinyloop 0.1.0\n");
    return kExitOk;
  }
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  std::vector<std::string> names;
  for (const Command& c : kCommands) {
    if (name == c.name) return c.run(rest);
    names.push_back(c.name);
  }
  std::string msg = name.rfind("-", 0) == 0 ? "expected a command before '" + name + "'"
                                            : "unknown command '" + name + "'";
  std::string near = closest_match(name, names);
  if (!near.empty()) msg += "; did you mean '" + near + "'?";
  else msg += " (commands: " + command_names(", ") + ")";
  usage_error(msg);
}

}  // namespace

int main(int argc, char** argv) {
  // Past a file-size limit (ulimit -f) a write fails with EFBIG instead of killing the
  // process, so a save reports a clean error and the previous file stays as it was.
  tinyloop::platform::ignore_file_size_signal();
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  try {
    return dispatch(args);
  } catch (const CliError& e) {
    std::fflush(stdout);
    std::string msg = e.message;
    for (char& c : msg)
      if (c == '\n' || c == '\r') c = ' ';  // the contract is one line
    std::fprintf(stderr, "tinyloop: error: %s\n", msg.c_str());
    return e.exit_code;
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    std::fprintf(stderr, "tinyloop: error: out of memory\n");
    return kExitRuntime;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "tinyloop: error: internal error: %s\n", e.what());
    return kExitRuntime;
  }
}
