// transport_api.cpp - the seam for transports (airs/transport.h): pid
// tags, installing a transport, and mail coming in from one.
#include "airs/transport.h"

#include <cstddef>
#include <cstring>
#include <string>

#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

extern "C" {

uint32_t airs_pid_tag(airs_pid pid) {
  return pid_tag(pid);
}

airs_status airs_runtime_pid_tag(airs_runtime* h, uint32_t* tag) {
  return api("airs_runtime_pid_tag", [&] {
    if (!tag) return fail(AIRS_EINVAL, "tag is NULL");
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    *tag = use.runtime()->kernel().table.tag();
    return AIRS_OK;
  });
}

airs_status airs_transport_set(airs_runtime* h, const airs_transport* t,
                               void* user_data) {
  return api("airs_transport_set", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (t) {
      if (t->version != AIRS_TRANSPORT_VERSION)
        return failf(AIRS_EINVAL, "version %u is not %u", t->version,
                     AIRS_TRANSPORT_VERSION);
      // A transport written before the topic fields ends at flush.
      const size_t least = offsetof(airs_transport, flush) + sizeof t->flush;
      if (t->size < least)
        return failf(AIRS_EINVAL, "size %u is below %zu", t->size, least);
      if (!t->send) return fail(AIRS_EINVAL, "send is NULL");
    }
    return use.runtime()->set_transport(t, user_data);
  });
}

airs_status airs_transport_deliver(airs_runtime* h, airs_pid from, airs_pid to,
                                   uint64_t type, const void* data, size_t size,
                                   airs_priority priority,
                                   uint64_t correlation) {
  int p = as_int(priority);
  return api("airs_transport_deliver", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    airs_status st = check_priority(p);
    if (st == AIRS_OK) st = check_user_type(type);
    if (st == AIRS_OK) st = check_payload(data, size);
    if (st != AIRS_OK) return st;
    Msg* m = msg_new_copy(type, data, size);
    if (!m) return fail(AIRS_ENOMEM, "out of memory");
    m->priority = static_cast<uint8_t>(p);
    m->correlation = correlation;
    return use.runtime()->kernel().mail.deliver_remote(to, from, m);
  });
}

airs_transport_kind airs_transport_msg_kind(const airs_msg* msg) {
  if (!msg) return AIRS_TRANSPORT_MESSAGE;
  if (msg->signal != Signal::kNone) return AIRS_TRANSPORT_SIGNAL;
  return static_cast<airs_transport_kind>(msg->remote_kind);
}

airs_status airs_transport_signal_read(const airs_msg* msg,
                                       airs_transport_signal* out) {
  return api("airs_transport_signal_read", [&] {
    if (!msg || !out) return fail(AIRS_EINVAL, "NULL argument");
    uint32_t code = signal_code(msg->signal);
    if (code == 0) return fail(AIRS_EINVAL, "not a signal that crosses");
    const Reason* r = msg->has_reason ? msg->reason : nullptr;
    const char* text = r && r->text ? r->text : "";
    *out = airs_transport_signal{};
    out->code = code;
    out->exit_kind = r ? r->kind : AIRS_EXIT_NORMAL;
    out->exit_code = r ? r->code : 0;
    out->text = text;
    out->text_size = static_cast<uint32_t>(std::strlen(text));
    out->ref = msg->correlation;
    return AIRS_OK;
  });
}

airs_status airs_transport_deliver_signal(airs_runtime* h, airs_pid from,
                                          airs_pid to,
                                          const airs_transport_signal* sig) {
  return api("airs_transport_deliver_signal", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (!sig) return fail(AIRS_EINVAL, "sig is NULL");
    Kernel& k = use.runtime()->kernel();
    Signal kind = signal_of_code(sig->code);
    if (kind == Signal::kNone)
      return failf(AIRS_EINVAL, "unknown signal code %u", sig->code);
    // Only an exit signal may come from outside any process (sender 0):
    // every other one is answered, or names a link or monitor end.
    if ((from == 0 && kind != Signal::kExit) ||
        (from != 0 && pid_tag(from) == k.table.tag()))
      return failf(AIRS_EINVAL, "from %#llx is not another runtime's pid",
                   static_cast<unsigned long long>(from));
    Reason* reason = nullptr;
    if (kind == Signal::kExit || kind == Signal::kLinkExit ||
        kind == Signal::kDown) {
      if (airs_status st = check_exit_kind(sig->exit_kind); st != AIRS_OK)
        return st;
      reason = reason_new(static_cast<airs_exit_kind>(sig->exit_kind),
                          sig->exit_code,
                          sig->text && sig->text[0] ? sig->text : nullptr);
      if (!reason) return fail(AIRS_ENOMEM, "out of memory");
    }
    Msg* m = msg_new_signal(kind, from, reason, sig->ref);
    reason_release(reason);
    if (!m) return fail(AIRS_ENOMEM, "out of memory");
    return k.signals.deliver_remote(to, m);
  });
}

