// message_api.cpp - messages, shared payloads, sending, timers and the
// dead-letter hook.
#include <cstdio>

#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

namespace {

airs_status new_copy(uint64_t type, const void* data, size_t size, Msg** out) {
  airs_status st = check_user_type(type);
  if (st == AIRS_OK) st = check_payload(data, size);
  if (st != AIRS_OK) return st;
  Msg* m = msg_new_copy(type, data, size);
  if (!m) return fail(AIRS_ENOMEM, "out of memory");
  *out = m;
  return AIRS_OK;
}

// Sends `m` (the caller keeps it on failure).
airs_status send_from(Runtime* rt, Ctx* from, airs_pid to, Msg* m) {
  if (!m) return fail(AIRS_EINVAL, "msg is NULL");
  return rt->kernel().mail.send(to, m, from);
}

// Copies data into a new message and sends it (freed on failure).
airs_status send_copy(Runtime* rt, Ctx* from, airs_pid to, uint64_t type,
                      const void* data, size_t size) {
  Msg* m = nullptr;
  airs_status st = new_copy(type, data, size, &m);
  if (st != AIRS_OK) return st;
  st = send_from(rt, from, to, m);
  if (st != AIRS_OK) msg_free(m);
  return st;
}

// One item of airs_ctx_send_many, as its own call would do it.
airs_status send_item(Runtime* rt, Ctx* c, const airs_send_item& it) {
  if (it.kind != AIRS_SEND_KIND_SEND && it.kind != AIRS_SEND_KIND_REPLY)
    return failf(AIRS_EINVAL, "unknown kind %u", it.kind);
  if (it.kind == AIRS_SEND_KIND_REPLY && it.correlation == 0)
    return fail(AIRS_EINVAL, "a reply to correlation 0 (names no request)");
  Msg* m = nullptr;
  airs_status st = check_priority(static_cast<int>(it.priority));
  if (st == AIRS_OK) st = new_copy(it.type, it.data, size_t(it.size), &m);
  if (st != AIRS_OK) return st;
  m->priority = static_cast<uint8_t>(it.priority);
  if (it.kind == AIRS_SEND_KIND_REPLY) {
    rt->requests().reply(c, it.correlation, m);  // takes it, always
    return AIRS_OK;
  }
  m->correlation = it.correlation;
  st = send_from(rt, c, it.to, m);
  if (st != AIRS_OK) msg_free(m);
  return st;
}

}  // namespace

extern "C" {

airs_status airs_msg_new(uint64_t type, const void* data, size_t size,
                         airs_msg** out) {
  return api("airs_msg_new", [&] {
    if (!out) return fail(AIRS_EINVAL, "out is NULL");
    return new_copy(type, data, size, out);
  });
}

airs_status airs_msg_new_owned(uint64_t type, void* ptr, size_t size,
                               void (*free_fn)(void*), airs_msg** out) {
  return api("airs_msg_new_owned", [&] {
    if (!out) return fail(AIRS_EINVAL, "out is NULL");
    airs_status st = check_user_type(type);
    if (st == AIRS_OK) st = check_payload(ptr, size);
    if (st != AIRS_OK) return st;
    Msg* m = msg_new_owned(type, ptr, size, free_fn);
    if (!m) return fail(AIRS_ENOMEM, "out of memory");
    *out = m;
    return AIRS_OK;
  });
}

airs_status airs_msg_new_shared(uint64_t type, airs_payload* payload,
                                airs_msg** out) {
  return api("airs_msg_new_shared", [&] {
    if (!out || !payload) return fail(AIRS_EINVAL, "NULL payload or out");
    airs_status st = check_user_type(type);
    if (st == AIRS_OK) st = check_payload(payload->data, payload->size);
    if (st != AIRS_OK) return st;
    Msg* m = msg_new_shared(type, payload);
    if (!m) return fail(AIRS_ENOMEM, "out of memory");
    *out = m;
    return AIRS_OK;
  });
}

airs_status airs_msg_set_priority(airs_msg* msg, airs_priority priority) {
  int p = as_int(priority);
  return api("airs_msg_set_priority", [&] {
    if (!msg) return fail(AIRS_EINVAL, "msg is NULL");
    if (airs_status st = check_priority(p); st != AIRS_OK) return st;
    msg->priority = static_cast<uint8_t>(p);
    return AIRS_OK;
  });
}

airs_status airs_msg_set_correlation(airs_msg* msg, uint64_t correlation) {
  return api("airs_msg_set_correlation", [&] {
    if (!msg) return fail(AIRS_EINVAL, "msg is NULL");
    msg->correlation = correlation;
    return AIRS_OK;
  });
}

void airs_msg_free(airs_msg* msg) {
  msg_free(msg);
}

uint64_t airs_msg_type(const airs_msg* m) {
  return m ? m->type : 0;
}
airs_pid airs_msg_sender(const airs_msg* m) {
  return m ? m->sender : 0;
}
uint64_t airs_msg_correlation(const airs_msg* m) {
  return m ? m->correlation : 0;
}
airs_priority airs_msg_priority(const airs_msg* m) {
  return m ? static_cast<airs_priority>(m->priority) : AIRS_PRIORITY_NORMAL;
}
const void* airs_msg_data(const airs_msg* m) {
  return m ? m->data : nullptr;
}
size_t airs_msg_size(const airs_msg* m) {
  return m ? m->size : 0;
}
const void* airs_msg_read(const airs_msg* m, uint64_t* type, size_t* size) {
  if (type) *type = m ? m->type : 0;
  if (size) *size = m ? m->size : 0;
  return m ? m->data : nullptr;
}

const airs_reason* airs_msg_reason(const airs_msg* m) {
  return m && m->has_reason ? static_cast<const airs_reason*>(m->reason)
                            : nullptr;
}

airs_payload* airs_msg_payload(const airs_msg* m) {
  return m && !m->has_reason &&
                 (m->kind == PayloadKind::kShared ||
                  m->kind == PayloadKind::kSharedInBlock)
             ? static_cast<airs_payload*>(m->shared)
             : nullptr;
}

airs_status airs_payload_new(const void* data, size_t size,
                             airs_payload** out) {
  return api("airs_payload_new", [&] {
    if (!out) return fail(AIRS_EINVAL, "out is NULL");
    airs_status st = check_payload(data, size);
    if (st != AIRS_OK) return st;
    Payload* p = payload_new_copy(data, size);
    if (!p) return fail(AIRS_ENOMEM, "out of memory");
    *out = p;
    return AIRS_OK;
  });
}

airs_status airs_payload_wrap(void* ptr, size_t size, void (*free_fn)(void*),
                              airs_payload** out) {
  return api("airs_payload_wrap", [&] {
    if (!out) return fail(AIRS_EINVAL, "out is NULL");
    airs_status st = check_payload(ptr, size);
    if (st != AIRS_OK) return st;
    Payload* p = payload_new_wrap(ptr, size, free_fn);
    if (!p) return fail(AIRS_ENOMEM, "out of memory");
    *out = p;
    return AIRS_OK;
  });
}

void airs_payload_retain(airs_payload* p) {
  if (p) payload_retain(p);
}
void airs_payload_release(airs_payload* p) {
  if (p) payload_release(p);
}
const void* airs_payload_data(const airs_payload* p) {
  return p ? p->data : nullptr;
}
size_t airs_payload_size(const airs_payload* p) {
  return p ? p->size : 0;
}

airs_status airs_send_msg(airs_runtime* h, airs_pid to, airs_msg* msg) {
  return api("airs_send_msg", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    return send_from(rt, caller_in(rt), to, msg);
  });
}

