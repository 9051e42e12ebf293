// tinyloop reproduce <induction|icar|retrieval>: dispatches to the study's command file, which
// runs the study (studies/) and writes its report; a study's failure is a runtime error.
#include "commands.hpp"
#include "reproduce.hpp"

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

}  // namespace tinyloop::cli
