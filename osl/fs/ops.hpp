// ops.hpp - the system calls of each operation, run by a job on a pool
// thread, and the replies they make: result, airs_fs_info, then bytes
// (fs.h), on a shared payload.
//
// threads: [any thread]; each blocks as long as its system calls do.
#pragma once

#include <cstddef>

#include "airs/airs.h"
#include "job.hpp"

namespace airs::osl::fs {

// Runs the job's request and returns its reply (NULL: out of memory).
airs_msg* run_op(Job& job) noexcept;

// Reply building. reply_alloc gives a buffer with room for the head and
// `room` bytes after it, its head zeroed (an OK result); reply_finish
// makes the message of its first kReplyHead + `used` bytes and owns buf
// from then on (freed on failure: NULL).
unsigned char* reply_alloc(size_t room) noexcept;
airs_msg* reply_finish(uint64_t type, unsigned char* buf, size_t used) noexcept;

}  // namespace airs::osl::fs
