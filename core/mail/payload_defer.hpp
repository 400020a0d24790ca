// payload_defer.hpp - payload references that a worker thread gives back
// in bulk.
//
// A publish to S subscribers hands one shared payload to S messages; each
// subscriber, when done with its message, gives one reference back. The
// subscribers run on every worker, so the payload's count is one cache
// line that the workers take from each other once per message: sampled on
// pubsub (100 subscribers, 2 workers), the locked decrement alone was 15 %
// of the run. A worker thread instead counts the references it gives back
// per payload in a small table of its own and returns each count with one
// locked subtraction: when the table's slot is wanted for another payload,
// every kFlushTurns turns, when the worker runs out of work, and when it
// ends. A count held back only keeps the payload alive a little longer;
// it never frees it early.
//
// Only the threads that call payload_defer_begin (the scheduler's
// workers) hold references back; every other thread releases at once.
//
// Threads: each function acts on the calling thread's table.
#pragma once

#include "mail/message.hpp"

namespace airs {

// Turns a worker may run before its held references go back.
constexpr uint32_t kFlushTurns = 64;

// From now on this thread holds references back. [a worker, at start]
void payload_defer_begin() noexcept;
// Gives back what is held and releases at once again. [the same thread,
// at its end]
void payload_defer_end() noexcept;
// Gives back every reference held (free_fn may run here). [any thread]
void payload_defer_flush() noexcept;

// payload_release, held back on a worker thread. [any thread]
void payload_release_deferred(Payload* p) noexcept;

}  // namespace airs
