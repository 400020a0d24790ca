// io_hooks.hpp - what the scheduler asks of the reactor (io/reactor.hpp)
// when workers look at I/O and park in it (scheduler.hpp, "Parking and
// I/O"). A header of its own so that the seam can hand the hooks over
// without showing services the scheduler.
#pragma once

namespace airs {

// Each entry runs on a worker's thread, with no scheduler lock held unless
// it says so, and gets `ctx`.
struct IoHooks {
  // Handles up to `most` events of the I/O that is ready now, without
  // waiting: > 0 if it made something runnable, 0 if it found nothing,
  // < 0 if it did not look (another worker was looking). Each event
  // makes at most one process runnable, and `most` is the room in the
  // caller's ring: the processes go there, and a ring that overflowed
  // would send them to the shared queue, behind the ring's later work.
  // [any worker, several at once]
  int (*poll)(void* ctx, int most) noexcept;
  // Waits until I/O is ready, a deadline of the reactor's passes or wake
  // is called, and keeps what it found for dispatch. [the I/O waiter: one
  // worker at a time]
  void (*wait)(void* ctx) noexcept;
  // Handles what the last wait found. [the I/O waiter, after its wait,
  // still the waiter]
  void (*dispatch)(void* ctx) noexcept;
  // Makes a wait under way (or the next one) return soon. [any thread;
  // called under the scheduler's idle lock: a leaf, never blocks]
  void (*wake)(void* ctx) noexcept;
  void* ctx;
};

}  // namespace airs
