// fail.hpp - the thread's last error message (airs_last_error_message)
// for the OSL's own public functions.
//
// The OSL is written on the public C API, which has a reader of the last
// error message but no writer: a library function that fails must set
// it (airs.h's conventions), and only the library can. So this is the one
// piece of the library the OSL borrows, declared here rather than by
// including core/: airs::failf, from core/base/error.hpp.
// [any thread; each thread has its own message]
#pragma once

#include "airs/airs.h"

namespace airs {

// Records the formatted message as this thread's last error and returns
// `status`, so that failing paths read `return failf(AIRS_EINVAL, ...)`.
airs_status failf(airs_status status, const char* format, ...) noexcept
    __attribute__((format(printf, 2, 3)));

}  // namespace airs
