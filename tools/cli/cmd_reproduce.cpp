// tinyloop reproduce <induction|icar|retrieval>: dispatches to the study's command, which reads its
// flags, runs the study (studies/) and writes its report; a study's failure is a runtime error.
#include "commands.hpp"
#include "icar/icar.hpp"
#include "retrieval/retrieval.hpp"

namespace tinyloop::cli {

int run_reproduce(const Args& args) {
  try {
    if (!args.empty() && args[0] == "icar") return study::icar::run_command(Args(args.begin() + 1, args.end()));
    if (!args.empty() && args[0] == "retrieval")
      return study::retrieval::run_command(Args(args.begin() + 1, args.end()));
    return run_reproduce_induction(args);
  } catch (const study::Failure& e) {
    runtime_error(e.what());
  }
}

}  // namespace tinyloop::cli
