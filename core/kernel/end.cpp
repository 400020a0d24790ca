// end.cpp - the end of a process: terminate, the exit observers, links and
// monitors, what is left in the mailbox, and the slot back; and waiting
// for an end.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "base/error.hpp"
#include "kernel/kernel.hpp"

namespace airs {

uint32_t Processes::add_exit_observer(ExitObserver o) noexcept {
  if (nobservers_ == kMaxObservers) return 0;
  uint32_t bit = kFirstMemberBit << nobservers_;
  if (bit > kLastMemberBit) return 0;
  observers_[nobservers_++] = o;
  return bit;
}

void Processes::tell_exit_observers(uint64_t pid, Process* p,
                                    Reason* reason) noexcept {
  // Dekker with mark_member_if_alive(): `exiting` is set (seq_cst), then
  // the member bits are read.
  uint32_t flags = p->flags.load(std::memory_order_seq_cst);
  for (int i = 0; i < nobservers_; i++)
    if (flags & (kFirstMemberBit << i))
      observers_[i].fn(observers_[i].self, pid, p, reason);
}

// In phases: the process stops being alive (`exiting`), its terminate
// runs, the services it joined forget it, its links and monitors hear of
// it, its user_data goes, what is left in its mailbox is answered, and its
// slot goes back to the table.
void Processes::end(Process* p, Ctx& c, Reason* reason,
                    bool call_terminate) noexcept {
  uint64_t pid = c.pid;
  push_staged(c);  // what it sent before it starts to end
  p->exiting.store(1, std::memory_order_seq_cst);
  // Also while the hooks below run (exit observers, user_data_free, dead
  // letters): they may call in as this process, which must make no new
  // link or monitor once its own have been told.
  c.ending = true;
  if (call_terminate && p->terminate) {
    CtxScope scope(&c);
    p->terminate(p->state_ptr, &c, reason);
  }
  reason_release(c.exit_request);
  c.exit_request = nullptr;
  push_staged(c);  // and what terminate sent, before its end completes

  // Its crash report, while its name and label are still there.
  if (call_terminate) k_.observer.process_ended(pid, reason, c.last_type);
  tell_exit_observers(pid, p, reason);
  count_end(c, call_terminate);
  if (call_terminate && k_.observer.wants_events()) {
    airs_exit_kind kind = reason->kind;
    // The static reasons' text is their kind's name: not twice.
    const char* name = reason_static(kind)->text;
    const char* why = reason->text && std::strcmp(reason->text, name) != 0
                          ? reason->text
                          : "";
    bool quiet = kind == AIRS_EXIT_NORMAL || kind == AIRS_EXIT_SHUTDOWN;
    char self[32];
    format_pid(pid, self, sizeof self);
    k_.observer.emit(
        {.kind = AIRS_EVENT_PROCESS_EXITED,
         .severity = quiet ? AIRS_SEVERITY_DEBUG : AIRS_SEVERITY_WARNING,
         .pid = pid,
         .reason = reason},
        "process %s exited: %s%s%s", self, name, *why ? ": " : "", why);
  }

  // Its user_data goes before its links and monitors hear of the end:
  // whoever sees the end (a DOWN, a supervisor's EXIT, which
  // terminate_child answers on) finds it released.
  if (p->owner)
    spec_release(p->owner);
  else if (p->user_data_free)
    p->user_data_free(p->user_data);
  p->owner = nullptr;
  p->user_data_free = nullptr;
  p->state_ptr = nullptr;
  k_.signals.spread(p, pid, reason);

  for (uint32_t i = 0; i < c.unhandled_count; i++)
    k_.mail.undeliverable(c.unhandled[i], reason);
  c.unhandled_count = 0;
  k_.mail.drain_dead(p, reason);  // it came while p was alive
  reason_release(reason);
  // The slot goes back before `life` says kFree: whoever sees the end
  // complete (wait()) can spawn into it at once. A spawner that takes it
  // meanwhile waits for the mailbox's role, which goes last.
  k_.table.release(pid_slot(pid));
  p->life.store(kFree, std::memory_order_seq_cst);
  k_.mail.settle_free(p);
  notify_waiters(pid);
}

// Pushes what the ending process staged in the worker's outbox (and the
// transport's): whoever sees the end (airs_is_alive false, airs_wait, a
// DOWN, its name gone) finds that mail in the mailboxes already, as when
// an Erlang process's sends are done when it is seen exiting.
void Processes::push_staged(Ctx& c) noexcept {
  if (c.worker) k_.mail.flush(c.worker);
  if (c.remote_dirty) {
    k_.remote.flush();
    c.remote_dirty = false;
  }
}

// No terminate: the spawn failed, and counts neither as spawned (it took
// a spawn number) nor as exited.
void Processes::count_end(Ctx& c, bool call_terminate) noexcept {
  if (!call_terminate)
    k_.observer.count_spawn_failed();
  else if (c.worker)
    count_one(c.worker->exited);
  else
    k_.observer.count_exit_elsewhere();
}

// Dekker with wait(): `life` is set, then we read the waiters' count and
// slots; a waiter fills its slot, then reads `life`.
void Processes::notify_waiters(uint64_t pid) noexcept {
  if (exit_waiters_.load(std::memory_order_seq_cst) == 0) return;
  bool wanted = unslotted_.load(std::memory_order_seq_cst) > 0;
  for (int i = 0; i < kWaitSlots && !wanted; i++)
    wanted = awaited_[i].load(std::memory_order_seq_cst) == pid;
  if (!wanted) return;
  std::lock_guard<std::mutex> lock(exit_mu_);
  exit_cv_.notify_all();
}

int Processes::await_begin(uint64_t pid) noexcept {
  exit_waiters_.fetch_add(1, std::memory_order_seq_cst);
  for (int i = 0; i < kWaitSlots && pid != 0; i++) {  // 0 marks a free slot
    uint64_t free = 0;
    if (awaited_[i].load(std::memory_order_relaxed) == 0 &&
        awaited_[i].compare_exchange_strong(free, pid,
                                            std::memory_order_seq_cst))
      return i;
  }
  unslotted_.fetch_add(1, std::memory_order_seq_cst);
  return -1;
}

void Processes::await_end(int slot) noexcept {
  if (slot >= 0)
    awaited_[slot].store(0, std::memory_order_relaxed);
  else
    unslotted_.fetch_sub(1, std::memory_order_relaxed);
  exit_waiters_.fetch_sub(1, std::memory_order_relaxed);
}

airs_status Processes::wait(uint64_t pid, uint32_t timeout_ms) noexcept {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
  // Ended: end() has finished (terminate, user_data_free, links, monitors,
  // name), so the slot is free or holds a newer process. live() turns
  // false earlier, as soon as the process starts to end.
  auto ended = [this, pid] {
    Process* p = k_.table.lookup(pid);
    if (!p || p->life.load(std::memory_order_seq_cst) == kFree) return true;
    return p->pid.load(std::memory_order_seq_cst) != pid;  // after `life`
  };
  if (!k_.threaded()) {
    while (!ended()) {
      if (clock::now() >= deadline)
        return fail(AIRS_ETIMEDOUT, "the process is still alive");
      uint32_t ran = 0;
      airs_status st = k_.poll(1024, &ran);
      if (st != AIRS_OK) return st;
      if (ran != 0) continue;
      // Nothing to run: what ends the process must come from another
      // thread (a send, a job's completion) or a timer, and the host's
      // fd, once it exists, says when; without it, a short nap.
      if (PollHook* io = k_.poll_hook.load(std::memory_order_acquire)) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - clock::now())
                        .count();
        io->wait_ready(int(std::clamp<int64_t>(left, 0, 100)));
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    }
    return AIRS_OK;
  }
  const int slot = await_begin(pid);
  airs_status st = AIRS_OK;
  {
    std::unique_lock<std::mutex> lock(exit_mu_);
    while (!ended()) {
      auto now = clock::now();
      if (now >= deadline) {
        st = fail(AIRS_ETIMEDOUT, "the process is still alive");
        break;
      }
      // No polling (a waiting host thread stays asleep): the end of
      // `pid` notifies, and a spawn into the slot marks it live only
      // after its new pid is in, so the old pid never reads as alive
      // again.
      exit_cv_.wait_until(lock, deadline);
    }
  }
  await_end(slot);
  return st;
}

airs_status Processes::stat(uint64_t pid, int key,
                            uint64_t* out) const noexcept {
  Process* p = live(pid);
  if (!p) return fail(AIRS_ENOPROC, "not alive");
  switch (key) {
    case AIRS_PSTAT_MAILBOX_DEPTH: *out = p->depth(); return AIRS_OK;
    case AIRS_PSTAT_MAILBOX_CAPACITY: *out = p->capacity; return AIRS_OK;
    case AIRS_PSTAT_MSGS_ENQUEUED: *out = p->accepted(); return AIRS_OK;
    case AIRS_PSTAT_MSGS_HANDLED:
      *out = p->dequeued.load(std::memory_order_relaxed);
      return AIRS_OK;
    case AIRS_PSTAT_MSGS_DROPPED:
      *out = p->dropped.load(std::memory_order_relaxed);
      return AIRS_OK;
  }
  return failf(AIRS_EINVAL, "unknown key %d", key);
}

}  // namespace airs
