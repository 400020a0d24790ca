// runtime_api.cpp - status names, versions, configs and runtimes.
#include <mutex>
#include <new>

#include "capi.hpp"
#include "mail/envelope_pool.hpp"
#include "process/pid_tag.hpp"

using namespace airs;
using namespace airs::capi;

namespace {
// Freed runtime handles, kept reachable (see airs_runtime in handle.hpp).
// A list through the handles: a std::vector here threw bad_alloc out of
// airs_runtime_free (noexcept, void) when it had to grow, and the host
// ended in std::terminate.
std::mutex tombstones_mu;
airs_runtime* tombstones = nullptr;

// What the library holds for the whole process goes back when a plugin
// host dlclose()s it, so that loading and unloading it a thousand times
// costs no memory: the tombstones and the envelope pool's chunks. This
// object's destructor runs inside dlclose (and at exit), registered with
// this library's own DSO handle, so it leaves nothing behind either.
// Memory goes back only when no runtime is alive: at exit, a runtime the
// host never freed still runs its threads on it. And the envelope pool's
// thread-exit key is deleted in any case: a host thread that ends after
// the unload must not call into unmapped code.
struct Unload {
  ~Unload() {
    bool idle = !pid_tags_in_use();
    envelope_pool_unload(idle);
    if (!idle) return;
    std::lock_guard<std::mutex> lock(tombstones_mu);
    while (tombstones) {
      airs_runtime* h = tombstones;
      tombstones = h->next_tombstone;
      delete h;
    }
    mem_give_back();  // not into mimalloc's cache: to the system
  }
} unload;
}  // namespace

extern "C" {

const char* airs_strerror(airs_status status) {
  // As an int: a C caller may pass any value (AIRS_UNKNOWN then).
  switch (as_int(status)) {
    case AIRS_OK: return "AIRS_OK";
    case AIRS_EINVAL: return "AIRS_EINVAL";
    case AIRS_ENOMEM: return "AIRS_ENOMEM";
    case AIRS_ENOPROC: return "AIRS_ENOPROC";
    case AIRS_EFULL: return "AIRS_EFULL";
    case AIRS_ETIMEDOUT: return "AIRS_ETIMEDOUT";
    case AIRS_EEXIST: return "AIRS_EEXIST";
    case AIRS_ENOTFOUND: return "AIRS_ENOTFOUND";
    case AIRS_ESTATE: return "AIRS_ESTATE";
    case AIRS_ELIMIT: return "AIRS_ELIMIT";
    case AIRS_EVERSION: return "AIRS_EVERSION";
    case AIRS_EINTERNAL: return "AIRS_EINTERNAL";
    case AIRS_EEXITED: return "AIRS_EEXITED";
    case AIRS_IGNORE: return "AIRS_IGNORE";
    case AIRS_EAGAIN: return "AIRS_EAGAIN";
    case AIRS_EOS: return "AIRS_EOS";
  }
  return "AIRS_UNKNOWN";
}

const char* airs_last_error_message(void) {
  return last_error_message();
}

uint32_t airs_version(void) {
  return AIRS_VERSION_NUMBER;
}

const char* airs_version_string(void) {
  return AIRS_VERSION_STRING;
}

airs_status airs_check_abi(uint32_t header_version) {
  return api("airs_check_abi", [&] {
    uint32_t major = header_version / 10000;
    if (major != AIRS_VERSION_MAJOR || header_version > AIRS_VERSION_NUMBER)
      return failf(AIRS_EVERSION, "built against airs %u.%u.%u, loaded %s",
                   major, header_version / 100 % 100, header_version % 100,
                   AIRS_VERSION_STRING);
    return AIRS_OK;
  });
}

airs_status airs_config_new(airs_config** out) {
  return api("airs_config_new", [&] {
    if (!out) return fail(AIRS_EINVAL, "out is NULL");
    airs_config* c = new (std::nothrow) airs_config();
    if (!c) return fail(AIRS_ENOMEM, "out of memory");
    *out = c;
    return AIRS_OK;
  });
}

airs_status airs_config_set(airs_config* cfg, airs_config_key key,
                            int64_t value) {
  int k = as_int(key);
  return api("airs_config_set", [&] {
    if (!cfg) return fail(AIRS_EINVAL, "config is NULL");
    return cfg->set(k, value);
  });
}

airs_status airs_config_get(const airs_config* cfg, airs_config_key key,
                            int64_t* value) {
  int k = as_int(key);
  return api("airs_config_get", [&] {
    if (!cfg || !value) return fail(AIRS_EINVAL, "NULL argument");
    return cfg->get(k, value);
  });
}

airs_status airs_config_set_thread_hook(airs_config* cfg, airs_thread_fn fn,
                                        void* user_data) {
  return api("airs_config_set_thread_hook", [&] {
    if (!cfg) return fail(AIRS_EINVAL, "config is NULL");
    cfg->thread_hook = fn;
    cfg->thread_hook_data = fn ? user_data : nullptr;
    return AIRS_OK;
  });
}

void airs_config_free(airs_config* cfg) {
  delete cfg;
}

airs_status airs_runtime_new(const airs_config* cfg, airs_runtime** out) {
  return api("airs_runtime_new", [&] {
    if (!out) return fail(AIRS_EINVAL, "out is NULL");
    airs_runtime* h = new (std::nothrow) airs_runtime();
    if (!h) return fail(AIRS_ENOMEM, "out of memory");
    airs_status st = AIRS_OK;
    Runtime* rt = Runtime::create(cfg ? *cfg : Config(), &st);
    if (!rt) {
      delete h;
      return st;
    }
    h->impl.store(rt, std::memory_order_release);
    rt->kernel().public_handle = h;
    *out = h;
    return AIRS_OK;
  });
}

void airs_runtime_free(airs_runtime* h) {
  if (!h) return;
  airs_status st = api("airs_runtime_free", [&] {
    Runtime* rt = nullptr;
    {
      RuntimeUse use(h);
      if (use.status() != AIRS_OK) return use.status();
      rt = use.runtime();
      if (caller_in(rt)) return fail(AIRS_ESTATE, "called inside a callback");
      // One caller frees it; a second one (or a concurrent one) is told.
      if (!claim_for_free(h)) return fail(AIRS_ESTATE, "already being freed");
    }  // this call's own use ends here: the wait below must not count it
    rt->shutdown();
    wait_for_uses(h);
    h->impl.store(nullptr, std::memory_order_release);
    delete rt;
    std::lock_guard<std::mutex> lock(tombstones_mu);
    h->next_tombstone = tombstones;
    tombstones = h;
    return AIRS_OK;
  });
  (void)st;  // void call: the message says what went wrong
}

airs_status airs_runtime_poll(airs_runtime* h, uint32_t budget, uint32_t* ran) {
  return api("airs_runtime_poll", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    if (budget == 0) return fail(AIRS_EINVAL, "budget is 0");
    if (current_ctx()) return fail(AIRS_ESTATE, "called inside a callback");
    return rt->kernel().poll(budget, ran);
  });
}

