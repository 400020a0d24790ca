// runtime.cpp - creating and stopping a runtime, host-driven polling,
// timers and dead letters.
#include "kernel/runtime.hpp"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "base/error.hpp"

namespace airs {

Runtime::Runtime(const Config& cfg) : cfg_(cfg), table_(cfg.max_processes) {
  sched_ = std::make_unique<Scheduler>(*this, cfg.workers);
  timers_ = std::make_unique<TimerService>(cfg.manual_clock, [this](uint64_t to,
                                                                    Msg* m) {
    // A request's timeout that lost the race to its reply: nothing.
    if (m->type == AIRS_MSG_TIMEOUT && !requests_.expire(m->correlation, to)) {
      msg_free(m);
      return;
    }
    Process* p = live(to);
    if (!p) {
      m->to = to;  // the hook's `to`
      dead_letter(m, AIRS_DEAD_LETTER_TIMER);
      return;
    }
    Worker* w = local_worker();
    // A full mailbox never blocks the timer thread: the message drops.
    if (deliver(p, to, m, false, false, w, false) != AIRS_OK)
      dead_letter(m, AIRS_DEAD_LETTER_MAILBOX_FULL);
  });
}

Runtime* Runtime::create(const Config& cfg, airs_status* status) {
  Runtime* rt = new Runtime(cfg);
  if (!rt->sched_->start() ||
      (cfg.workers > 0 && !rt->timers_->start_thread(rt->cfg_))) {
    delete rt;
    *status = fail(AIRS_EINTERNAL, "airs_runtime_new: cannot start a thread");
    return nullptr;
  }
  *status = AIRS_OK;
  return rt;
}

Runtime::~Runtime() {
  timers_->stop();
  sched_->stop_and_join();
  for (Msg* m : timers_->take_pending()) msg_free(m);
  // Every thread is gone: whatever is still queued anywhere is garbage.
  uint32_t n = table_.high_water();
  for (uint32_t i = 0; i < n; i++) {
    Process* p = table_.slot(i);
    while (Msg* m = p->pop()) msg_free(m);
  }
}

uint32_t Runtime::count_live(bool roots_only) const noexcept {
  uint32_t live_count = 0;
  uint32_t n = table_.high_water();
  for (uint32_t i = 0; i < n; i++) {
    Process* p = table_.slot(i);
    uint32_t s = p->state.load(std::memory_order_acquire);
    if (s != kIdle && s != kScheduled) continue;
    if (roots_only && (p->flags.load(std::memory_order_relaxed) & kSupervised))
      continue;
    live_count++;
  }
  return live_count;
}

void Runtime::wait_for_exits(uint64_t timeout_ms, bool roots_only) noexcept {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
  auto pause = std::chrono::microseconds(50);
  while (count_live(roots_only) > 0 && clock::now() < deadline) {
    if (!sched_->threaded()) {
      timers_->fire_due();
      if (sched_->poll(1024) > 0) continue;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2,
                                                std::chrono::milliseconds(5));
  }
}

// Sends shutdown to the live processes (only those no supervisor stops, if
// `roots_only`), newest first: a process started later usually depends on
// earlier ones. Skips the pids in `told` (sorted), and adds the ones it
// signals: a process is told once, so a trapping one sees one
// AIRS_MSG_EXIT and not a second one that races the kill.
void Runtime::stop_processes(bool roots_only,
                             std::vector<uint64_t>& told) noexcept {
  std::vector<std::pair<uint64_t, uint64_t>> alive;  // (spawn_seq, pid)
  uint32_t n = table_.high_water();
  for (uint32_t i = 0; i < n; i++) {
    Process* p = table_.slot(i);
    uint64_t pid = p->pid.load(std::memory_order_acquire);
    if (!live(pid)) continue;
    if (roots_only && (p->flags.load(std::memory_order_relaxed) & kSupervised))
      continue;
    if (std::binary_search(told.begin(), told.end(), pid)) continue;
    alive.emplace_back(p->spawn_seq, pid);
  }
  std::sort(alive.rbegin(), alive.rend());
  for (auto& a : alive) {
    exit_signal(a.second, AIRS_EXIT_SHUTDOWN, 0, nullptr);
    told.push_back(a.second);
  }
  std::sort(told.begin(), told.end());
}

void Runtime::shutdown() {
  shutting_down_.store(true, std::memory_order_seq_cst);
  using clock = std::chrono::steady_clock;
  auto start = clock::now();
  // Supervision trees top-down: a supervisor stops its own children, in
  // reverse start order. Then, in the time left, whatever is left (a child
  // that outlived its supervisor by trapping exits).
  std::vector<uint64_t> told;
  stop_processes(true, told);
  wait_for_exits(cfg_.shutdown_timeout_ms, true);
  auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
                   clock::now() - start)
                   .count();
  if (static_cast<uint64_t>(spent) < cfg_.shutdown_timeout_ms) {
    stop_processes(false, told);
    wait_for_exits(cfg_.shutdown_timeout_ms - spent, false);
  }

