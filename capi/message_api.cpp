// message_api.cpp - messages, shared payloads, sending, timers and the
// dead-letter hook.
#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

namespace {

airs_status check_type(uint64_t type, const char* fn) {
  if (is_system_type(type))
    return failf(AIRS_EINVAL,
                 "%s: type 0x%llx is in the system range (>= "
                 "AIRS_MSG_SYSTEM_BASE)",
                 fn, static_cast<unsigned long long>(type));
  return AIRS_OK;
}

airs_status check_size(const void* data, size_t size, const char* fn) {
  if (size > AIRS_MSG_MAX_SIZE)
    return failf(AIRS_EINVAL, "%s: size %zu is over AIRS_MSG_MAX_SIZE", fn,
                 size);
  if (!data && size)
    return failf(AIRS_EINVAL, "%s: data is NULL but size is %zu", fn, size);
  return AIRS_OK;
}

airs_status new_copy(uint64_t type, const void* data, size_t size,
                     const char* fn, Msg** out) {
  airs_status st = check_type(type, fn);
  if (st == AIRS_OK) st = check_size(data, size, fn);
  if (st != AIRS_OK) return st;
  Msg* m = msg_new_copy(type, data, size);
  if (!m) return failf(AIRS_ENOMEM, "%s: out of memory", fn);
  *out = m;
  return AIRS_OK;
}

airs_status send_from(Runtime* rt, Ctx* from, airs_pid to, Msg* m,
                      const char* fn) {
  if (!m) return failf(AIRS_EINVAL, "%s: msg is NULL", fn);
  return guarded(fn, [&] {
    airs_status st = rt->send(to, m, from);
    // The caller keeps m; the dead-letter hook borrows it first.
    if (st == AIRS_ENOPROC) rt->dead_letter_noproc(to, m, from);
    return st;
  });
}

}  // namespace

extern "C" {

airs_status airs_msg_new(uint64_t type, const void* data, size_t size,
                         airs_msg** out) {
  if (!out) return fail(AIRS_EINVAL, "airs_msg_new: out is NULL");
  Msg* m = nullptr;
  airs_status st = new_copy(type, data, size, "airs_msg_new", &m);
  if (st == AIRS_OK) *out = static_cast<airs_msg*>(m);
  return st;
}

airs_status airs_msg_new_owned(uint64_t type, void* ptr, size_t size,
                               void (*free_fn)(void*), airs_msg** out) {
  const char* fn = "airs_msg_new_owned";
  if (!out) return failf(AIRS_EINVAL, "%s: out is NULL", fn);
  airs_status st = check_type(type, fn);
  if (st == AIRS_OK) st = check_size(ptr, size, fn);
  if (st != AIRS_OK) return st;
  Msg* m = msg_new_owned(type, ptr, size, free_fn);
  if (!m) return failf(AIRS_ENOMEM, "%s: out of memory", fn);
  *out = static_cast<airs_msg*>(m);
  return AIRS_OK;
}

airs_status airs_msg_new_shared(uint64_t type, airs_payload* payload,
                                airs_msg** out) {
  const char* fn = "airs_msg_new_shared";
  if (!out || !payload)
    return failf(AIRS_EINVAL, "%s: NULL payload or out", fn);
  airs_status st = check_type(type, fn);
  if (st != AIRS_OK) return st;
  if (payload->size > AIRS_MSG_MAX_SIZE)
    return failf(AIRS_EINVAL, "%s: payload over AIRS_MSG_MAX_SIZE", fn);
  Msg* m = msg_new_shared(type, payload);
  if (!m) return failf(AIRS_ENOMEM, "%s: out of memory", fn);
  *out = static_cast<airs_msg*>(m);
  return AIRS_OK;
}

airs_status airs_msg_set_priority(airs_msg* msg, airs_priority priority) {
  if (!msg) return fail(AIRS_EINVAL, "airs_msg_set_priority: msg is NULL");
  if (priority != AIRS_PRIORITY_NORMAL && priority != AIRS_PRIORITY_HIGH)
    return failf(AIRS_EINVAL, "airs_msg_set_priority: unknown priority %d",
                 priority);
  msg->priority = static_cast<uint8_t>(priority);
  return AIRS_OK;
}

airs_status airs_msg_set_correlation(airs_msg* msg, uint64_t correlation) {
  if (!msg) return fail(AIRS_EINVAL, "airs_msg_set_correlation: msg is NULL");
  msg->correlation = correlation;
  return AIRS_OK;
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
  const char* fn = "airs_payload_new";
  if (!out) return failf(AIRS_EINVAL, "%s: out is NULL", fn);
  airs_status st = check_size(data, size, fn);
  if (st != AIRS_OK) return st;
  Payload* p = payload_new_copy(data, size);
  if (!p) return failf(AIRS_ENOMEM, "%s: out of memory", fn);
  *out = static_cast<airs_payload*>(p);
  return AIRS_OK;
}

airs_status airs_payload_wrap(void* ptr, size_t size, void (*free_fn)(void*),
                              airs_payload** out) {
  const char* fn = "airs_payload_wrap";
  if (!out) return failf(AIRS_EINVAL, "%s: out is NULL", fn);
  airs_status st = check_size(ptr, size, fn);
  if (st != AIRS_OK) return st;
  Payload* p = payload_new_wrap(ptr, size, free_fn);
  if (!p) return failf(AIRS_ENOMEM, "%s: out of memory", fn);
  *out = static_cast<airs_payload*>(p);
  return AIRS_OK;
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
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, "airs_send_msg", &rt);
  if (st != AIRS_OK) return st;
  return send_from(rt, caller_in(rt), to, msg, "airs_send_msg");
}

