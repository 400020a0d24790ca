// transport_api.cpp - the seam for transports (airs/transport.h): pid
// tags, installing a transport, and mail coming in from one.
#include "airs/transport.h"

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
      if (t->size < sizeof(airs_transport))
        return failf(AIRS_EINVAL, "size %u is below %zu", t->size,
                     sizeof(airs_transport));
      if (!t->send) return fail(AIRS_EINVAL, "send is NULL");
    }
    if (!use.runtime()->kernel().remote.set(t, user_data))
      return fail(AIRS_ENOMEM, "out of memory");
    return AIRS_OK;
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
    if (p != AIRS_PRIORITY_NORMAL && p != AIRS_PRIORITY_HIGH)
      return failf(AIRS_EINVAL, "unknown priority %d", p);
    airs_status st = check_user_type(type);
    if (st == AIRS_OK) st = check_payload(data, size);
    if (st != AIRS_OK) return st;
    Msg* m = msg_new_copy(type, data, size);
    if (!m) return fail(AIRS_ENOMEM, "out of memory");
    m->priority = static_cast<uint8_t>(p);
    m->correlation = correlation;
    st = use.runtime()->kernel().mail.deliver_remote(to, from, m);
    if (st != AIRS_OK) msg_free(m);
    return st;
  });
}

airs_transport_kind airs_transport_msg_kind(const airs_msg* msg) {
  return msg ? static_cast<airs_transport_kind>(msg->remote_kind)
             : AIRS_TRANSPORT_MESSAGE;
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
    use.runtime()->kernel().observer.dead_letter(
        msg, static_cast<airs_dead_letter_reason>(r));
    return AIRS_OK;
  });
}

}  // extern "C"
