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
    if (rt_.threaded()) {
      // A wake-up can be missed only by an exit that ends the supervisor
      // without its lock; the short wait covers it.
      lock.wait_change(5);
      continue;
    }
    // Host-driven: the supervisor only moves if someone polls.
    lock.unlocked([this] {
      uint32_t ran = 0;
      if (rt_.poll(256, &ran) != AIRS_OK || ran == 0)
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    });
  }
}

airs_status Supervisor::enter(Locked& lock, const char* fn, bool wait_idle) {
  if (ended_) return failf(AIRS_ENOPROC, "%s: the supervisor has ended", fn);
  if (!wait_idle || job_.kind == Job::kNone) return AIRS_OK;
  if (current_ctx())
    return failf(AIRS_ESTATE,
                 "%s: the supervisor is in the middle of a restart or stop "
                 "(callbacks do not wait: try again later)",
                 fn);
  wait_until(lock, [this] { return job_.kind == Job::kNone; });
  if (ended_) return failf(AIRS_ENOPROC, "%s: the supervisor has ended", fn);
  return AIRS_OK;
}

#define AIRS_SUP_ENTER(fn, wait)                                             \
  if (Locked::reentered(*this))                                              \
    return fail(AIRS_ESTATE, fn                                              \
                ": called from inside the supervisor's own work (a child's " \
                "start, or the event hook)");                                \
  Locked lock(*this);                                                        \
  if (airs_status st_ = enter(lock, fn, wait); st_ != AIRS_OK) return st_

airs_status Supervisor::start_child(ChildRec rec, uint64_t* out) {
  const char* fn = "airs_supervisor_start_child";
  AIRS_SUP_ENTER("airs_supervisor_start_child", true);
  if (is_pool())
    return fail(AIRS_EINVAL,
                "airs_supervisor_start_child: the supervisor is "
                "simple_one_for_one (use airs_supervisor_start_dynamic_child)");
  if (by_id_.count(rec.id))
    return failf(AIRS_EEXIST, "%s: a child '%s' exists already", fn,
                 rec.id.c_str());
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
    return fail(AIRS_EINVAL,
                "airs_supervisor_start_dynamic_child: the supervisor is not "
                "simple_one_for_one");
  }
  if (Locked::reentered(*this)) {
    release_arg();
    return fail(AIRS_ESTATE,
                "airs_supervisor_start_dynamic_child: called from inside the "
                "supervisor's own work");
  }
  Locked lock(*this);
  if (airs_status st = enter(lock, "airs_supervisor_start_dynamic_child", true);
      st != AIRS_OK) {
    std::string why = last_error_message();
    release_arg();
    return fail(st, why.c_str());
  }
  ChildRec rec = spec_->children[0].with_arg(arg, arg_free);
  if (!rec.start) {
    release_arg();
    return fail(AIRS_ENOMEM,
                "airs_supervisor_start_dynamic_child: out of memory");
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

airs_status Supervisor::terminate_child(const char* id, uint64_t pid,
                                        const char* fn) {
  if (Locked::reentered(*this))
    return failf(AIRS_ESTATE,
                 "%s: called from inside the supervisor's own work", fn);
  Locked lock(*this);
  if (ended_) return failf(AIRS_ENOPROC, "%s: the supervisor has ended", fn);
  bool queue = job_.kind != Job::kNone && current_ctx();
  if (!queue)
    if (airs_status st = enter(lock, fn, true); st != AIRS_OK) return st;
  if (id && is_pool())
    return failf(AIRS_EINVAL,
                 "%s: a simple_one_for_one child is named by its pid (use "
                 "airs_supervisor_terminate_child_pid)",
                 fn);
  Child* ch = id ? by_id(id) : by_pid(pid);
  if (!ch)
    return id ? failf(AIRS_ENOTFOUND, "%s: no child '%s'", fn, id)
              : failf(AIRS_ENOTFOUND, "%s: %llu is not a running child", fn,
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
airs_status Supervisor::stopped_child(const char* id, const char* fn,
                                      Child** out) {
  if (is_pool())
    return failf(AIRS_EINVAL, "%s: not for simple_one_for_one", fn);
  Child* ch = by_id(id);
  if (!ch) return failf(AIRS_ENOTFOUND, "%s: no child '%s'", fn, id);
  if (ch->state != AIRS_CHILD_STOPPED)
    return failf(AIRS_ESTATE, "%s: child '%s' is not stopped", fn, id);
  *out = ch;
  return AIRS_OK;
}

airs_status Supervisor::restart_child(const char* id, uint64_t* out) {
  AIRS_SUP_ENTER("airs_supervisor_restart_child", true);
  Child* ch = nullptr;
  airs_status st = stopped_child(id, "airs_supervisor_restart_child", &ch);
  if (st == AIRS_OK) st = start_one(*ch, false);
  if (st == AIRS_OK && out) *out = ch->pid;
  return st;
}

airs_status Supervisor::delete_child(const char* id) {
  AIRS_SUP_ENTER("airs_supervisor_delete_child", true);
  Child* ch = nullptr;
  airs_status st = stopped_child(id, "airs_supervisor_delete_child", &ch);
  if (st == AIRS_OK) drop(*ch);
  return st;
}

airs_status Supervisor::which_children(airs_child_info* out, size_t cap,
                                       size_t* count) {
  AIRS_SUP_ENTER("airs_supervisor_which_children", false);
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
  AIRS_SUP_ENTER("airs_supervisor_count_children", false);
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
