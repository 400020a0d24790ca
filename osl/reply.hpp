// reply.hpp - replying to a system actor's request (osl.h): every reply
// starts with an airs_osl_result, followed by the operation's own data.
//
// threads: each function runs inside the replying actor's callback (it
// takes the actor's ctx); none keeps a pointer past its return.
#pragma once

#include <cstddef>

#include "airs/airs.h"  // osl.h: airs_osl_result

namespace airs::osl {

// Replies to `request` with a message of `type` whose data is an OK
// result followed by `size` bytes of `data` (may be NULL with size 0).
// Returns the status of airs_reply (ENOMEM: nothing was sent).
airs_status reply_ok(airs_ctx* ctx, const airs_msg* request, uint64_t type,
                     const void* data, size_t size) noexcept;

// Replies with a failed result: `status`, `err` (an errno, or 0) and the
// text made from `fmt` (printf; with err != 0, ": strerror(err)" is
// appended). The actor itself goes on: a failure is a reply, not a crash.
airs_status reply_error(airs_ctx* ctx, const airs_msg* request, uint64_t type,
                        airs_status status, int err, const char* fmt,
                        ...) noexcept __attribute__((format(printf, 6, 7)));

// The same, for a reply that carries nothing but the result.
inline airs_status reply_ok(airs_ctx* ctx, const airs_msg* request,
                            uint64_t type) noexcept {
  return reply_ok(ctx, request, type, nullptr, 0);
}

// Fills `out` with a failed result as reply_error words it (for replies
// built by hand, such as those a pool job makes). [any thread]
void result_set(airs_osl_result* out, airs_status status, int err,
                const char* fmt, ...) noexcept
    __attribute__((format(printf, 4, 5)));

// Builds the message of a reply: `result` (may be NULL: OK) followed by
// `size` bytes of `data`. NULL on ENOMEM. [any thread]
airs_msg* reply_msg(uint64_t type, const airs_osl_result* result,
                    const void* data, size_t size) noexcept;

}  // namespace airs::osl
