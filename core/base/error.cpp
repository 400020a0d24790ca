#include "base/error.hpp"

#include <cstdarg>
#include <cstdio>

namespace airs {

namespace {
// A fixed buffer: recording an error must never allocate or throw.
thread_local char tls_message[512];
}  // namespace

airs_status fail(airs_status status, const char* message) noexcept {
  std::snprintf(tls_message, sizeof tls_message, "%s", message ? message : "");
  return status;
}

airs_status failf(airs_status status, const char* format, ...) noexcept {
  va_list args;
  va_start(args, format);
  std::vsnprintf(tls_message, sizeof tls_message, format, args);
  va_end(args);
  return status;
}

const char* last_error_message() noexcept {
  return tls_message;
}

}  // namespace airs
