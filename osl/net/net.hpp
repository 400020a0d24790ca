// net.hpp - the network actor's parts (osl.h).
//
//   net_actor.cpp  the actor: one request in, one reply out
//   resolve.cpp    getaddrinfo as a SLOW pool job, answered later
//   net_req.cpp    the public helpers: building, sending, reading
#pragma once

#include "airs/airs.h"

namespace airs::osl {

// The network actor's behaviour (no state of its own: requests are
// answered in their turn, resolves by their job). [any thread]
const airs_behaviour* net_behaviour() noexcept;

// Starts resolving req.host on the pool; the job's completion comes back
// to the actor as the reply to `correlation`, which the actor sends with
// airs_reply_to. A failure to start is answered at once. [the actor's
// callback]
airs_status resolve_start(airs_ctx* ctx, const airs_net_req& req,
                          uint64_t correlation) noexcept;

// The completion of a resolve job: answers its request. true if `msg`
// was one. [the actor's callback]
bool resolve_done(airs_ctx* ctx, const airs_msg* msg) noexcept;

}  // namespace airs::osl
