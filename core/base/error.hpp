// error.hpp - the thread-local detail behind airs_last_error_message().
//
// The core's messages say what went wrong, never which C function was
// called: the C facade puts the function's name in front, once, with
// error_prefix(). [any thread; each thread has its own message]
#pragma once

#include "airs/airs.h"

namespace airs {

// Records `message` as this thread's last error and returns `status`, so
// that failing paths read `return fail(AIRS_EINVAL, "...")`.
airs_status fail(airs_status status, const char* message) noexcept;

// As fail(), with printf-style formatting.
airs_status failf(airs_status status, const char* format, ...) noexcept
    __attribute__((format(printf, 2, 3)));

const char* last_error_message() noexcept;

// Puts "`prefix`: " in front of this thread's message (the facade, with
// the C function's name).
void error_prefix(const char* prefix) noexcept;

// Keeps this thread's message across user code that may fail calls of
// its own (a hook, user_data_free), and puts it back when it ends.
class ErrorKeep {
 public:
  ErrorKeep() noexcept;
  ~ErrorKeep();
  ErrorKeep(const ErrorKeep&) = delete;
  ErrorKeep& operator=(const ErrorKeep&) = delete;

 private:
  char saved_[512];
};

}  // namespace airs