airs_status airs_runtime_workers(airs_runtime* h, uint32_t* workers) {
  return api("airs_runtime_workers", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (!workers) return fail(AIRS_EINVAL, "workers is NULL");
    *workers = use.runtime()->kernel().cfg.workers;
    return AIRS_OK;
  });
}

airs_status airs_runtime_next_timer_ms(airs_runtime* h, int64_t* ms) {
  return api("airs_runtime_next_timer_ms", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    if (!ms) return fail(AIRS_EINVAL, "ms is NULL");
    *ms = rt->kernel().timers.next_due_ms();
    return AIRS_OK;
  });
}

airs_status airs_runtime_advance_time(airs_runtime* h, uint64_t ms) {
  return api("airs_runtime_advance_time", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    if (!rt->kernel().timers.advance(ms))
      return fail(AIRS_ESTATE,
                  "the clock is not manual (set AIRS_CFG_MANUAL_CLOCK)");
    return AIRS_OK;
  });
}

airs_status airs_spawn_opts_init(airs_runtime* h, airs_spawn_opts* opts) {
  return api("airs_spawn_opts_init", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    if (!opts) return fail(AIRS_EINVAL, "opts is NULL");
    const Config& c = rt->kernel().cfg;
    opts->version = AIRS_SPAWN_OPTS_VERSION;
    opts->size = sizeof(airs_spawn_opts);
    opts->flags = 0;
    opts->mailbox_capacity = c.mailbox_capacity;
    opts->mailbox_policy = static_cast<int32_t>(c.mailbox_policy);
    opts->block_timeout_ms = c.block_timeout_ms;
    return AIRS_OK;
  });
}

}  // extern "C"
