// broker_api.cpp - topics: subscribe, unsubscribe, publish, list.
#include <cstring>
#include <string>

#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

namespace {

// The runtime and the topic of a call, checked in this order.
airs_status begin(airs_runtime* h, const char* topic, const char* fn,
                  Runtime** rt, size_t* len) {
  airs_status st = runtime_of(h, fn, rt);
  if (st == AIRS_OK) st = check_name(topic, "topic", fn, len);
  return st;
}

uint64_t caller_pid(Runtime* rt) {
  Ctx* c = caller_in(rt);
  return c ? c->pid : 0;
}

}  // namespace

extern "C" {

airs_status airs_subscribe(airs_runtime* h, const char* topic, airs_pid pid) {
  const char* fn = "airs_subscribe";
  Runtime* rt = nullptr;
  size_t len = 0;
  airs_status st = begin(h, topic, fn, &rt, &len);
  if (st != AIRS_OK) return st;
  return guarded(fn, [&] {
    Process* p = rt->live(pid);
    if (!p)
      return fail(AIRS_ENOPROC, "airs_subscribe: the process is not alive");
    return rt->broker().subscribe(std::string(topic, len), pid, p,
                                  caller_pid(rt));
  });
}

airs_status airs_unsubscribe(airs_runtime* h, const char* topic, airs_pid pid) {
  const char* fn = "airs_unsubscribe";
  Runtime* rt = nullptr;
  size_t len = 0;
  airs_status st = begin(h, topic, fn, &rt, &len);
  if (st != AIRS_OK) return st;
  return guarded(fn, [&] {
    return rt->broker().unsubscribe(std::string(topic, len), pid,
                                    caller_pid(rt));
  });
}

airs_status airs_publish(airs_runtime* h, const char* topic, uint64_t type,
                         airs_payload* payload, size_t* delivered) {
  const char* fn = "airs_publish";
  Runtime* rt = nullptr;
  size_t len = 0;
  airs_status st = begin(h, topic, fn, &rt, &len);
  if (st != AIRS_OK) return st;
  if (!payload) return fail(AIRS_EINVAL, "airs_publish: payload is NULL");
  if (is_system_type(type))
    return failf(AIRS_EINVAL,
                 "airs_publish: type 0x%llx is in the system range (>= "
                 "AIRS_MSG_SYSTEM_BASE)",
                 static_cast<unsigned long long>(type));
  if (payload->size > AIRS_MSG_MAX_SIZE)
    return fail(AIRS_EINVAL, "airs_publish: payload over AIRS_MSG_MAX_SIZE");
  return guarded(fn, [&] {
    return rt->broker().publish(topic, len, type, payload, caller_in(rt),
                                delivered);
  });
}

airs_status airs_topic_subscribers(airs_runtime* h, const char* topic,
                                   airs_pid* out, size_t capacity,
                                   size_t* count) {
  const char* fn = "airs_topic_subscribers";
  Runtime* rt = nullptr;
  size_t len = 0;
  airs_status st = begin(h, topic, fn, &rt, &len);
  if (st != AIRS_OK) return st;
  if (!count) return fail(AIRS_EINVAL, "airs_topic_subscribers: count is NULL");
  if (!out && capacity > 0)
    return failf(AIRS_EINVAL,
                 "airs_topic_subscribers: out is NULL but capacity is %zu",
                 capacity);
  return guarded(fn, [&] {
    *count = rt->broker().subscribers(std::string(topic, len), out, capacity);
    return AIRS_OK;
  });
}

}  // extern "C"
