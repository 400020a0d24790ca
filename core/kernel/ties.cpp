// ties.cpp - a thread asks a process for its links and monitors
// (airs_process_ties_get). Only a process touches its own sets
// (signals.hpp), so the question travels as a signal, as Erlang's
// process_info(Pid, links) does, and the process answers in its turn.
//
// The query is shared by the asker and the signal's envelope: whichever
// lets go last frees it. An envelope that is never handled (its process
// ended first) lets go without an answer, which wakes the asker with
// ENOPROC instead of a wait for the whole timeout.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <new>
#include <thread>

#include "base/containers.hpp"
#include "base/error.hpp"
#include "kernel/kernel.hpp"

namespace airs {

namespace {

enum class TiesState { kAsked, kAnswered, kDropped };

struct TiesQuery {
  std::atomic<uint32_t> refs{2};  // the asker's and the envelope's
  std::mutex mu;
  std::condition_variable cv;
  TiesState state = TiesState::kAsked;             // mu
  Vector<uint64_t> links, monitors, monitored_by;  // the answer, mu
};

void query_release(TiesQuery* q) noexcept {
  if (q->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    q->~TiesQuery();
    mem_free(q);
  }
}

// The envelope's free_fn: its reference goes, with "dropped" if the
// process never answered.
void envelope_lets_go(void* data) noexcept {
  auto* q = static_cast<TiesQuery*>(data);
  {
    std::lock_guard<std::mutex> lock(q->mu);
    if (q->state == TiesState::kAsked) q->state = TiesState::kDropped;
  }
  q->cv.notify_all();
  query_release(q);
}

void copy_out(const Vector<uint64_t>& from, airs_pid* out, size_t cap,
              size_t* count) noexcept {
  *count = from.size();
  size_t n = std::min(cap, from.size());
  for (size_t i = 0; i < n; i++) out[i] = from[i];
}

}  // namespace

void Signals::answer_ties(Process* p, Msg* m) noexcept {
  auto* q = static_cast<TiesQuery*>(const_cast<void*>(m->data));
  std::lock_guard<std::mutex> lock(q->mu);
  bool fits = true;
  if (ProcessExtra* x = p->extra) {
    try {
      // A link whose unlink is not answered yet (correlation != 0) is
      // already gone for this process.
      for (Msg* r : x->links)
        if (r->correlation == 0) q->links.push_back(r->to);
      for (const MonitorEntry& e : x->monitoring) q->monitors.push_back(e.pid);
      for (Msg* r : x->watchers) q->monitored_by.push_back(r->to);
    } catch (const std::bad_alloc&) {
      fits = false;
    }
  }
  // Without memory for the lists the asker hears "dropped" (ENOMEM would
  // be truer, but it cannot be told apart here: rare enough).
  q->state = fits ? TiesState::kAnswered : TiesState::kDropped;
}

airs_status Signals::query_ties(uint64_t pid, airs_process_ties* out,
                                uint32_t timeout_ms) noexcept {
  using clock = std::chrono::steady_clock;
  void* mem = mem_alloc(sizeof(TiesQuery));
  if (!mem) return fail(AIRS_ENOMEM, "out of memory");
  auto* q = new (mem) TiesQuery();
  Msg* m = msg_new_owned(0, q, 0, envelope_lets_go);
  if (!m) {
    q->~TiesQuery();
    mem_free(q);
    return fail(AIRS_ENOMEM, "out of memory");
  }
  m->signal = Signal::kTies;
  // Not alive: signal_or_drop frees the envelope, and with it the
  // envelope's reference.
  if (!k_.mail.signal_or_drop(pid, m)) {
    query_release(q);
    return fail(AIRS_ENOPROC, "the process is not alive");
  }
  auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
  TiesState state = TiesState::kAsked;
  std::unique_lock<std::mutex> lock(q->mu);
  while ((state = q->state) == TiesState::kAsked) {
    if (clock::now() >= deadline) break;
    if (k_.threaded()) {
      q->cv.wait_until(lock, deadline);
      continue;
    }
    // Host-driven: the answer comes from our own poll.
    lock.unlock();
    uint32_t ran = 0;
    airs_status st = k_.poll(1024, &ran);
    if (st == AIRS_OK && ran == 0)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    lock.lock();
    if (st != AIRS_OK) {
      lock.unlock();
      query_release(q);
      return st;
    }
  }
  airs_status st = AIRS_OK;
  if (state == TiesState::kAnswered) {
    copy_out(q->links, out->links, out->links_capacity, &out->links_count);
    copy_out(q->monitors, out->monitors, out->monitors_capacity,
             &out->monitors_count);
    copy_out(q->monitored_by, out->monitored_by, out->monitored_by_capacity,
             &out->monitored_by_count);
  } else if (state == TiesState::kDropped) {
    st = fail(AIRS_ENOPROC, "the process ended before it answered");
  } else {
    st = failf(AIRS_ETIMEDOUT, "no answer within %u ms (a long callback?)",
               timeout_ms);
  }
  lock.unlock();
  query_release(q);
  return st;
}

}  // namespace airs
