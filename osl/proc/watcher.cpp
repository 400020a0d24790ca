// watcher.cpp - a watch of an OS process the runtime did not start
// (WATCH): an actor with an fd watch on the process's pidfd; when that
// becomes readable (the process ended) it sends its owner one
// AIRS_MSG_PROC_EXIT and ends. Only a parent can read an exit status, so the
// message says AIRS_PROC_EXIT_UNKNOWN. It ends with its owner too (a monitor).
#include <cstring>
#include <new>

#include "proc.hpp"

namespace airs::osl::proc {

namespace {

struct Watcher {
  int64_t os_pid;
  airs_pid owner;
  uint64_t owner_ref = 0;
};

airs_status watcher_init(void* user_data, airs_ctx* ctx, void** state) {
  auto* w = static_cast<Watcher*>(user_data);
  airs_status st = airs_monitor(ctx, w->owner, &w->owner_ref);
  if (st != AIRS_OK) return st;
  *state = w;
  return AIRS_OK;
}

airs_status watcher_receive(void* state, airs_ctx* ctx, const airs_msg* m) {
  auto* w = static_cast<Watcher*>(state);
  uint64_t type = airs_msg_type(m);
  if (type == AIRS_MSG_FD_READY) {  // its one watch, made by watcher_start
    airs_proc_exit e;
    memset(&e, 0, sizeof e);
    e.os_pid = w->os_pid;
    e.code = -1;
    e.flags = AIRS_PROC_EXIT_UNKNOWN;
    airs_msg* out = nullptr;
    if (airs_msg_new(AIRS_MSG_PROC_EXIT, &e, sizeof e, &out) == AIRS_OK) {
      airs_msg_set_correlation(out, airs_self(ctx));
      if (airs_ctx_send_msg(ctx, w->owner, out) != AIRS_OK) airs_msg_free(out);
    }
    return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
  }
  if (type == AIRS_MSG_DOWN && airs_msg_correlation(m) == w->owner_ref)
    return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
  return AIRS_OK;
}

// The fd watch (on the runtime's own duplicate) ends with the process.
void watcher_free(void* user_data) noexcept {
  delete static_cast<Watcher*>(user_data);
}

}  // namespace

airs_status watcher_start(airs_ctx* ctx, int pidfd, int64_t os_pid,
                          airs_pid owner, airs_pid* out) noexcept {
  static const airs_behaviour behaviour = {AIRS_BEHAVIOUR_VERSION,
                                           sizeof(airs_behaviour),
                                           watcher_init,
                                           watcher_receive,
                                           nullptr,
                                           nullptr,
                                           nullptr};
  auto* w = new (std::nothrow) Watcher{os_pid, owner};
  if (w == nullptr) return AIRS_ENOMEM;
  airs_status st =
      airs_ctx_spawn(ctx, &behaviour, w, watcher_free, nullptr, out);
  if (st != AIRS_OK) return st;
  // Watched once the watcher is alive (the watch needs a live owner). The
  // runtime watches a duplicate: the caller closes `pidfd` whatever
  // happens, and the watcher has no fd of its own to close.
  uint64_t id = 0;
  st = airs_fd_watch(airs_ctx_runtime(ctx), pidfd, AIRS_FD_READ, *out, &id);
  if (st != AIRS_OK) airs_kill(airs_ctx_runtime(ctx), *out);
  return st;
}

}  // namespace airs::osl::proc
