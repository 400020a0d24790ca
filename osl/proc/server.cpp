// server.cpp - the process actor (AIRS_OSL_PROC_NAME): reads SPAWN and
// WATCH requests, starts a port or a watcher for each, and lets them
// answer. It keeps no state of its own, so a restart loses nothing: the
// ports and watchers it started are not linked to it and go on.
//
// Also here: its child spec, airs_proc_start, and the two helpers that
// send a spawn request to it.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "base/error.hpp"
#include "proc.hpp"
#include "reply.hpp"
#include "request.hpp"

namespace airs::osl::proc {

namespace {

// The port answers the request itself, once the child runs (or failed).
void on_spawn(airs_ctx* ctx, const airs_msg* m) noexcept {
  const uint64_t type = AIRS_MSG_PROC_SPAWN_REPLY;
  auto* plan = new (std::nothrow) Plan;
  const char* why = "";
  if (plan == nullptr) {
    reply_error(ctx, m, type, AIRS_ENOMEM, 0, "no memory for the request");
    return;
  }
  if (airs_status st =
          plan_read(airs_msg_data(m), airs_msg_size(m), plan, &why);
      st != AIRS_OK) {
    delete plan;
    reply_error(ctx, m, type, st, 0, "%s", why);
    return;
  }
  if (airs_msg_correlation(m) == 0) {  // nobody to answer: refuse
    delete plan;
    return;
  }
  auto* args =
      new (std::nothrow) PortArgs{plan, airs_msg_correlation(m), plan->owner};
  if (args == nullptr) {
    delete plan;
    reply_error(ctx, m, type, AIRS_ENOMEM, 0, "no memory for the port");
    return;
  }
  if (args->owner == AIRS_NO_PID) args->owner = airs_msg_sender(m);
  airs_pid port = AIRS_NO_PID;
  airs_status st = port_start(ctx, args, &port);  // takes args
  if (st != AIRS_OK)
    reply_error(ctx, m, type, st, 0, "cannot start the port: %s",
                airs_last_error_message());
}

void on_watch(airs_ctx* ctx, const airs_msg* m) noexcept {
  const uint64_t type = AIRS_MSG_PROC_WATCH_REPLY;
  airs_proc_watch_req req;
  if (airs_msg_size(m) < sizeof req) {
    reply_error(ctx, m, type, AIRS_EINVAL, 0, "the request is too short");
    return;
  }
  memcpy(&req, airs_msg_data(m), sizeof req);
  airs_pid owner = req.owner != AIRS_NO_PID ? req.owner : airs_msg_sender(m);
  if (req.os_pid <= 0 || req.os_pid > 0x7fffffff || owner == AIRS_NO_PID ||
      !airs_is_alive(airs_ctx_runtime(ctx), owner)) {
    reply_error(ctx, m, type, AIRS_EINVAL, 0, "%s",
                req.os_pid <= 0 || req.os_pid > 0x7fffffff
                    ? "bad process id"
                    : "no owner alive to tell");
    return;
  }
  int pidfd = pidfd_open_(static_cast<pid_t>(req.os_pid));
  if (pidfd < 0) {
    reply_error(ctx, m, type, AIRS_EOS, errno, "pidfd_open %lld",
                static_cast<long long>(req.os_pid));
    return;
  }
  airs_proc_watched out{AIRS_NO_PID};
  airs_status st = watcher_start(ctx, pidfd, req.os_pid, owner, &out.watcher);
  close(pidfd);
  if (st != AIRS_OK) {
    reply_error(ctx, m, type, st, 0, "cannot start the watcher: %s",
                airs_last_error_message());
    return;
  }
  reply_ok(ctx, m, type, &out, sizeof out);
}

// user_data != NULL: register the name here (airs_proc_start); under a
// supervisor the child spec's name does it.
airs_status server_init(void* user_data, airs_ctx* ctx, void** state) {
  *state = nullptr;
  if (user_data == nullptr) return AIRS_OK;
  return airs_register(airs_ctx_runtime(ctx), AIRS_OSL_PROC_NAME,
                       airs_self(ctx));
}

airs_status server_receive(void*, airs_ctx* ctx, const airs_msg* m) {
  switch (airs_msg_type(m)) {
    case AIRS_MSG_PROC_SPAWN: on_spawn(ctx, m); break;
    case AIRS_MSG_PROC_WATCH: on_watch(ctx, m); break;
    default: break;
  }
  return AIRS_OK;
}

const airs_behaviour kServer = {AIRS_BEHAVIOUR_VERSION,
                                sizeof(airs_behaviour),
                                server_init,
                                server_receive,
                                nullptr,
                                nullptr,
                                nullptr};

char kRegisterHere;

}  // namespace

}  // namespace airs::osl::proc

