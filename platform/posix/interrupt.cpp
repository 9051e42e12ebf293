// Ctrl-C handling: SIGINT and SIGTERM set a flag that the training loop polls, so that a run can
// stop at a step boundary and save its checkpoint. A second SIGINT while the flag is already set
// restores the default action and re-raises, so a stuck process can still be killed from the
// keyboard. SIGXFSZ can be ignored, so that a write past a file-size limit fails cleanly.
#include <signal.h>

#include "tinyloop/platform/posix.hpp"

namespace tinyloop::platform {
namespace {

volatile sig_atomic_t g_interrupted = 0;

extern "C" void on_signal(int sig) {
  if (sig == SIGINT && g_interrupted) {
    signal(SIGINT, SIG_DFL);  // both async-signal-safe
    raise(SIGINT);
    return;
  }
  g_interrupted = 1;
}

}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = &on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // interrupted reads and writes resume instead of failing with EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() { return g_interrupted != 0; }

void ignore_file_size_signal() {
#ifdef SIGXFSZ
  signal(SIGXFSZ, SIG_IGN);
#endif
}

}  // namespace tinyloop::platform