airs_status airs_transport_deliver_publish(airs_runtime* h, airs_pid from,
                                           const char* topic, size_t len,
                                           uint64_t type, const void* data,
                                           size_t size, size_t* delivered) {
  return api("airs_transport_deliver_publish", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (!topic) return fail(AIRS_EINVAL, "topic is NULL");
    std::string name(topic, len);  // (a name has no NUL inside)
    size_t checked = 0;
    airs_status st = check_name(name.c_str(), "topic", &checked);
    if (st == AIRS_OK && checked != len)
      st = fail(AIRS_EINVAL, "the topic has a NUL byte inside");
    if (st == AIRS_OK) st = check_user_type(type);
    if (st == AIRS_OK) st = check_payload(data, size);
    if (st != AIRS_OK) return st;
    Payload* payload = payload_new_copy(data, size);
    if (!payload) return fail(AIRS_ENOMEM, "out of memory");
    st = use.runtime()->broker().deliver_remote(topic, len, type, payload, from,
                                                delivered);
    payload_release(payload);
    return st;
  });
}

airs_status airs_transport_node_down(airs_runtime* h, uint32_t tag) {
  return api("airs_transport_node_down", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (tag == 0 || tag > 0xffff || tag == use.runtime()->kernel().table.tag())
      return failf(AIRS_EINVAL, "tag %u is not another runtime's", tag);
    return use.runtime()->transport_node_down(tag);
  });
}

airs_status airs_transport_pool_member(airs_runtime* h, const char* pool,
                                       airs_pid pid, int on) {
  return api("airs_transport_pool_member", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (airs_status st = check_name(pool, "pool name"); st != AIRS_OK)
      return st;
    if (!use.runtime()->kernel().table.foreign(pid))
      return failf(AIRS_EINVAL, "pid %#llx is not another runtime's",
                   static_cast<unsigned long long>(pid));
    if (on != 0 && on != 1)
      return failf(AIRS_EINVAL, "on is %d, not 0 or 1", on);
    return use.runtime()->pools().remote_member(pool, pid, on == 1);
  });
}

airs_status airs_transport_deliver_reply(airs_runtime* h, airs_pid from,
                                         uint64_t correlation, uint64_t type,
                                         const void* data, size_t size) {
  return api("airs_transport_deliver_reply", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    airs_status st = check_user_type(type);
    if (st == AIRS_OK) st = check_payload(data, size);
    if (st != AIRS_OK) return st;
    Msg* m = msg_new_copy(type, data, size);
    if (!m) return fail(AIRS_ENOMEM, "out of memory");
    return use.runtime()->requests().reply_from_remote(from, correlation, m);
  });
}

airs_status airs_transport_drop(airs_runtime* h, airs_msg* msg,
                                airs_dead_letter_reason reason) {
  int r = as_int(reason);
  return api("airs_transport_drop", [&] {
    if (!msg) return fail(AIRS_EINVAL, "msg is NULL");
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) {
      msg_free(msg);
      return use.status();
    }
    if (r < AIRS_DEAD_LETTER_MAILBOX_FULL ||
        r > AIRS_DEAD_LETTER_NOCONNECTION) {
      msg_free(msg);
      return failf(AIRS_EINVAL, "unknown dead-letter reason %d", r);
    }
    if (msg->signal != Signal::kNone) {
      // Not a dead letter: answered as an unreachable node or a gone pid
      // answers it (a link or monitor request), or freed.
      Reason* why = r == AIRS_DEAD_LETTER_NOCONNECTION
                        ? reason_static(AIRS_EXIT_NOCONNECTION)
                        : nullptr;
      use.runtime()->kernel().signals.undeliverable(msg, why);
      return AIRS_OK;
    }
    use.runtime()->kernel().observer.dead_letter(
        msg, static_cast<airs_dead_letter_reason>(r));
    return AIRS_OK;
  });
}

}  // extern "C"
