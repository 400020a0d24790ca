// process_api.cpp - spawning, ending, links, monitors, reasons.
#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

namespace {

airs_status spawn_in(Runtime* rt, Ctx* parent, const airs_behaviour* b,
                     void* user_data, void (*user_data_free)(void*),
                     const airs_spawn_opts* opts, airs_pid* out) {
  if (!out) {
    if (user_data_free) user_data_free(user_data);
    return fail(AIRS_EINVAL, "airs_spawn: out is NULL");
  }
  return guarded("airs_spawn", [&] {
    return rt->spawn(SpawnArgs{b, user_data, user_data_free, nullptr, opts},
                     parent, out);
  });
}

}  // namespace

extern "C" {

airs_status airs_spawn(airs_runtime* h, const airs_behaviour* behaviour,
                       void* user_data, void (*user_data_free)(void*),
                       const airs_spawn_opts* opts, airs_pid* out) {
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, "airs_spawn", &rt);
  if (st != AIRS_OK) {
    if (user_data_free) user_data_free(user_data);
    return st;
  }
  return spawn_in(rt, caller_in(rt), behaviour, user_data, user_data_free, opts,
                  out);
}

airs_status airs_ctx_spawn(airs_ctx* ctx, const airs_behaviour* behaviour,
                           void* user_data, void (*user_data_free)(void*),
                           const airs_spawn_opts* opts, airs_pid* out) {
  Ctx* c = nullptr;
  airs_status st = ctx_of(ctx, "airs_ctx_spawn", &c);
  if (st != AIRS_OK) {
    if (user_data_free) user_data_free(user_data);
    return st;
  }
  return spawn_in(c->rt, c, behaviour, user_data, user_data_free, opts, out);
}

airs_pid airs_self(const airs_ctx* ctx) {
  Ctx* c = nullptr;
  return ctx_of(const_cast<airs_ctx*>(ctx), "airs_self", &c) == AIRS_OK
             ? c->pid
             : AIRS_NO_PID;
}

airs_runtime* airs_ctx_runtime(const airs_ctx* ctx) {
  Ctx* c = nullptr;
  if (ctx_of(const_cast<airs_ctx*>(ctx), "airs_ctx_runtime", &c) != AIRS_OK)
    return nullptr;
  return static_cast<airs_runtime*>(c->rt->public_handle);
}

airs_status airs_exit(airs_ctx* ctx, airs_exit_kind kind, int32_t code,
                      const char* text) {
  Ctx* c = nullptr;
  airs_status st = ctx_of(ctx, "airs_exit", &c);
  if (st != AIRS_OK) return st;
  if (kind < AIRS_EXIT_NORMAL || kind > AIRS_EXIT_NOPROC)
    return failf(AIRS_EINVAL, "airs_exit: unknown exit kind %d", kind);
  if (c->in_terminate) return AIRS_OK;  // already ending
  Reason* r = reason_new(kind, code, text);
  if (!r) return fail(AIRS_ENOMEM, "airs_exit: out of memory");
  reason_release(c->exit_request);
  c->exit_request = r;
  return AIRS_OK;
}

airs_status airs_send_exit(airs_runtime* h, airs_pid pid, airs_exit_kind kind,
                           int32_t code, const char* text) {
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, "airs_send_exit", &rt);
  if (st != AIRS_OK) return st;
  // `kind` may hold any int a C caller passed (exit_signal checks it); as
  // an int, the lambda never loads an out-of-range enum through a reference.
  int k = kind;
  return guarded("airs_send_exit", [&] {
    return rt->exit_signal(pid, static_cast<airs_exit_kind>(k), code, text);
  });
}

airs_status airs_stop(airs_runtime* rt, airs_pid pid) {
  return airs_send_exit(rt, pid, AIRS_EXIT_SHUTDOWN, 0, nullptr);
}

airs_status airs_kill(airs_runtime* rt, airs_pid pid) {
  return airs_send_exit(rt, pid, AIRS_EXIT_KILLED, 0, nullptr);
}

airs_status airs_wait(airs_runtime* h, airs_pid pid, uint32_t timeout_ms) {
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, "airs_wait", &rt);
  if (st != AIRS_OK) return st;
  if (current_ctx())
    return fail(AIRS_ESTATE, "airs_wait: called inside a callback");
  return guarded("airs_wait", [&] { return rt->wait(pid, timeout_ms); });
}

bool airs_is_alive(airs_runtime* h, airs_pid pid) {
  Runtime* rt = nullptr;
  return runtime_of(h, "airs_is_alive", &rt) == AIRS_OK && rt->live(pid);
}

airs_status airs_process_stat_get(airs_runtime* h, airs_pid pid,
                                  airs_process_stat key, uint64_t* value) {
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, "airs_process_stat_get", &rt);
  if (st != AIRS_OK) return st;
  if (!value) return fail(AIRS_EINVAL, "airs_process_stat_get: value is NULL");
  return rt->stat(pid, key, value);
}

airs_status airs_link(airs_ctx* ctx, airs_pid pid) {
  Ctx* c = nullptr;
  airs_status st = ctx_of(ctx, "airs_link", &c);
  if (st != AIRS_OK) return st;
  if (c->in_init || c->in_terminate)
    return fail(AIRS_ESTATE, "airs_link: not inside init or terminate");
  return guarded("airs_link", [&] { return c->rt->link(c, pid); });
}

airs_status airs_unlink(airs_ctx* ctx, airs_pid pid) {
  Ctx* c = nullptr;
  airs_status st = ctx_of(ctx, "airs_unlink", &c);
  if (st != AIRS_OK) return st;
  return guarded("airs_unlink", [&] { return c->rt->unlink(c, pid); });
}

airs_status airs_trap_exit(airs_ctx* ctx, bool on) {
  Ctx* c = nullptr;
  airs_status st = ctx_of(ctx, "airs_trap_exit", &c);
  if (st != AIRS_OK) return st;
  if (on)
    c->proc->flags.fetch_or(kTrapExit, std::memory_order_relaxed);
  else
    c->proc->flags.fetch_and(~kTrapExit, std::memory_order_relaxed);
  return AIRS_OK;
}

airs_status airs_monitor(airs_ctx* ctx, airs_pid pid, uint64_t* ref) {
  Ctx* c = nullptr;
  airs_status st = ctx_of(ctx, "airs_monitor", &c);
  if (st != AIRS_OK) return st;
  if (!ref) return fail(AIRS_EINVAL, "airs_monitor: ref is NULL");
  if (c->in_init || c->in_terminate)
    return fail(AIRS_ESTATE, "airs_monitor: not inside init or terminate");
  return guarded("airs_monitor", [&] { return c->rt->monitor(c, pid, ref); });
}

airs_status airs_demonitor(airs_ctx* ctx, uint64_t ref) {
  Ctx* c = nullptr;
  airs_status st = ctx_of(ctx, "airs_demonitor", &c);
  if (st != AIRS_OK) return st;
  return guarded("airs_demonitor", [&] { return c->rt->demonitor(c, ref); });
}

airs_exit_kind airs_reason_kind(const airs_reason* r) {
  return r ? r->kind : AIRS_EXIT_NORMAL;
}

int32_t airs_reason_code(const airs_reason* r) {
  return r ? r->code : 0;
}

const char* airs_reason_text(const airs_reason* r) {
  return r ? r->text : "";
}

}  // extern "C"
