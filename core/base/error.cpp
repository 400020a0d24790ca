#include "base/error.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace airs {

namespace {
// A fixed buffer: recording an error must never allocate or fail.
constexpr size_t kMessageSize = 512;
thread_local char tls_message[kMessageSize];
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

void error_prefix(const char* prefix) noexcept {
  char detail[kMessageSize];
  std::memcpy(detail, tls_message, sizeof detail);
  int n = std::snprintf(tls_message, sizeof tls_message, "%s: ", prefix);
  if (n < 0 || static_cast<size_t>(n) >= sizeof tls_message) return;
  size_t room = sizeof tls_message - static_cast<size_t>(n);
  size_t len = strnlen(detail, room - 1);  // what fits, cut if it must be
  std::memcpy(tls_message + n, detail, len);
  tls_message[static_cast<size_t>(n) + len] = '\0';
}

ErrorKeep::ErrorKeep() noexcept {
  static_assert(sizeof saved_ == kMessageSize, "the message fits");
  std::memcpy(saved_, tls_message, sizeof saved_);
}

ErrorKeep::~ErrorKeep() {
  std::memcpy(tls_message, saved_, sizeof saved_);
}

}  // namespace airs
