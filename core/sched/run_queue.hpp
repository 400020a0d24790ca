// run_queue.hpp - a worker's local run queue: a bounded ring that only its
// owner pushes to, and that the owner and thieves pop from with a CAS on
// the head (the design of Go's per-P run queue).
#pragma once

#include <atomic>
#include <cstdint>

namespace airs {

struct Process;

class RunRing {
 public:
  static constexpr uint32_t kSize = 256;

  // [owner] false when full (the caller overflows to the shared queue).
  bool push(Process* p) noexcept {
    uint32_t h = head_.load(std::memory_order_acquire);
    uint32_t t = tail_.load(std::memory_order_relaxed);
    if (t - h >= kSize) return false;
    slots_[t % kSize].store(p, std::memory_order_relaxed);
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }

  // [owner or thief] The oldest entry, or nullptr.
  Process* pop() noexcept {
    uint32_t h = head_.load(std::memory_order_acquire);
    for (;;) {
      uint32_t t = tail_.load(std::memory_order_acquire);
      if (h == t) return nullptr;
      Process* p = slots_[h % kSize].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire))
        return p;
    }
  }

  // [thief] Moves up to half of this ring into `to` (owned by the caller);
  // returns one more entry to run at once, or nullptr.
  Process* steal_into(RunRing& to) noexcept {
    uint32_t h = head_.load(std::memory_order_acquire);
    for (;;) {
      uint32_t t = tail_.load(std::memory_order_acquire);
      uint32_t n = t - h;
      if (n == 0 || n > kSize) return nullptr;  // n > kSize: torn read
      n -= n / 2;
      uint32_t to_tail = to.tail_.load(std::memory_order_relaxed);
      uint32_t to_head = to.head_.load(std::memory_order_acquire);
      uint32_t room = kSize - (to_tail - to_head);
      if (n - 1 > room) n = room + 1;
      for (uint32_t i = 0; i + 1 < n; i++)
        to.slots_[(to_tail + i) % kSize].store(
            slots_[(h + i) % kSize].load(std::memory_order_relaxed),
            std::memory_order_relaxed);
      Process* last =
          slots_[(h + n - 1) % kSize].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + n, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        to.tail_.store(to_tail + n - 1, std::memory_order_release);
        return last;
      }
    }
  }

  // Entries right now (a snapshot when others may steal).
  uint32_t size() const noexcept {
    return tail_.load(std::memory_order_acquire) -
           head_.load(std::memory_order_acquire);
  }

  bool empty() const noexcept {
    return head_.load(std::memory_order_acquire) ==
           tail_.load(std::memory_order_acquire);
  }

 private:
  alignas(64) std::atomic<uint32_t> head_{0};
  alignas(64) std::atomic<uint32_t> tail_{0};
  std::atomic<Process*> slots_[kSize] = {};
};

}  // namespace airs
