// process_api.cpp - spawning, ending, links, monitors, reasons.
#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

namespace {

void release(void* user_data, void (*user_data_free)(void*)) {
  ErrorKeep keep;  // user code may fail calls of its own
  if (user_data_free) user_data_free(user_data);
}

airs_status spawn_in(Kernel& k, Ctx* parent, const airs_behaviour* b,
                     void* user_data, void (*user_data_free)(void*),
                     const airs_spawn_opts* opts, airs_pid* out) {
  if (!out) {
    airs_status st = fail(AIRS_EINVAL, "out is NULL");
    release(user_data, user_data_free);
    return st;
  }
  return k.processes.spawn(
      SpawnArgs{b, user_data, user_data_free, nullptr, opts}, parent, out);
}

}  // namespace

extern "C" {

airs_status airs_spawn(airs_runtime* h, const airs_behaviour* behaviour,
                       void* user_data, void (*user_data_free)(void*),
                       const airs_spawn_opts* opts, airs_pid* out) {
  return api("airs_spawn", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) {
      release(user_data, user_data_free);
      return use.status();
    }
    Runtime* rt = use.runtime();
    return spawn_in(rt->kernel(), caller_in(rt), behaviour, user_data,
                    user_data_free, opts, out);
  });
}

airs_status airs_ctx_spawn(airs_ctx* ctx, const airs_behaviour* behaviour,
                           void* user_data, void (*user_data_free)(void*),
                           const airs_spawn_opts* opts, airs_pid* out) {
  return api("airs_ctx_spawn", [&] {
    Ctx* c = nullptr;
    if (airs_status st = ctx_of(ctx, &c); st != AIRS_OK) {
      release(user_data, user_data_free);
      return st;
    }
    return spawn_in(*c->kernel, c, behaviour, user_data, user_data_free, opts,
                    out);
  });
}

airs_pid airs_self(const airs_ctx* ctx) {
  Ctx* c = nullptr;
  if (ctx_of(const_cast<airs_ctx*>(ctx), &c) != AIRS_OK) {
    error_prefix("airs_self");
    return AIRS_NO_PID;
  }
  return c->pid;
}

airs_runtime* airs_ctx_runtime(const airs_ctx* ctx) {
  Ctx* c = nullptr;
  if (ctx_of(const_cast<airs_ctx*>(ctx), &c) != AIRS_OK) {
    error_prefix("airs_ctx_runtime");
    return nullptr;
  }
  return static_cast<airs_runtime*>(c->kernel->public_handle);
}

airs_status airs_exit(airs_ctx* ctx, airs_exit_kind kind, int32_t code,
                      const char* text) {
  int k = as_int(kind);
  return api("airs_exit", [&] {
    Ctx* c = nullptr;
    airs_status st = ctx_of(ctx, &c);
    if (st != AIRS_OK) return st;
    return c->kernel->signals.exit_self(c, k, code, text);
  });
}

airs_status airs_send_exit(airs_runtime* h, airs_pid pid, airs_exit_kind kind,
                           int32_t code, const char* text) {
  int k = as_int(kind);
  return api("airs_send_exit", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    return rt->kernel().signals.exit_signal(pid, k, code, text);
  });
}

airs_status airs_stop(airs_runtime* rt, airs_pid pid) {
  return airs_send_exit(rt, pid, AIRS_EXIT_SHUTDOWN, 0, nullptr);
}

airs_status airs_kill(airs_runtime* rt, airs_pid pid) {
  return airs_send_exit(rt, pid, AIRS_EXIT_KILLED, 0, nullptr);
}

airs_status airs_wait(airs_runtime* h, airs_pid pid, uint32_t timeout_ms) {
  return api("airs_wait", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    if (current_ctx()) return fail(AIRS_ESTATE, "called inside a callback");
    return rt->kernel().processes.wait(pid, timeout_ms);
  });
}

bool airs_is_alive(airs_runtime* h, airs_pid pid) {
  RuntimeUse use(h);
  if (use.status() != AIRS_OK) {
    error_prefix("airs_is_alive");
    return false;
  }
  return use.runtime()->kernel().processes.live(pid) != nullptr;
}

airs_status airs_process_stat_get(airs_runtime* h, airs_pid pid,
                                  airs_process_stat key, uint64_t* value) {
  int k = as_int(key);
  return api("airs_process_stat_get", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    if (!value) return fail(AIRS_EINVAL, "value is NULL");
    return rt->kernel().processes.stat(pid, k, value);
  });
}

airs_status airs_link(airs_ctx* ctx, airs_pid pid) {
  return api("airs_link", [&] {
    Ctx* c = nullptr;
    airs_status st = ctx_of(ctx, &c);
    if (st != AIRS_OK) return st;
    return c->kernel->signals.link(c, pid);
  });
}

airs_status airs_unlink(airs_ctx* ctx, airs_pid pid) {
  return api("airs_unlink", [&] {
    Ctx* c = nullptr;
    airs_status st = ctx_of(ctx, &c);
    if (st != AIRS_OK) return st;
    return c->kernel->signals.unlink(c, pid);
  });
}

airs_status airs_trap_exit(airs_ctx* ctx, bool on) {
  return api("airs_trap_exit", [&] {
    Ctx* c = nullptr;
    airs_status st = ctx_of(ctx, &c);
    if (st != AIRS_OK) return st;
    return c->kernel->signals.trap_exit(c, on);
  });
}

airs_status airs_monitor(airs_ctx* ctx, airs_pid pid, uint64_t* ref) {
  return api("airs_monitor", [&] {
    Ctx* c = nullptr;
    airs_status st = ctx_of(ctx, &c);
    if (st != AIRS_OK) return st;
    if (!ref) return fail(AIRS_EINVAL, "ref is NULL");
    return c->kernel->signals.monitor(c, pid, ref);
  });
}

airs_status airs_demonitor(airs_ctx* ctx, uint64_t ref) {
  return api("airs_demonitor", [&] {
    Ctx* c = nullptr;
    airs_status st = ctx_of(ctx, &c);
    if (st != AIRS_OK) return st;
    return c->kernel->signals.demonitor(c, ref);
  });
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
