#pragma once
// Error reporting without exceptions or allocation: a code plus a one-line message
// kept in a fixed buffer inside the Status itself.
#include <cstddef>

namespace tinyloop {

enum class Error : int {
  ok = 0,
  bad_config,
  buffer_too_small,
  token_out_of_range,
  sequence_too_long,
  batch_too_large,
  target_out_of_range,
  non_finite,
  bad_checkpoint,
  io_error,
  not_initialized,
  unsupported,
};

const char* error_name(Error e);

class Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  // printf-style message; truncated to the buffer, never allocates.
  static Status fail(Error code, const char* fmt, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 2, 3)))
#endif
      ;
  bool is_ok() const { return code_ == Error::ok; }
  explicit operator bool() const { return is_ok(); }
  Error code() const { return code_; }
  const char* message() const { return is_ok() ? "ok" : message_; }

 private:
  Error code_ = Error::ok;
  char message_[160] = {0};
};

#define TINYLOOP_TRY(expr)                   \
  do {                                       \
    ::tinyloop::Status tl_status_ = (expr);  \
    if (!tl_status_.is_ok()) return tl_status_; \
  } while (0)

}  // namespace tinyloop
