// tinyloop reproduce <induction|icar|retrieval>: dispatches to the study's command file, which
// runs the study (studies/) and writes its report; a study's failure is a runtime error.
#include "commands.hpp"
#include "report.hpp"
#include "reproduce.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::cli {

int run_reproduce(const Args& args) {
  try {
    if (!args.empty() && args[0] == "icar") return run_reproduce_icar(Args(args.begin() + 1, args.end()));
    if (!args.empty() && args[0] == "retrieval") return run_reproduce_retrieval(Args(args.begin() + 1, args.end()));
    return run_reproduce_induction(args);
  } catch (const study::Failure& e) {
    runtime_error(e.what());
  }
}

void write_report(const std::string& out, const study::Report& report) {
  const Status made = platform::make_directories(out.c_str());
  if (!made) runtime_error("--out: " + std::string(made.message()));
  for (const study::File& f : report.files) write_text_atomic(out + "/" + f.name, f.text, f.name.c_str());
}

std::string wrote_line(const std::string& out, const study::Report& report) {
  std::string line = "wrote " + out + "/";
  for (std::size_t i = 0; i < report.files.size(); ++i) line += (i ? ", " : "") + report.files[i].name;
  return line + "\n";
}

}  // namespace tinyloop::cli