using namespace airs::osl::proc;

extern "C" AIRS_API airs_status airs_proc_child_spec(airs_child_spec* out) {
  if (out == nullptr)
    return airs::failf(AIRS_EINVAL, "airs_proc_child_spec: out is NULL");
  airs_status st = airs_child_spec_init(out);
  if (st != AIRS_OK) return st;
  out->id = "proc";
  out->behaviour = &kServer;
  out->restart = AIRS_RESTART_PERMANENT;
  out->type = AIRS_CHILD_WORKER;
  out->name = AIRS_OSL_PROC_NAME;
  return AIRS_OK;
}

extern "C" AIRS_API airs_status airs_proc_start(airs_runtime* rt,
                                                airs_pid* out) {
  if (rt == nullptr)
    return airs::failf(AIRS_EINVAL, "airs_proc_start: rt is NULL");
  airs_pid pid = AIRS_NO_PID;
  airs_status st =
      airs_spawn(rt, &kServer, &kRegisterHere, nullptr, nullptr, &pid);
  if (st == AIRS_OK && out != nullptr) *out = pid;
  return st;
}

extern "C" AIRS_API airs_status
airs_proc_spawn_request(airs_ctx* ctx, const airs_proc_spawn* spawn,
                        uint32_t timeout_ms, uint64_t* correlation) {
  if (ctx == nullptr || correlation == nullptr || timeout_ms == 0)
    return airs::failf(AIRS_EINVAL,
                       "airs_proc_spawn_request: ctx or correlation is NULL, "
                       "or timeout_ms is 0");
  airs_msg* m = nullptr;
  airs_status st = airs_proc_req_spawn(spawn, &m);
  if (st != AIRS_OK) return st;
  airs_pid server = AIRS_NO_PID;
  st = airs::osl::find_actor("airs_proc_spawn_request", airs_ctx_runtime(ctx),
                             AIRS_OSL_PROC_NAME, &server);
  if (st != AIRS_OK) {
    airs_msg_free(m);
    return st;
  }
  return airs::osl::request_actor(ctx, server, m, timeout_ms, correlation);
}

extern "C" AIRS_API airs_status airs_proc_spawn_call(
    airs_runtime* rt, const airs_proc_spawn* spawn, uint32_t timeout_ms,
    airs_proc_spawned* out, airs_osl_result* result) {
  if (rt == nullptr || out == nullptr || result == nullptr || timeout_ms == 0)
    return airs::failf(AIRS_EINVAL,
                       "airs_proc_spawn_call: rt, out or result is NULL, or "
                       "timeout_ms is 0");
  airs_msg* m = nullptr;
  airs_status st = airs_proc_req_spawn(spawn, &m);
  if (st != AIRS_OK) return st;
  airs_pid server = AIRS_NO_PID;
  st = airs::osl::find_actor("airs_proc_spawn_call", rt, AIRS_OSL_PROC_NAME,
                             &server);
  if (st != AIRS_OK) {
    airs_msg_free(m);
    return st;
  }
  airs_msg* reply = nullptr;
  st = airs::osl::call_actor(rt, server, m, timeout_ms, &reply);
  if (st != AIRS_OK) return st;
  airs_osl_result_get(reply, result);
  if (result->status == AIRS_OK && airs_proc_spawned_get(reply, out) != AIRS_OK)
    airs::osl::result_set(result, AIRS_EINTERNAL, 0,
                          "the reply carries no child");
  airs_msg_free(reply);
  return AIRS_OK;
}
