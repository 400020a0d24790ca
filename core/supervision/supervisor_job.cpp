// supervisor_job.cpp - stopping children one after another (OTP stops them
// in sequence, each by its shutdown spec), then what the job was for: a
// group restart, the supervisor's exit, or the end of a terminate_child.
// The supervisor never waits: each child's exit (or its kill timer)
// arrives as a message and moves the job on.
#include <algorithm>
#include <utility>

#include "base/error.hpp"
#include "supervision/supervisor.hpp"

namespace airs {

void Supervisor::begin_job(Job::Kind kind, Vector<Child*> stops) {
  job_.kind = kind;
  job_.stops = std::move(stops);
  job_.next = 0;
  job_.waiting = 0;
  job_.parallel = false;
  job_.starts.clear();
  job_.orphan_refs.clear();
  job_.seq = ++job_seq_;
  job_.backoff_done = false;
  for (Child* c : job_.stops) c->in_job = true;
}

// Begins the next stop(s); once every child of the job has ended, moves on.
void Supervisor::advance() {
  while (job_.next < job_.stops.size() &&
         (job_.parallel || job_.waiting == 0)) {
    Child* ch = job_.stops[job_.next++];
    if (ch->pid) begin_stop(*ch);
  }
  if (job_.waiting > 0 || job_.next < job_.stops.size()) return;
  after_stops();
}

void Supervisor::begin_stop(Child& ch) {
  ch.job_stop = true;
  ch.state = AIRS_CHILD_STOPPING;
  job_.waiting++;
  uint64_t pid = ch.pid;
  // As OTP, the stop waits for a DOWN as well as for the exit signal: a
  // child that unlinked from its supervisor can still be stopped. Without
  // memory for the watch, the link alone tells of the end.
  uint64_t ref = 0;
  outside([&] {  // a signal may run the dead-letter hook (user code)
    if (seam_.watch(self_, pid, &ref) != AIRS_OK) ref = 0;
  });
  ch.stop_ref = ref;
  send_stop(ch, AIRS_EXIT_SHUTDOWN, 0, nullptr);
  // After the kill timer is armed: whoever sees the event may move a
  // manual clock past the timeout.
  emit(AIRS_EVENT_CHILD_STOPPING, &ch, pid, 0, ch.rec.shutdown, nullptr);
}

// Asks a child to end by its shutdown spec: killed at once (brutal_kill),
// or sent this exit reason, then killed after shutdown_ms (timeout). The
// supervisor is the sender, as in OTP. An ENOPROC here means the child is
// ending anyway: its exit is on the way through the link.
void Supervisor::send_stop(Child& ch, airs_exit_kind kind, int32_t code,
                           const char* text) {
  uint64_t pid = ch.pid;
  // A signal may run the dead-letter hook (user code): outside the lock.
  // A kill needs no memory; the polite way does, and a stop must happen:
  // without memory to ask, or to arm the kill timer, the child is killed.
  auto kill = [&] {
    outside(
        [&] { seam_.exit_signal(pid, AIRS_EXIT_KILLED, 0, nullptr, self_); });
  };
  if (ch.rec.shutdown == AIRS_SHUTDOWN_BRUTAL_KILL) {
    kill();
    return;
  }
  airs_status st = AIRS_OK;
  outside([&] { st = seam_.exit_signal(pid, kind, code, text, self_); });
  if (st == AIRS_ENOMEM) {
    kill();
    return;
  }
  if (ch.rec.shutdown == AIRS_SHUTDOWN_TIMEOUT && !ch.kill_timer) {
    ch.kill_timer = self_timer(ch.rec.shutdown_ms, kMsgSupKill, ch.pid);
    if (!ch.kill_timer) kill();
  }
}

void Supervisor::after_stops() {
  for (Child* c : job_.stops) c->in_job = false;
  switch (job_.kind) {
    case Job::kRestart:
      if (!job_.orphan_refs.empty() || end_orphans()) return;
      if (flags_.backoff_base_ms > 0 && !job_.backoff_done) {
        // The k-th restart within the period waits base * 2^(k-1).
        size_t k = std::max<size_t>(restarts_.size(), 1);
        uint64_t delay = uint64_t{flags_.backoff_base_ms}
                         << std::min<size_t>(k - 1, 32);
        delay = std::min<uint64_t>(delay, flags_.backoff_max_ms);
        Child* first = job_.starts.empty() ? nullptr : job_.starts[0];
        emit(AIRS_EVENT_BACKOFF, first, 0, 0, static_cast<int64_t>(delay),
             nullptr);
        job_.backoff_timer = self_timer(delay, kMsgSupBackoff, job_.seq);
        if (job_.backoff_timer) return;
      }
      start_group();
      return;
    case Job::kShutdown:
      exit_with_ = std::exchange(job_.reason, nullptr);
      finish_job();
      return;
    case Job::kTerminate:
      for (Child* c : job_.stops)
        if (c->rec.restart == AIRS_RESTART_TEMPORARY || is_pool())
          c->drop = true;
      finish_job();
      return;
    case Job::kNone: return;
  }
}

// A child supervisor to restart that was killed left its children to end
// through their links, still holding their names: they are killed now
// (they were ending anyway), and the restart waits for their ends, so the
// new tree never races the old one. true: waiting (their DOWNs move the
// job on). Without memory for a watch, that one is not waited for.
bool Supervisor::end_orphans() {
  for (Child* c : job_.starts) {
    std::vector<uint64_t> orphans = std::move(c->orphans);
    c->orphans.clear();
    for (uint64_t pid : orphans) {
      uint64_t ref = 0;
      outside([&] {  // signals may run the dead-letter hook (user code)
        if (seam_.watch(self_, pid, &ref) != AIRS_OK) ref = 0;
        seam_.exit_signal(pid, AIRS_EXIT_KILLED, 0, nullptr, self_);
      });
      if (ref) job_.orphan_refs.push_back(ref);
    }
  }
  return !job_.orphan_refs.empty();
}

// Starts the group again in start order. A start that fails leaves it and
// the rest RESTARTING, and the supervisor tries again (retry()).
void Supervisor::start_group() {
  bool failed = false;
  for (Child* ch : job_.starts) {
    if (ch->drop || ch->state != AIRS_CHILD_RESTARTING) continue;
    if (failed || start_one(*ch, true) == AIRS_OK) continue;
    failed = true;  // it and the rest wait for the retry
    if (is_group()) retry_anchor_ = ch;
  }
  finish_job();
  if (!failed || retry_pending_) return;
  // OTP tries again; so does this, by a message to itself. Without memory
  // for it, the supervisor cannot carry on: it ends, and its parent
  // decides (its children follow it through their links).
  if (Msg* m = msg_new_copy(kMsgSupRetry, nullptr, 0))
    outside([&] { retry_pending_ = seam_.signal(self_, m); });
  if (!retry_pending_ && !exit_with_) exit_with_ = reason_no_memory();
}

void Supervisor::finish_job() {
  job_.kind = Job::kNone;
  job_.next = job_.waiting = 0;
  job_.backoff_timer = 0;
  // The children the job marked (only its own are, in its two lists, where
  // one may be twice): each dropped once. Each list keeps its marked ones
  // in place (no allocation), then they go. Only the job's children are
  // looked at, not all: a terminate_child costs the same with 10 children
  // or 100000 (OTP's scale_start_stop_many_children).
  auto keep_marked = [](Vector<Child*>& list) {
    size_t n = 0;
    for (Child* c : list)
      if (c->drop) {
        c->drop = false;
        list[n++] = c;
      }
    list.resize(n);
  };
  keep_marked(job_.stops);
  keep_marked(job_.starts);
  for (Child* c : job_.stops) drop(*c);
  for (Child* c : job_.starts) drop(*c);
  job_.stops.clear();
  job_.starts.clear();
}

}  // namespace airs
