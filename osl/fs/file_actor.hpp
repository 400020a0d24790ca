// file_actor.hpp - the actor of one open file (fs.h's streaming): it owns
// the descriptor, runs its requests one job at a time in the order they
// came, and ends with its owner.
//
// threads: file_actor_spawn [any thread] (an open job calls it on a pool
// thread).
#pragma once

#include "airs/airs.h"

namespace airs::osl::fs {

// Spawns the actor of descriptor `fd`, watching `owner` (0: no owner; it
// then ends on close or with the runtime). Takes fd in every case: on
// failure it is closed before the call returns.
airs_status file_actor_spawn(airs_runtime* rt, int fd, airs_pid owner,
                             airs_pid* out) noexcept;

}  // namespace airs::osl::fs
