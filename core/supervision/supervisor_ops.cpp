// supervisor_ops.cpp - the operations on a running supervisor, called from
// any thread. They run on the caller's thread with the supervisor's role
// (supervisor.hpp); what takes time (a stop) becomes a job that the
// supervisor carries on, and only a caller that may wait waits for it.
// The read-only ones need only the state's lock.
#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "base/error.hpp"
#include "supervision/supervisor.hpp"

namespace airs {

namespace {

airs_status no_memory() {
  return fail(AIRS_ENOMEM, "out of memory");
}

}  // namespace

airs_status Supervisor::enter(Work& work, bool wait_idle) {
  if (!work.ok()) return work.status();
  if (ended_) return fail(AIRS_ENOPROC, "the supervisor has ended");
  if (!wait_idle || job_.kind == Job::kNone) return AIRS_OK;
  if (!work.may_wait())
    return fail(AIRS_ESTATE,
                "the supervisor is in the middle of a restart or stop "
                "(callbacks do not wait: try again later)");
  work.wait_until([this] { return job_.kind == Job::kNone; });
  if (ended_) return fail(AIRS_ENOPROC, "the supervisor has ended");
  return AIRS_OK;
}

airs_status Supervisor::start_child(ChildRec rec, uint64_t* out) {
  // `rec` is destroyed after the role is let go: a record that is not
  // kept frees its user_data with nothing held.
  Work work(*this, Work::kOperation);
  if (airs_status st = enter(work, true); st != AIRS_OK) return st;
  if (is_pool())
    return fail(AIRS_EINVAL,
                "the supervisor is simple_one_for_one: its children start "
                "from its template, with an argument");
  if (by_id_.count(rec.id))
    return failf(AIRS_EEXIST, "a child '%s' exists already", rec.id.c_str());
  Child* ch = nullptr;
  try {
    ch = &children_.emplace_back();
    ch->self = std::prev(children_.end());
    by_id_[rec.id] = ch;
  } catch (const std::bad_alloc&) {
    if (ch) children_.pop_back();
    return no_memory();
  }
  ch->rec = std::move(rec);
  airs_status st = start_one(*ch, false);
  if (st != AIRS_OK) {
    drop(*ch);  // its user_data is freed once the role is let go
    return st;
  }
  if (out) *out = ch->pid;  // 0 if its init asked to be ignored
  if (ch->drop) drop(*ch);  // a temporary one, ignored
  return AIRS_OK;
}

airs_status Supervisor::start_dynamic_child(void* arg, void (*arg_free)(void*),
                                            uint64_t* out) {
  // A start that fails frees `arg`, after the role is let go.
  ChildRec rec;
  auto release_arg = [&] {
    ErrorKeep keep;
    if (arg_free) arg_free(arg);
  };
  if (!is_pool()) {
    airs_status st =
        fail(AIRS_EINVAL, "the supervisor is not simple_one_for_one");
    release_arg();
    return st;
  }
  airs_status st;
  {
    Work work(*this, Work::kOperation);
    st = enter(work, true);
    if (st == AIRS_OK) {
      try {
        rec = spec_->children[0].with_arg(arg, arg_free);
      } catch (const std::bad_alloc&) {
        rec.start = nullptr;
      }
      if (!rec.start) st = no_memory();
    }
    if (st == AIRS_OK) {
      arg_free = nullptr;  // the record owns arg from here
      Child* ch = nullptr;
      try {
        ch = &children_.emplace_back();
        ch->self = std::prev(children_.end());
        ch->rec = std::move(rec);
        st = start_one(*ch, false);
        if (st == AIRS_OK && out) *out = ch->pid;  // 0: ignored
        if (st != AIRS_OK || ch->drop)
          drop(*ch);  // arg freed once the role is let go
      } catch (const std::bad_alloc&) {
        st = no_memory();  // `rec` still owns arg: freed with it below
      }
    }
  }
  if (st != AIRS_OK) release_arg();  // (nothing when the record owns it)
  return st;
}

airs_status Supervisor::terminate_child(const char* id, uint64_t pid) {
  Work work(*this, Work::kOperation);
  if (!work.ok()) return work.status();
  if (ended_) return fail(AIRS_ENOPROC, "the supervisor has ended");
  bool queue = job_.kind != Job::kNone && !work.may_wait();
  if (!queue)
    if (airs_status st = enter(work, true); st != AIRS_OK) return st;
  if (id && is_pool())
    return fail(AIRS_EINVAL,
                "a simple_one_for_one child has no id: name it by its pid");
  if (!id && !is_pool())
    return failf(AIRS_ENOTFOUND,
                 "%llu: a child is named by its pid only in a "
                 "simple_one_for_one supervisor, as in OTP (use its id)",
                 static_cast<unsigned long long>(pid));
  Child* ch = id ? by_id(id) : by_pid(pid);
  if (!ch && !id) ch = restarting(pid);
  // OTP: a pid that has ended is no child to stop, and no error either (a
  // caller racing the child's own end gets ok, whichever comes first).
  if (!ch && !id && pid && !seam_.live(pid)) return AIRS_OK;
  if (!ch)
    return id ? failf(AIRS_ENOTFOUND, "no child '%s'", id)
              : failf(AIRS_ENOTFOUND, "%llu is not a running child",
                      static_cast<unsigned long long>(pid));
  if (ch->state == AIRS_CHILD_RESTARTING) {
    ch->state = AIRS_CHILD_STOPPED;
    if (ch == retry_anchor_) cancel_group_retry(*ch);
  }
  if (!ch->pid) {
    // Not running: nothing to stop. A pool's child was restarting (a
    // pool keeps no stopped child): it is forgotten, as after a stop; by
    // the restart that counts on it (a callback does not wait for it),
    // once that is over.
    if (is_pool()) {
      auto& starts = job_.starts;
      if (std::find(starts.begin(), starts.end(), ch) != starts.end())
        ch->drop = true;
      else
        drop(*ch);
    }
    return AIRS_OK;
  }
  try {
    if (queue) {
      // A callback does not wait for the job in progress: the stop is
      // queued behind it, as OTP's supervisor would queue the call.
      deferred_.push_back(
          Deferred{Deferred::kTerminate, ch->pid, nullptr, false});
      return AIRS_OK;
    }
    begin_job(Job::kTerminate, {ch});
  } catch (const std::bad_alloc&) {
    return no_memory();
  }
  uint64_t seq = job_.seq;
  advance();
  if (work.may_wait())
    work.wait_until([&] { return job_.kind == Job::kNone || job_.seq != seq; });
  return AIRS_OK;
}

// The pool's child whose restart is pending, by the pid it had: OTP
// still names it by that pid (hanging_restart_loop_simple terminates it
// so). Searched only when no running child has the pid. [mu_]
Child* Supervisor::restarting(uint64_t last_pid) noexcept {
  if (!is_pool() || !last_pid) return nullptr;
  for (Child& c : children_)
    if (c.state == AIRS_CHILD_RESTARTING && c.last_pid == last_pid) return &c;
  return nullptr;
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
  Work work(*this, Work::kOperation);
  if (airs_status st = enter(work, true); st != AIRS_OK) return st;
  Child* ch = nullptr;
  airs_status st = stopped_child(id, &ch);
  if (st == AIRS_OK) st = start_one(*ch, false);
  if (st == AIRS_OK && out) *out = ch->pid;
  return st;
}

airs_status Supervisor::delete_child(const char* id) {
  Work work(*this, Work::kOperation);
  if (airs_status st = enter(work, true); st != AIRS_OK) return st;
  Child* ch = nullptr;
  airs_status st = stopped_child(id, &ch);
  if (st == AIRS_OK) drop(*ch);
  return st;
}

// A read needs no role, but the role's own thread (a child's init during
// a start) would see the state half way through: it is refused. [mu_]
airs_status Supervisor::readable() const noexcept {
  if (ended_) return fail(AIRS_ENOPROC, "the supervisor has ended");
  if (busy_ && busy_owner_ == std::this_thread::get_id())
    return fail(AIRS_ESTATE,
                "called from inside the supervisor's own work (a child's "
                "start or stop)");
  return AIRS_OK;
}

// Runs read(), the body of a read-only call, on a settled state: a thread
// that may wait first waits for a restart or stop in progress (as OTP's
// calls queue behind it), holding the role; any other thread reads what
// is there under the lock alone, without waiting (supervisor.h). With a
// manual clock nobody waits: a stop may wait for a timer that only the
// caller itself can move.
template <class Read>
airs_status Supervisor::read_settled(Read&& read) {
  if (Work::thread_may_wait() && !seam_.manual_clock()) {
    Work work(*this, Work::kOperation);
    if (airs_status st = enter(work, true); st != AIRS_OK) return st;
    read();
    return AIRS_OK;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (airs_status st = readable(); st != AIRS_OK) return st;
  read();
  return AIRS_OK;
}

airs_status Supervisor::which_children(airs_child_info* out, size_t cap,
                                       size_t* count) {
  return read_settled([&] { list_children(out, cap, count); });
}

void Supervisor::list_children(airs_child_info* out, size_t cap,
                               size_t* count) const noexcept {
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
}

// As OTP: a dynamic pool counts its template as its one spec, and each
// child as a worker or a supervisor by the template's type.
airs_status Supervisor::count_children(airs_child_counts* out) {
  return read_settled([&] {
    airs_child_counts n{};
    for (const Child& ch : children_) {
      n.specs++;
      if (ch.pid) n.active++;
      if (ch.rec.type == AIRS_CHILD_SUPERVISOR)
        n.supervisors++;
      else
        n.workers++;
    }
    if (is_pool()) n.specs = 1;
    *out = n;
  });
}

}  // namespace airs
