// supervisor_ops.cpp - the operations on a running supervisor, called from
// any thread. They run on the caller's thread under the supervisor's lock;
// what takes time (a stop) becomes a job that the supervisor carries on,
// and only a caller outside any callback waits for it.
#include <cstring>
#include <string>
#include <utility>

#include "base/error.hpp"
#include "supervision/supervisor.hpp"

namespace airs {

template <class Done>
void Supervisor::wait_until(Locked& lock, Done&& done) {
  while (!ended_ && !done()) {
    if (seam_.threaded()) {
      // A wake-up can be missed only by an exit that ends the supervisor
      // without its lock; the short wait covers it.
      lock.wait_change(5);
      continue;
    }
    // Host-driven: the supervisor only moves if someone polls.
    lock.unlocked([this] {
      uint32_t ran = 0;
      if (seam_.poll(256, &ran) != AIRS_OK || ran == 0)
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    });
  }
}

airs_status Supervisor::enter(Locked& lock, bool wait_idle) {
  if (ended_) return fail(AIRS_ENOPROC, "the supervisor has ended");
  if (!wait_idle || job_.kind == Job::kNone) return AIRS_OK;
  if (current_ctx())
    return fail(AIRS_ESTATE,
                "the supervisor is in the middle of a restart or stop "
                "(callbacks do not wait: try again later)");
  wait_until(lock, [this] { return job_.kind == Job::kNone; });
  if (ended_) return fail(AIRS_ENOPROC, "the supervisor has ended");
  return AIRS_OK;
}

#define AIRS_SUP_ENTER(wait)                                               \
  if (Locked::reentered(*this))                                            \
    return fail(AIRS_ESTATE,                                               \
                "called from inside the supervisor's own work (a child's " \
                "start, or the event hook)");                              \
  Locked lock(*this);                                                      \
  if (airs_status st_ = enter(lock, wait); st_ != AIRS_OK) return st_

airs_status Supervisor::start_child(ChildRec rec, uint64_t* out) {
  AIRS_SUP_ENTER(true);
  if (is_pool())
    return fail(AIRS_EINVAL,
                "the supervisor is simple_one_for_one: its children start "
                "from its template, with an argument");
  if (by_id_.count(rec.id))
    return failf(AIRS_EEXIST, "a child '%s' exists already", rec.id.c_str());
  Child& ch = children_.emplace_back();
  ch.self = std::prev(children_.end());
  ch.rec = std::move(rec);
  by_id_[ch.rec.id] = &ch;
  airs_status st = start_one(ch, false);
  if (st != AIRS_OK) {
    std::string why = last_error_message();
    drop(ch);  // frees its user_data, which may set the error
    return fail(st, why.c_str());
  }
  if (out) *out = ch.pid;
  return AIRS_OK;
}

airs_status Supervisor::start_dynamic_child(void* arg, void (*arg_free)(void*),
                                            uint64_t* out) {
  auto release_arg = [&] {
    if (arg_free) arg_free(arg);
  };
  if (!is_pool()) {
    release_arg();
    return fail(AIRS_EINVAL, "the supervisor is not simple_one_for_one");
  }
  if (Locked::reentered(*this)) {
    release_arg();
    return fail(AIRS_ESTATE, "called from inside the supervisor's own work");
  }
  Locked lock(*this);
  if (airs_status st = enter(lock, true); st != AIRS_OK) {
    ErrorKeep keep;
    release_arg();
    return st;
  }
  ChildRec rec = spec_->children[0].with_arg(arg, arg_free);
  if (!rec.start) {
    release_arg();
    return fail(AIRS_ENOMEM, "out of memory");
  }
  Child& ch = children_.emplace_back();
  ch.self = std::prev(children_.end());
  ch.rec = std::move(rec);
  airs_status st = start_one(ch, false);
  if (st != AIRS_OK) {
    std::string why = last_error_message();
    drop(ch);  // runs arg_free
    return fail(st, why.c_str());
  }
  if (out) *out = ch.pid;
  return AIRS_OK;
}

airs_status Supervisor::terminate_child(const char* id, uint64_t pid) {
  if (Locked::reentered(*this))
    return fail(AIRS_ESTATE, "called from inside the supervisor's own work");
  Locked lock(*this);
  if (ended_) return fail(AIRS_ENOPROC, "the supervisor has ended");
  bool queue = job_.kind != Job::kNone && current_ctx();
  if (!queue)
    if (airs_status st = enter(lock, true); st != AIRS_OK) return st;
  if (id && is_pool())
    return fail(AIRS_EINVAL,
                "a simple_one_for_one child has no id: name it by its pid");
  Child* ch = id ? by_id(id) : by_pid(pid);
  if (!ch)
    return id ? failf(AIRS_ENOTFOUND, "no child '%s'", id)
              : failf(AIRS_ENOTFOUND, "%llu is not a running child",
                      static_cast<unsigned long long>(pid));
  if (ch->state == AIRS_CHILD_RESTARTING) ch->state = AIRS_CHILD_STOPPED;
  if (!ch->pid) return AIRS_OK;  // not running: nothing to stop
  if (queue) {
    // A callback does not wait for the job in progress: the stop is queued
    // behind it, as OTP's supervisor would queue the call.
    deferred_.push_back(
        Deferred{Deferred::kTerminate, ch->pid, nullptr, false});
    return AIRS_OK;
  }
  begin_job(Job::kTerminate, {ch});
  uint64_t seq = job_.seq;
  advance();
  if (!current_ctx())
    wait_until(lock,
               [&] { return job_.kind == Job::kNone || job_.seq != seq; });
  return AIRS_OK;
}

// The STOPPED child `id`, for restart_child and delete_child.
airs_status Supervisor::stopped_child(const char* id, Child** out) {
  if (is_pool()) return fail(AIRS_EINVAL, "not for simple_one_for_one");
  Child* ch = by_id(id);
  if (!ch) return failf(AIRS_ENOTFOUND, "no child '%s'", id);
  if (ch->state != AIRS_CHILD_STOPPED)
    return failf(AIRS_ESTATE, "child '%s' is not stopped", id);
  *out = ch;
  return AIRS_OK;
}

airs_status Supervisor::restart_child(const char* id, uint64_t* out) {
  AIRS_SUP_ENTER(true);
  Child* ch = nullptr;
  airs_status st = stopped_child(id, &ch);
  if (st == AIRS_OK) st = start_one(*ch, false);
  if (st == AIRS_OK && out) *out = ch->pid;
  return st;
}

airs_status Supervisor::delete_child(const char* id) {
  AIRS_SUP_ENTER(true);
  Child* ch = nullptr;
  airs_status st = stopped_child(id, &ch);
  if (st == AIRS_OK) drop(*ch);
  return st;
}

airs_status Supervisor::which_children(airs_child_info* out, size_t cap,
                                       size_t* count) {
  AIRS_SUP_ENTER(false);
  size_t i = 0;
  for (const Child& ch : children_) {
    if (i < cap) {
      airs_child_info& row = out[i];
      std::memset(&row, 0, sizeof row);
      std::memcpy(row.id, ch.rec.id.data(), ch.rec.id.size());
      row.pid = ch.pid;
      row.type = ch.rec.type;
      row.state = ch.state;
    }
    i++;
  }
  *count = i;
  return AIRS_OK;
}

airs_status Supervisor::count_children(airs_child_counts* out) {
  AIRS_SUP_ENTER(false);
  airs_child_counts n{};
  for (const Child& ch : children_) {
    n.specs++;
    if (ch.pid) n.active++;
    if (ch.rec.type == AIRS_CHILD_SUPERVISOR)
      n.supervisors++;
    else
      n.workers++;
  }
  *out = n;
  return AIRS_OK;
}

}  // namespace airs
