// remote.hpp - mail across runtimes: the hand-off of a message for a pid
// of another runtime to the transport installed on this one
// (airs/transport.h), and the delivery of a message a transport brought
// in, with its remote sender.
//
// A transport is user code. It is called with no lock of ours held, on the
// sending thread. Replacing it waits until no send is inside the old one,
// so that its owner may free it when airs_transport_set returns: sends
// announce themselves in an in-flight count around the call.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "airs/transport.h"
#include "mail/message.hpp"

namespace airs {

// The wire code (airs_transport_signal_code) of a signal that crosses
// runtimes, or 0 for one that never does (kills cross as an exit signal
// `killed`; a service's watch, health checks and a process's own notes
// stay home).
uint32_t signal_code(Signal s) noexcept;
// The signal of a wire code; Signal::kNone for an unknown code.
Signal signal_of_code(uint32_t code) noexcept;

class Remote {
 public:
  Remote() = default;
  ~Remote();
  Remote(const Remote&) = delete;
  Remote& operator=(const Remote&) = delete;

  // Installs *t (copied, the fields within t->size) or, with t ==
  // nullptr, removes the transport, then
  // waits for the sends still inside the one it replaced. false: out of
  // memory (nothing changed). [any thread, not from inside a transport]
  bool set(const airs_transport* t, void* user_data) noexcept;

  // Hands `m` for `to` (another runtime's pid), from `sender`, to the
  // transport: its status (OK: the transport owns m). AIRS_ENOPROC with m
  // untouched when no transport is installed. Calls user code; lock ok
  // only for locks no [any thread] call needs. [any thread]
  airs_status send(uint64_t to, uint64_t sender, Msg* m) noexcept;

  // A signal (links, monitors, exit: signals.hpp) for `to`, another
  // runtime's pid, as the transport carries it (kind SIGNAL); its sender
  // stays. AIRS_OK: the transport owns m. AIRS_ENOPROC with m untouched:
  // no transport, or a signal that does not cross runtimes. [any thread]
  airs_status send_signal(uint64_t to, Msg* m) noexcept;

  // Topics (broker/): tells the transport that `topic` got its first
  // local subscriber or lost its last. Calls user code that must not call
  // the runtime (see airs_transport.topic_interest). [under the broker's
  // lock]
  void interest(const char* topic, size_t len, bool on) noexcept;
  // Hands a local publish (m: type, data, sender) to the transport. OK:
  // the transport owns m. ENOPROC with m untouched: no transport, or one
  // that keeps topics local. [any thread]
  airs_status publish(const char* topic, size_t len, Msg* m) noexcept;
  // Whether the installed transport carries topics (a hint).
  bool carries_topics() const noexcept {
    Hook* h = hook_.load(std::memory_order_relaxed);
    return h && h->publish;
  }

  // Pools (naming/): tells the transport that local process `pid` joined
  // (on) or left pool `name`. A join's status: OK, or ENOMEM to fail it
  // (also OK when no transport carries pools). Calls user code that must
  // not call the runtime (see airs_transport.pool_member). [under the
  // pools' lock]
  airs_status pool_member(const char* name, uint64_t pid, bool on) noexcept;

  // Whether a transport is installed (a hint: it may change at once).
  bool installed() const noexcept {
    return hook_.load(std::memory_order_relaxed) != nullptr;
  }

  // Tells the transport that the messages handed to it may leave now (its
  // flush, if it has one). Calls user code. [any thread]
  void flush() noexcept;

 private:
  struct Hook {
    airs_status (*send)(void*, airs_pid, airs_msg*);
    void (*flush)(void*);
    void (*topic_interest)(void*, const char*, size_t, int);
    airs_status (*publish)(void*, const char*, size_t, airs_msg*);
    airs_status (*pool_member)(void*, const char*, airs_pid, int);
    void* user_data;
  };
  // Runs fn(hook) inside the in-flight count, if a transport is installed.
  template <class Fn>
  void with_hook(Fn&& fn) noexcept;

  std::atomic<Hook*> hook_{nullptr};
  std::atomic<uint64_t> in_flight_{0};  // sends between load and return
  std::mutex set_mu_;                   // one set at a time
};

}  // namespace airs
