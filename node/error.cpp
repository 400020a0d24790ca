// error.cpp - the node library's last error message, and name checks.
// libairs keeps its own message (airs_last_error_message) where this
// library cannot write; a node call's reason lives here instead.
#include <cstdarg>
#include <cstdio>

#include "node.hpp"

namespace airs::node {

namespace {
thread_local char last_error[256];
}

airs_status failf(airs_status status, const char* format, ...) noexcept {
  va_list ap;
  va_start(ap, format);
  vsnprintf(last_error, sizeof last_error, format, ap);
  va_end(ap);
  return status;
}

void clear_error() noexcept {
  last_error[0] = '\0';
}

bool valid_name(const char* s) noexcept {
  size_t n = 0;
  for (; s[n] != '\0'; n++) {
    char c = s[n];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok || n == AIRS_NODE_NAME_MAX) return false;
  }
  return n > 0;
}

}  // namespace airs::node

extern "C" const char* airs_node_last_error_message(void) {
  return airs::node::last_error;
}