airs_status airs_send(airs_runtime* h, airs_pid to, uint64_t type,
                      const void* data, size_t size) {
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, "airs_send", &rt);
  if (st != AIRS_OK) return st;
  Msg* m = nullptr;
  if ((st = new_copy(type, data, size, "airs_send", &m)) != AIRS_OK) return st;
  st = send_from(rt, caller_in(rt), to, m, "airs_send");
  if (st != AIRS_OK) msg_free(m);
  return st;
}

airs_status airs_ctx_send_msg(airs_ctx* ctx, airs_pid to, airs_msg* msg) {
  Ctx* c = nullptr;
  airs_status st = ctx_of(ctx, "airs_ctx_send_msg", &c);
  if (st != AIRS_OK) return st;
  return send_from(c->rt, c, to, msg, "airs_ctx_send_msg");
}

airs_status airs_ctx_send(airs_ctx* ctx, airs_pid to, uint64_t type,
                          const void* data, size_t size) {
  Ctx* c = nullptr;
  airs_status st = ctx_of(ctx, "airs_ctx_send", &c);
  if (st != AIRS_OK) return st;
  Msg* m = nullptr;
  if ((st = new_copy(type, data, size, "airs_ctx_send", &m)) != AIRS_OK)
    return st;
  st = send_from(c->rt, c, to, m, "airs_ctx_send");
  if (st != AIRS_OK) msg_free(m);
  return st;
}

airs_status airs_set_dead_letter_hook(airs_runtime* h, airs_dead_letter_fn fn,
                                      void* user_data) {
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, "airs_set_dead_letter_hook", &rt);
  if (st != AIRS_OK) return st;
  return guarded("airs_set_dead_letter_hook", [&] {
    rt->set_dead_letter_hook(fn, user_data);
    return AIRS_OK;
  });
}

airs_status airs_send_after(airs_runtime* h, airs_pid to, uint64_t delay_ms,
                            airs_msg* msg, uint64_t* timer_id) {
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, "airs_send_after", &rt);
  if (st != AIRS_OK) return st;
  if (!msg) return fail(AIRS_EINVAL, "airs_send_after: msg is NULL");
  if (delay_ms > (1ull << 40))
    return fail(AIRS_EINVAL, "airs_send_after: delay_ms is over 2^40");
  return guarded("airs_send_after",
                 [&] { return rt->send_after(to, delay_ms, msg, timer_id); });
}

airs_status airs_cancel_timer(airs_runtime* h, uint64_t timer_id) {
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, "airs_cancel_timer", &rt);
  if (st != AIRS_OK) return st;
  return guarded("airs_cancel_timer",
                 [&] { return rt->cancel_timer(timer_id); });
}

}  // extern "C"
