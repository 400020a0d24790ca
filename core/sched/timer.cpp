#include "sched/timer.hpp"

#include <chrono>

namespace airs {

namespace {
uint64_t monotonic_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(steady_clock::now().time_since_epoch())
          .count());
}
}  // namespace

TimerService::TimerService(bool manual_clock, FireFn fire)
    : manual_(manual_clock), fire_(std::move(fire)) {}

TimerService::~TimerService() {
  stop();
}

bool TimerService::start_thread(const Config& cfg) {
  try {
    // cfg is the runtime's, which outlives this thread.
    thread_ = std::thread(
        [this, &cfg] { run_runtime_thread(cfg, [&] { thread_main(); }); });
  } catch (...) {
    return false;
  }
  return true;
}

void TimerService::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<Msg*> TimerService::take_pending() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Msg*> out;
  for (auto& kv : pending_) out.push_back(kv.second.msg);
  pending_.clear();
  heap_ = {};
  return out;
}

uint64_t TimerService::now_locked() const {
  return manual_ ? manual_now_ : monotonic_ms();
}

uint64_t TimerService::now_ms() const {
  std::lock_guard<std::mutex> lock(mu_);
  return now_locked();
}

uint64_t TimerService::add(uint64_t to, uint64_t delay_ms, Msg* msg) {
  uint64_t id;
  bool earliest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_id_++;
    uint64_t deadline = now_locked() + delay_ms;
    pending_.emplace(id, Pending{to, msg});
    earliest = heap_.empty() || deadline < heap_.top().deadline;
    heap_.push(Entry{deadline, id});
  }
  if (earliest) cv_.notify_all();
  return id;
}

Msg* TimerService::cancel(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(id);
  if (it == pending_.end()) return nullptr;
  Msg* m = it->second.msg;
  pending_.erase(it);
  return m;  // its heap entry is skipped when it comes up
}

uint32_t TimerService::fire_due() {
  std::vector<Pending> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t now = now_locked();
    while (!heap_.empty() && heap_.top().deadline <= now) {
      auto it = pending_.find(heap_.top().id);
      heap_.pop();
      if (it == pending_.end()) continue;  // cancelled
      due.push_back(it->second);
      pending_.erase(it);
    }
  }
  for (Pending& p : due) fire_(p.to, p.msg);
  return static_cast<uint32_t>(due.size());
}

int64_t TimerService::next_due_ms() {
  std::lock_guard<std::mutex> lock(mu_);
  while (!heap_.empty() && !pending_.count(heap_.top().id)) heap_.pop();
  if (heap_.empty()) return -1;
  uint64_t now = now_locked();
  uint64_t d = heap_.top().deadline;
  return d <= now ? 0 : static_cast<int64_t>(d - now);
}

bool TimerService::advance(uint64_t ms) {
  if (!manual_) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    manual_now_ += ms;
  }
  cv_.notify_all();
  return true;
}

void TimerService::thread_main() {
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
