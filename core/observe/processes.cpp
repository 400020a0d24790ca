// processes.cpp - the list of processes, one process's info, and the top
// processes over a window, read from the process table while the workers
// run.
//
// A slot is read without a lock: its pid first, then the fields, then the
// pid again. A slot reused in between (its process ended, another took
// it) reads as the new pid, and the reading is dropped.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "base/error.hpp"
#include "kernel/kernel.hpp"
#include "mail/mailbox.hpp"
#include "observe/observe.hpp"

namespace airs {

namespace {

// The pid in slot `i` if its process is alive (not ending), else 0.
uint64_t live_pid(const Process* p) noexcept {
  uint64_t pid = p->pid.load(std::memory_order_acquire);
  if (pid == 0 || p->life.load(std::memory_order_acquire) != kLive ||
      p->exiting.load(std::memory_order_acquire))
    return 0;
  return pid;
}

uint64_t memory_of(const Process* p) noexcept {
  return sizeof(Process) + p->depth() * sizeof(Msg);
}

}  // namespace

void process_list(Runtime& rt, uint64_t cursor, airs_pid* out, size_t cap,
                  size_t* count, uint64_t* next) noexcept {
  const ProcessTable& table = rt.kernel().table;
  uint32_t end = table.high_water();
  size_t n = 0;
  uint64_t i = cursor;
  for (; i < end && n < cap; i++) {
    const Process* p = table.slot(static_cast<uint32_t>(i));
    if (!p) continue;
    if (uint64_t pid = live_pid(p)) out[n++] = pid;
  }
  *count = n;
  *next = i < end ? i : 0;
}

airs_status process_info(Runtime& rt, uint64_t pid,
                         airs_process_info* out) noexcept {
  Kernel& k = rt.kernel();
  Process* p = k.table.lookup(pid);
  if (!p || p->pid.load(std::memory_order_acquire) != pid ||
      p->life.load(std::memory_order_acquire) != kLive)
    return fail(AIRS_ENOPROC, "the process is not alive");
  uint32_t flags = p->flags.load(std::memory_order_relaxed);
  out->pid = pid;
  if (p->exiting.load(std::memory_order_acquire))
    out->state = AIRS_PSTATE_EXITING;
  else if (p->normal_tail.tail.load(std::memory_order_acquire) & kIdle)
    out->state = AIRS_PSTATE_WAITING;
  else
    out->state = AIRS_PSTATE_RUNNABLE;
  out->flags = 0;
  if (flags & kTrapExit) out->flags |= AIRS_PINFO_TRAP_EXIT;
  if (flags & kBatchReceive) out->flags |= AIRS_PINFO_BATCH;
  if (rt.supervision().lookup(pid)) out->flags |= AIRS_PINFO_SUPERVISOR;
  out->mailbox_depth = p->depth();
  out->messages_in = p->accepted();
  out->messages_handled = p->dequeued.load(std::memory_order_relaxed);
  out->memory_bytes = memory_of(p);
  ProcessDescription d;
  if (k.observer.describer) k.observer.describer->describe(pid, &d);
  out->supervisor = d.supervisor;
  static_assert(sizeof out->name == sizeof d.name);
  static_assert(sizeof out->label == sizeof d.label);
  std::memcpy(out->name, d.name, sizeof d.name);
  std::memcpy(out->label, d.label, sizeof d.label);
  // Read after the fields: a slot reused meanwhile read another process.
  if (p->pid.load(std::memory_order_acquire) != pid)
    return fail(AIRS_ENOPROC, "the process is not alive");
  return AIRS_OK;
}

namespace {

struct Sample {
  uint64_t pid;
  uint64_t value;
};

// Each live process's handled count, by slot (pid 0: none).
bool sample_handled(const ProcessTable& table,
                    std::vector<Sample>* out) noexcept {
  try {
    uint32_t end = table.high_water();
    out->assign(end, Sample{0, 0});
    for (uint32_t i = 0; i < end; i++) {
      const Process* p = table.slot(i);
      if (!p) continue;
      uint64_t pid = live_pid(p);
      if (!pid) continue;
      uint64_t v = p->dequeued.load(std::memory_order_relaxed);
      if (p->pid.load(std::memory_order_acquire) == pid)
        (*out)[i] = Sample{pid, v};
    }
  } catch (const std::bad_alloc&) {
    return false;
  }
  return true;
}

// Lets `ms` pass, running a host-driven runtime meanwhile (its processes
// only move when someone polls).
void let_time_pass(Kernel& k, uint32_t ms) noexcept {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::milliseconds(ms);
  while (clock::now() < deadline) {
    uint32_t ran = 0;
    if (k.threaded() || k.poll(1024, &ran) != AIRS_OK || ran == 0)
      std::this_thread::sleep_for(std::min<clock::duration>(
          deadline - clock::now(), std::chrono::milliseconds(1)));
  }
}

}  // namespace

airs_status process_top(Runtime& rt, airs_top_key key, uint32_t window_ms,
                        airs_top_entry* out, size_t cap,
                        size_t* count) noexcept {
  Kernel& k = rt.kernel();
  if (window_ms && current_ctx())
    return fail(AIRS_ESTATE,
                "a window waits: not inside a callback (use window 0)");
  struct Ranked {
    uint64_t pid, value;
    uint32_t slot;
  };
  std::vector<Sample> before;
  std::vector<Ranked> ranked;
  if (key == AIRS_TOP_HANDLED && !sample_handled(k.table, &before))
    return fail(AIRS_ENOMEM, "out of memory");
  if (window_ms) let_time_pass(k, window_ms);
  try {
    uint32_t end = k.table.high_water();
    ranked.reserve(end);
    for (uint32_t i = 0; i < end; i++) {
      const Process* p = k.table.slot(i);
      if (!p) continue;
      uint64_t pid = live_pid(p);
      if (!pid) continue;
      uint64_t v = 0;
      if (key == AIRS_TOP_HANDLED) {
        // Alive at both ends of the window, as the same process.
        if (i >= before.size() || before[i].pid != pid) continue;
        v = p->dequeued.load(std::memory_order_relaxed) - before[i].value;
      } else if (key == AIRS_TOP_MAILBOX) {
        v = p->depth();
      } else {
        v = memory_of(p);
      }
      if (p->pid.load(std::memory_order_acquire) == pid)
        ranked.push_back(Ranked{pid, v, i});
    }
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
  size_t n = std::min(cap, ranked.size());
  // Largest first; ties in slot order.
  std::partial_sort(ranked.begin(), ranked.begin() + n, ranked.end(),
                    [](const Ranked& a, const Ranked& b) {
                      return a.value != b.value ? a.value > b.value
                                                : a.slot < b.slot;
                    });
  for (size_t i = 0; i < n; i++) out[i] = {ranked[i].pid, ranked[i].value};
  *count = n;
  return AIRS_OK;
}

}  // namespace airs
