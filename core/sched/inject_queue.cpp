#include "sched/inject_queue.hpp"

#include <new>

#include "base/alloc.hpp"

namespace airs {

// Doubles the ring (16 entries at first), keeping the order. [mu_ held]
bool InjectQueue::grow_locked() noexcept {
  if (alloc_fault()) return false;
  uint32_t cap = cap_ ? cap_ * 2 : 16;
  if (cap <= cap_) return false;  // 2^32 queued: no further
  auto* slots = new (std::nothrow) Process*[cap];
  if (!slots) return false;
  uint32_t n = size_.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < n; i++) slots[i] = slots_[(head_ + i) % cap_];
  delete[] slots_;
  slots_ = slots;
  cap_ = cap;
  head_ = 0;
  return true;
}

bool InjectQueue::push(Process* p) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  uint32_t n = size_.load(std::memory_order_relaxed);
  if (n == cap_ && !grow_locked()) return false;
  slots_[(head_ + n) % cap_] = p;
  size_.store(n + 1, std::memory_order_release);
  return true;
}

Process* InjectQueue::pop() noexcept {
  if (size() == 0) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  uint32_t n = size_.load(std::memory_order_relaxed);
  if (n == 0) return nullptr;
  Process* p = slots_[head_];
  head_ = (head_ + 1) % cap_;
  size_.store(n - 1, std::memory_order_release);
  return p;
}

}  // namespace airs