  if (count_live(false) > 0) {
    uint32_t n = table_.high_water();
    for (uint32_t i = 0; i < n; i++) {
      uint64_t pid = table_.slot(i)->pid.load(std::memory_order_acquire);
      if (live(pid)) exit_signal(pid, AIRS_EXIT_KILLED, 0, nullptr);
    }
    // A kill takes effect at the process's next turn; only a callback that
    // never returns can hold this up.
    while (count_live(false) > 0) wait_for_exits(1000, false);
  }
  timers_->stop();
  sched_->stop_and_join();
}

airs_status Runtime::poll(uint32_t budget, uint32_t* ran) {
  if (sched_->threaded())
    return fail(AIRS_ESTATE,
                "airs_runtime_poll: the runtime has worker threads "
                "(set AIRS_CFG_WORKERS to 0 for host-driven mode)");
  bool expected = false;
  if (!polling_.compare_exchange_strong(expected, true))
    return fail(AIRS_ESTATE, "airs_runtime_poll: another thread is polling");
  timers_->fire_due();
  uint32_t n = sched_->poll(budget);
  polling_.store(false, std::memory_order_release);
  if (ran) *ran = n;
  return AIRS_OK;
}

airs_status Runtime::send_after(uint64_t to, uint64_t delay_ms, Msg* m,
                                uint64_t* id) {
  if (shutting_down())
    return fail(AIRS_ESTATE, "airs_send_after: the runtime is shutting down");
  if (!live(to)) return fail(AIRS_ENOPROC, "airs_send_after: not alive");
  Ctx* c = current_ctx();
  m->sender = c && c->rt == this ? c->pid : 0;
  uint64_t tid = timers_->add(to, delay_ms, m);
  if (id) *id = tid;
  return AIRS_OK;
}

airs_status Runtime::cancel_timer(uint64_t id) {
  Msg* m = timers_->cancel(id);
  if (!m)
    return failf(AIRS_ENOTFOUND, "airs_cancel_timer: timer %llu is not pending",
                 static_cast<unsigned long long>(id));
  msg_free(m);
  return AIRS_OK;
}

void Runtime::set_dead_letter_hook(airs_dead_letter_fn fn, void* user_data) {
  std::lock_guard<std::mutex> lock(hooks_mu_);
  Hook* h = nullptr;
  if (fn) {
    hooks_.push_back(std::make_unique<Hook>(Hook{fn, user_data}));
    h = hooks_.back().get();
  }
  dead_letter_hook_.store(h, std::memory_order_release);
}

void Runtime::set_event_hook(airs_event_fn fn, void* user_data) {
  std::lock_guard<std::mutex> lock(hooks_mu_);
  EventHook* h = nullptr;
  if (fn) {
    event_hooks_.push_back(
        std::make_unique<EventHook>(EventHook{fn, user_data}));
    h = event_hooks_.back().get();
  }
  event_hook_.store(h, std::memory_order_release);
}

void Runtime::dead_letter(Msg* m, airs_dead_letter_reason reason) noexcept {
  // The runtime's own messages (a supervisor's timers) are no one's mail.
  if (m->signal == Signal::kNone && !is_system_type(m->type)) {
    dead_letters_.fetch_add(1, std::memory_order_relaxed);
    if (Hook* h = dead_letter_hook_.load(std::memory_order_acquire))
      h->fn(h->user_data, m->to, static_cast<airs_msg*>(m), reason);
  }
  msg_free(m);
}

}  // namespace airs
