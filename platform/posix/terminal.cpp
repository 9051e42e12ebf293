// The terminal behind a stdio stream: whether there is one, and its width.
#include <sys/ioctl.h>
#include <unistd.h>

#include "tinyloop/platform/posix.hpp"

namespace tinyloop::platform {

bool is_terminal(std::FILE* f) { return f != nullptr && isatty(fileno(f)) == 1; }

int terminal_columns(std::FILE* f) {
  if (f == nullptr) return 0;
  struct winsize ws {};
  if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 0;
}

}  // namespace tinyloop::platform
