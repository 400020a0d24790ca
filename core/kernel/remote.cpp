// remote.cpp - the transport hand-off (remote.hpp).
#include "kernel/remote.hpp"

#include <cstddef>
#include <new>
#include <thread>

namespace airs {

namespace {

struct WireSignal {
  Signal signal;
  uint32_t code;
};

constexpr WireSignal kWire[] = {
    {Signal::kExit, AIRS_TRANSPORT_SIG_EXIT},
    {Signal::kLinkExit, AIRS_TRANSPORT_SIG_LINK_EXIT},
    {Signal::kLink, AIRS_TRANSPORT_SIG_LINK},
    {Signal::kUnlink, AIRS_TRANSPORT_SIG_UNLINK},
    {Signal::kUnlinkAck, AIRS_TRANSPORT_SIG_UNLINK_ACK},
    {Signal::kMonitor, AIRS_TRANSPORT_SIG_MONITOR},
    {Signal::kDemonitor, AIRS_TRANSPORT_SIG_DEMONITOR},
    {Signal::kDown, AIRS_TRANSPORT_SIG_DOWN},
};

}  // namespace

uint32_t signal_code(Signal s) noexcept {
  for (const WireSignal& w : kWire)
    if (w.signal == s) return w.code;
  return 0;
}

Signal signal_of_code(uint32_t code) noexcept {
  for (const WireSignal& w : kWire)
    if (w.code == code) return w.signal;
  return Signal::kNone;
}

Remote::~Remote() {
  delete hook_.load(std::memory_order_relaxed);
}

bool Remote::set(const airs_transport* t, void* user_data) noexcept {
  Hook* fresh = nullptr;
  if (t) {
    // Fields past t->size are a smaller struct's: absent.
    auto has = [t](size_t end) { return t->size >= end; };
    fresh = new (std::nothrow) Hook{
        t->send,
        t->flush,
        has(offsetof(airs_transport, topic_interest) + sizeof t->topic_interest)
            ? t->topic_interest
            : nullptr,
        has(offsetof(airs_transport, publish) + sizeof t->publish) ? t->publish
                                                                   : nullptr,
        has(offsetof(airs_transport, pool_member) + sizeof t->pool_member)
            ? t->pool_member
            : nullptr,
        user_data};
    if (!fresh) return false;
  }
  std::lock_guard<std::mutex> lock(set_mu_);
  Hook* old = hook_.exchange(fresh, std::memory_order_seq_cst);
  // A send that loaded `old` counted itself in first (seq_cst on both
  // sides): once the count is seen at 0 after the exchange, no send can
  // still reach `old`.
  while (in_flight_.load(std::memory_order_seq_cst) != 0)
    std::this_thread::yield();
  delete old;
  return true;
}

// Runs fn(hook) inside the in-flight count (set() waits for it), if a
// transport is installed.
template <class Fn>
void Remote::with_hook(Fn&& fn) noexcept {
  if (!hook_.load(std::memory_order_relaxed)) return;
  in_flight_.fetch_add(1, std::memory_order_seq_cst);
  Hook* h = hook_.load(std::memory_order_seq_cst);
  if (h) fn(*h);
  in_flight_.fetch_sub(1, std::memory_order_release);
}

airs_status Remote::send(uint64_t to, uint64_t sender, Msg* m) noexcept {
  airs_status st = AIRS_ENOPROC;
  with_hook([&](const Hook& h) {
    m->sender = sender;
    m->to = to;
    st = h.send(h.user_data, to, m);
  });
  return st;
}

airs_status Remote::send_signal(uint64_t to, Msg* m) noexcept {
  if (signal_code(m->signal) == 0) return AIRS_ENOPROC;
  airs_status st = AIRS_ENOPROC;
  with_hook([&](const Hook& h) {
    m->to = to;
    m->remote_kind = AIRS_TRANSPORT_SIGNAL;
    st = h.send(h.user_data, to, m);
  });
  return st;
}

void Remote::interest(const char* topic, size_t len, bool on) noexcept {
  with_hook([&](const Hook& h) {
    if (h.topic_interest) h.topic_interest(h.user_data, topic, len, on);
  });
}

airs_status Remote::publish(const char* topic, size_t len, Msg* m) noexcept {
  airs_status st = AIRS_ENOPROC;
  with_hook([&](const Hook& h) {
    if (h.publish) st = h.publish(h.user_data, topic, len, m);
  });
  return st;
}

airs_status Remote::pool_member(const char* name, uint64_t pid,
                                bool on) noexcept {
  airs_status st = AIRS_OK;
  with_hook([&](const Hook& h) {
    if (h.pool_member) st = h.pool_member(h.user_data, name, pid, on ? 1 : 0);
  });
  if (!on || st == AIRS_OK) return AIRS_OK;  // a leave cannot fail
  return AIRS_ENOMEM;
}

void Remote::flush() noexcept {
  with_hook([](const Hook& h) {
    if (h.flush) h.flush(h.user_data);
  });
}

}  // namespace airs
