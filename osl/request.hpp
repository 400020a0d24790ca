// request.hpp - sending a request to a system actor from the public
// helpers (airs_fs_request, airs_proc_spawn_call, airs_net_call...): the
// actor found by its registered name, and the request message sent so
// that it is never leaked nor freed twice, whatever the outcome.
//
// threads: find_actor and call_actor on any thread outside a callback
// (call_actor blocks); request_actor inside a callback.
#pragma once

#include "airs/airs.h"

namespace airs::osl {

// The pid registered as `name` into *to. ENOTFOUND with "fn: no process
// is registered as name"; any other failure (a freed runtime) as
// airs_whereis said it.
airs_status find_actor(const char* fn, airs_runtime* rt, const char* name,
                       airs_pid* to) noexcept;

// airs_request of `m` to `to`; `m` is freed when the request was not sent.
airs_status request_actor(airs_ctx* ctx, airs_pid to, airs_msg* m,
                          uint32_t timeout_ms, uint64_t* correlation) noexcept;

// airs_call of `m` to `to`; `m` is freed when it was not sent (airs_call
// consumes it on OK, ETIMEDOUT and EEXITED).
airs_status call_actor(airs_runtime* rt, airs_pid to, airs_msg* m,
                       uint32_t timeout_ms, airs_msg** reply) noexcept;

}  // namespace airs::osl
