// inject_queue.hpp - the scheduler's queue for work from outside its
// workers: processes made runnable by a plain thread's send, by the timer
// thread, by a host-driven runtime's host between polls. One FIFO for all
// of them, so that a short burst from the host or a due timer is never
// passed over: the workers' own overflow goes to a queue that serves its
// fullest producer first, where a sub-queue of one would wait for as long
// as the workers keep theirs full.
//
// A growable ring under a spin lock. Workers look at `size` (no lock)
// before they take one. Why not a mutex: a plain thread sending to many
// processes and the workers taking them contend for the lock at every
// message, and a contended mutex sleeps in the kernel and is woken by a
// system call at the unlock: spawn's second half (a million outside sends,
// each making a process run once and end) spent 12% of its samples in the
// mutex's unlock and wake. What the lock guards is a few loads and stores
// (and, rarely, the ring's growth), so a waiter spins, and yields its CPU
// after a while in case the holder was preempted.
#pragma once

#include <atomic>
#include <cstdint>

namespace airs {

struct Process;

class InjectQueue {
 public:
  InjectQueue() = default;
  ~InjectQueue() { delete[] slots_; }
  InjectQueue(const InjectQueue&) = delete;
  InjectQueue& operator=(const InjectQueue&) = delete;

  // Appends `p`; false when there is no memory to grow (the caller puts it
  // elsewhere). [any thread]
  bool push(Process* p) noexcept;
  // The oldest process queued, or nullptr. [any thread]
  Process* pop() noexcept;
  // A snapshot: 0 means "nothing to take" only to the best of this load.
  uint32_t size() const noexcept {
    return size_.load(std::memory_order_acquire);
  }

 private:
  void lock() noexcept;
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }
  bool grow_locked() noexcept;

  std::atomic<bool> locked_{false};
  Process** slots_ = nullptr;  // a ring of cap_ entries (a power of 2)
  uint32_t cap_ = 0;
  uint32_t head_ = 0;  // index of the oldest entry
  std::atomic<uint32_t> size_{0};
};

}  // namespace airs
