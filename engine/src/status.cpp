#include "tinyloop/status.hpp"

#include <cstdarg>
#include <cstdio>

namespace tinyloop {

const char* error_name(Error e) {
  switch (e) {
    case Error::ok: return "ok";
    case Error::bad_config: return "bad config";
    case Error::buffer_too_small: return "buffer too small";
    case Error::token_out_of_range: return "token out of range";
    case Error::sequence_too_long: return "sequence too long";
    case Error::batch_too_large: return "batch too large";
    case Error::target_out_of_range: return "target out of range";
    case Error::non_finite: return "non-finite value";
    case Error::bad_checkpoint: return "bad checkpoint";
    case Error::io_error: return "i/o error";
    case Error::not_initialized: return "not initialized";
    case Error::unsupported: return "unsupported";
  }
  return "unknown error";
}

Status Status::fail(Error code, const char* fmt, ...) {
  Status s;
  s.code_ = code == Error::ok ? Error::bad_config : code;
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(s.message_, sizeof(s.message_), fmt, args);
  va_end(args);
  return s;
}

}  // namespace tinyloop