airs_status airs_send(airs_runtime* h, airs_pid to, uint64_t type,
                      const void* data, size_t size) {
  return api("airs_send", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    return send_copy(rt, caller_in(rt), to, type, data, size);
  });
}

airs_status airs_ctx_send_msg(airs_ctx* ctx, airs_pid to, airs_msg* msg) {
  return api("airs_ctx_send_msg", [&] {
    Ctx* c = nullptr;
    airs_status st = ctx_of(ctx, &c);
    if (st != AIRS_OK) return st;
    return send_from(runtime_of(c), c, to, msg);
  });
}

airs_status airs_ctx_send(airs_ctx* ctx, airs_pid to, uint64_t type,
                          const void* data, size_t size) {
  return api("airs_ctx_send", [&] {
    Ctx* c = nullptr;
    airs_status st = ctx_of(ctx, &c);
    if (st != AIRS_OK) return st;
    return send_copy(runtime_of(c), c, to, type, data, size);
  });
}

airs_status airs_ctx_send_many(airs_ctx* ctx, const airs_send_item* items,
                               size_t count, airs_status* statuses) {
  return api("airs_ctx_send_many", [&] {
    Ctx* c = nullptr;
    airs_status st = ctx_of(ctx, &c);
    if (st == AIRS_OK && !items && count > 0)
      st = fail(AIRS_EINVAL, "items is NULL");
    if (st == AIRS_OK && count > AIRS_SEND_MANY_MAX)
      st = failf(AIRS_EINVAL, "%zu items, above AIRS_SEND_MANY_MAX (%d)", count,
                 AIRS_SEND_MANY_MAX);
    if (st != AIRS_OK) {  // none sent: each item says so
      if (statuses && count <= AIRS_SEND_MANY_MAX)
        for (size_t i = 0; i < count; i++) statuses[i] = st;
      return st;
    }
    Runtime* rt = runtime_of(c);
    airs_status first = AIRS_OK;
    size_t first_at = 0;
    char why[200] = "";
    for (size_t i = 0; i < count; i++) {
      airs_status s = send_item(rt, c, items[i]);
      if (statuses) statuses[i] = s;
      if (s != AIRS_OK && first == AIRS_OK) {
        first = s;
        first_at = i;
        std::snprintf(why, sizeof why, "%s", last_error_message());
      }
    }
    if (first != AIRS_OK)
      return failf(first, "item %zu of %zu: %s", first_at, count, why);
    return AIRS_OK;
  });
}

airs_status airs_set_dead_letter_hook(airs_runtime* h, airs_dead_letter_fn fn,
                                      void* user_data) {
  return api("airs_set_dead_letter_hook", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    if (!rt->kernel().observer.set_dead_letter_hook(fn, user_data))
      return fail(AIRS_ENOMEM, "out of memory");
    return AIRS_OK;
  });
}

airs_status airs_send_after(airs_runtime* h, airs_pid to, uint64_t delay_ms,
                            airs_msg* msg, uint64_t* timer_id) {
  return api("airs_send_after", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    if (!msg) return fail(AIRS_EINVAL, "msg is NULL");
    if (delay_ms > kMaxTimerDelayMs)
      return fail(AIRS_EINVAL, "delay_ms is over 2^40");
    return rt->kernel().mail.send_after(to, delay_ms, msg, timer_id);
  });
}

airs_status airs_cancel_timer(airs_runtime* h, uint64_t timer_id) {
  return api("airs_cancel_timer", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    Msg* m = rt->kernel().timers.cancel(timer_id);
    if (!m)
      return failf(AIRS_ENOTFOUND, "timer %llu is not pending",
                   static_cast<unsigned long long>(timer_id));
    msg_free(m);
    return AIRS_OK;
  });
}

}  // extern "C"
