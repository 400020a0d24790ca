#include "sched/inject_queue.hpp"

#include <new>
#include <thread>

#include "base/alloc.hpp"
#include "base/spin.hpp"

namespace airs {

namespace {

// Spins before a waiter yields: far longer than the lock is held, unless
// its holder was preempted or is growing the ring.
constexpr int kSpinsBeforeYield = 256;

}  // namespace

void InjectQueue::lock() noexcept {
  for (;;) {
    if (!locked_.exchange(true, std::memory_order_acquire)) return;
    for (int spins = 0; locked_.load(std::memory_order_relaxed);) {
      if (++spins < kSpinsBeforeYield) {
        cpu_pause();
      } else {
        spins = 0;
        std::this_thread::yield();
      }
    }
  }
}

// Doubles the ring (16 entries at first), keeping the order. [locked]
bool InjectQueue::grow_locked() noexcept {
  if (alloc_fault()) return false;
  uint32_t cap = cap_ ? cap_ * 2 : 16;
  if (cap <= cap_) return false;  // 2^32 queued: no further
  auto* slots = new (std::nothrow) Process*[cap];
  if (!slots) return false;
  uint32_t n = size_.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < n; i++)
    slots[i] = slots_[(head_ + i) & (cap_ - 1)];
  delete[] slots_;
  slots_ = slots;
  cap_ = cap;
  head_ = 0;
  return true;
}

bool InjectQueue::push(Process* p) noexcept {
  lock();
  uint32_t n = size_.load(std::memory_order_relaxed);
  if (n == cap_ && !grow_locked()) {
    unlock();
    return false;
  }
  slots_[(head_ + n) & (cap_ - 1)] = p;
  size_.store(n + 1, std::memory_order_release);
  unlock();
  return true;
}

Process* InjectQueue::pop() noexcept {
  if (size() == 0) return nullptr;
  lock();
  uint32_t n = size_.load(std::memory_order_relaxed);
  Process* p = nullptr;
  if (n > 0) {
    p = slots_[head_];
    head_ = (head_ + 1) & (cap_ - 1);
    size_.store(n - 1, std::memory_order_release);
  }
  unlock();
  return p;
}

}  // namespace airs
