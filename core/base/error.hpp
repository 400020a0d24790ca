// error.hpp - the thread-local detail behind airs_last_error_message().
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

}  // namespace airs
