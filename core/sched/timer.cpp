#include "sched/timer.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <new>

#include "mail/message.hpp"

namespace airs {

namespace {
uint64_t monotonic_ms() noexcept {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(steady_clock::now().time_since_epoch())
          .count());
}
}  // namespace

TimerService::TimerService(bool manual_clock, FireFn fire,
                           void* fire_ctx) noexcept
    : manual_(manual_clock), fire_(fire), fire_ctx_(fire_ctx) {}

TimerService::~TimerService() {
  stop();
  free_pending();
}

bool TimerService::start_thread(const Config& cfg) noexcept {
  try {
    // cfg is the runtime's, which outlives this thread.
    thread_ = std::thread(
        [this, &cfg] { run_runtime_thread(cfg, [&] { thread_main(); }); });
  } catch (...) {
    return false;
  }
  return true;
}

void TimerService::stop() noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t TimerService::free_pending() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = pending_.size();
  for (auto& kv : pending_) msg_free(kv.second.msg);
  pending_.clear();
  heap_ = {};
  ready_.clear();
  return n;
}

uint64_t TimerService::now_locked() const noexcept {
  return manual_ ? manual_now_ : monotonic_ms();
}

uint64_t TimerService::now_ms() const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return now_locked();
}

uint64_t TimerService::add(uint64_t to, uint64_t delay_ms, Msg* msg,
                           Filter filter) noexcept {
  uint64_t id;
  bool earliest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_id_;
    uint64_t deadline = now_locked() + delay_ms;
    try {
      pending_.emplace(id, Pending{to, msg, filter});
    } catch (const std::bad_alloc&) {
      return 0;
    }
    try {
      heap_.push(Entry{deadline, id});
    } catch (const std::bad_alloc&) {
      pending_.erase(id);
      return 0;
    }
    next_id_++;
    earliest = heap_.top().id == id;
  }
  if (earliest) {
    cv_.notify_all();
    if (WakeFd* wake = host_wake_.load(std::memory_order_acquire))
      wake->signal();
  }
  return id;
}

Msg* TimerService::cancel(uint64_t id) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(id);
  if (it == pending_.end()) return nullptr;
  Msg* m = it->second.msg;
  pending_.erase(it);
  if (heap_.size() > kCompactFloor && heap_.size() > 2 * pending_.size())
    compact_locked();
  return m;  // else its heap entry is skipped when it comes up
}

template <class Keep>
void TimerService::Heap::keep_only(Keep&& keep) noexcept {
  c.erase(std::remove_if(c.begin(), c.end(),
                         [&](const Entry& e) { return !keep(e); }),
          c.end());
  std::make_heap(c.begin(), c.end(), comp);
  try {
    c.shrink_to_fit();
  } catch (const std::bad_alloc&) {
    // Keeps the room; the entries are right either way.
  }
}

// Drops the entries of cancelled timers: O(entries), after at least half
// of them were cancelled, so O(1) per cancel over time.
void TimerService::compact_locked() noexcept {
  heap_.keep_only([this](const Entry& e) { return pending_.count(e.id) > 0; });
}

void TimerService::cancel_and_free(uint64_t id) noexcept {
  if (id)
    if (Msg* m = cancel(id)) msg_free(m);
}

uint32_t TimerService::fire_due() noexcept {
  std::vector<Pending> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t now = now_locked();
    // Left ready by a seeded poll: they came due first. (Empty otherwise.)
    size_t taken = 0;
    for (; taken < ready_.size(); taken++) {
      auto it = pending_.find(ready_[taken].id);
      if (it == pending_.end()) continue;  // cancelled
      try {
        due.push_back(it->second);
      } catch (const std::bad_alloc&) {
        break;  // the rest stay ready until there is memory
      }
      pending_.erase(it);
    }
    ready_.erase(ready_.begin(),
                 ready_.begin() + static_cast<ptrdiff_t>(taken));
    while (!heap_.empty() && heap_.top().deadline <= now) {
      auto it = pending_.find(heap_.top().id);
      if (it != pending_.end()) {
        try {
          due.push_back(it->second);
        } catch (const std::bad_alloc&) {
          break;  // no memory for the batch: the rest fire next time
        }
        pending_.erase(it);
      }
      heap_.pop();  // fired or cancelled
    }
  }
  for (Pending& p : due) fire(p);
  return static_cast<uint32_t>(due.size());
}

void TimerService::fire(Pending& p) noexcept {
  if (p.filter.fn && !p.filter.fn(p.filter.ctx, p.to, p.msg)) {
    msg_free(p.msg);
    return;
  }
  fire_(fire_ctx_, p.to, p.msg);
}

size_t TimerService::take_due() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  // Cancelled while ready: dropped, so the count is what can fire.
  ready_.erase(std::remove_if(ready_.begin(), ready_.end(),
                              [this](const Entry& e) {
                                return pending_.count(e.id) == 0;
                              }),
               ready_.end());
  uint64_t now = now_locked();
  while (!heap_.empty() && heap_.top().deadline <= now) {
    if (pending_.count(heap_.top().id)) {
      try {
        ready_.push_back(heap_.top());
      } catch (const std::bad_alloc&) {
        break;  // the rest stay on the heap until there is memory
      }
    }
    heap_.pop();
  }
  return ready_.size();
}

bool TimerService::fire_ready(size_t i, uint64_t* id, uint64_t* to) noexcept {
  Pending p;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (i >= ready_.size()) return false;
    // erase, not a swap with the last: the list (short) stays in
    // deadline order, which makes a trace easier to read.
    uint64_t taken = ready_[i].id;
    ready_.erase(ready_.begin() + static_cast<ptrdiff_t>(i));
    auto it = pending_.find(taken);
    if (it == pending_.end()) return false;
    p = it->second;
    pending_.erase(it);
    *id = taken;
    *to = p.to;
  }
  fire(p);
  return true;
}

int64_t TimerService::next_due_ms() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Entry& e : ready_)
    if (pending_.count(e.id)) return 0;
  while (!heap_.empty() && !pending_.count(heap_.top().id)) heap_.pop();
  if (heap_.empty()) return -1;
  uint64_t now = now_locked();
  uint64_t d = heap_.top().deadline;
  return d <= now ? 0 : static_cast<int64_t>(d - now);
}

size_t TimerService::entries() const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return heap_.size();
}

bool TimerService::advance(uint64_t ms) noexcept {
  if (!manual_) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    manual_now_ += ms;
  }
  cv_.notify_all();
  if (WakeFd* wake = host_wake_.load(std::memory_order_acquire)) wake->signal();
  return true;
}

void TimerService::thread_main() noexcept {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    while (!heap_.empty() && !pending_.count(heap_.top().id)) heap_.pop();
    if (heap_.empty()) {
      cv_.wait(lock);  // no timer: sleep until one is added
      continue;
    }
    uint64_t now = now_locked();
    uint64_t deadline = heap_.top().deadline;
    if (deadline > now) {
      if (manual_)
        cv_.wait(lock);  // only advance() moves a manual clock
      else
        cv_.wait_for(lock, std::chrono::milliseconds(deadline - now));
      continue;
    }
    lock.unlock();
    fire_due();
    lock.lock();
  }
}

}  // namespace airs
