// broker_api.cpp - topics: subscribe, unsubscribe, publish, list.
#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

namespace {

// The runtime and the topic of a call, checked in this order.
airs_status enter(const RuntimeUse& use, const char* topic, Runtime** rt,
                  size_t* len) {
  airs_status st = use.status();
  if (st == AIRS_OK) st = check_name(topic, "topic", len);
  *rt = use.runtime();
  return st;
}

}  // namespace

extern "C" {

airs_status airs_subscribe(airs_runtime* h, const char* topic, airs_pid pid) {
  return api("airs_subscribe", [&] {
    RuntimeUse use(h);
    Runtime* rt = nullptr;
    size_t len = 0;
    airs_status st = enter(use, topic, &rt, &len);
    if (st != AIRS_OK) return st;
    return rt->broker().subscribe(topic, len, pid);
  });
}

airs_status airs_unsubscribe(airs_runtime* h, const char* topic, airs_pid pid) {
  return api("airs_unsubscribe", [&] {
    RuntimeUse use(h);
    Runtime* rt = nullptr;
    size_t len = 0;
    airs_status st = enter(use, topic, &rt, &len);
    if (st != AIRS_OK) return st;
    return rt->broker().unsubscribe(topic, len, pid);
  });
}

airs_status airs_publish(airs_runtime* h, const char* topic, uint64_t type,
                         airs_payload* payload, size_t* delivered) {
  return api("airs_publish", [&] {
    RuntimeUse use(h);
    Runtime* rt = nullptr;
    size_t len = 0;
    airs_status st = enter(use, topic, &rt, &len);
    if (st != AIRS_OK) return st;
    if (!payload) return fail(AIRS_EINVAL, "payload is NULL");
    if ((st = check_user_type(type)) != AIRS_OK) return st;
    if ((st = check_payload(payload->data, payload->size)) != AIRS_OK)
      return st;
    return rt->broker().publish(topic, len, type, payload, delivered);
  });
}

airs_status airs_topic_subscribers(airs_runtime* h, const char* topic,
                                   airs_pid* out, size_t capacity,
                                   size_t* count) {
  return api("airs_topic_subscribers", [&] {
    RuntimeUse use(h);
    Runtime* rt = nullptr;
    size_t len = 0;
    airs_status st = enter(use, topic, &rt, &len);
    if (st != AIRS_OK) return st;
    if (!count) return fail(AIRS_EINVAL, "count is NULL");
    if (!out && capacity > 0)
      return failf(AIRS_EINVAL, "out is NULL but capacity is %zu", capacity);
    return rt->broker().subscribers(topic, len, out, capacity, count);
  });
}

}  // extern "C"
