// request.hpp - request/reply: the table of pending requests. A request is
// registered here before it is sent; its reply and its timeout race for
// the entry, and whichever takes it out first is the only one delivered.
// A blocking call also watches its callee (an exit observer): when the
// callee ends before it replies, the call fails at once with its reason,
// as gen_server:call, which monitors the callee, does. A callee of another
// runtime is watched by a monitor that the call watcher holds for the
// call (call_watch.cpp).
//
// Locks: mu_ is a leaf; hooks (events, dead letters) run after unlocking.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "airs/airs.h"
#include "airs/transport.h"
#include "kernel/seam.hpp"
#include "mail/message.hpp"

namespace airs {

class Requests {
 public:
  explicit Requests(Seam& seam) noexcept;
  ~Requests();
  Requests(const Requests&) = delete;
  Requests& operator=(const Requests&) = delete;

  // From inside an actor: registers, sends, arms the timeout (the reply,
  // or AIRS_MSG_TIMEOUT, comes back as a message with the correlation
  // id). On failure `m` is the caller's, as it gave it. ESTATE: shutting
  // down. ENOMEM, or the send's status. [inside a callback]
  airs_status request(Ctx* c, uint64_t to, Msg* m, uint32_t timeout_ms,
                      uint64_t* correlation) noexcept;
  // From a plain thread: registers, sends, waits for the reply (polling a
  // host-driven runtime). ETIMEDOUT: sent, no reply in time (m consumed).
  // ENOPROC: the callee is not alive (m kept). EEXITED: it ended before it
  // replied (m consumed; the message gives its reason). EFULL: a BLOCK
  // mailbox stayed full (m kept). [not inside a callback]
  airs_status call(uint64_t to, Msg* m, uint32_t timeout_ms,
                   Msg** reply) noexcept;
  // Answers request `correlation`; consumes `reply` whatever happens (a
  // reply nobody waits for is a LATE_REPLY dead letter). [inside a
  // callback]. A correlation id of another runtime's request (its tag in
  // the top 16 bits) sends the reply there through the transport.
  void reply(Ctx* c, uint64_t correlation, Msg* reply) noexcept;
  // A reply that a transport brought from another runtime, from `from`:
  // handed to the request `correlation` of this runtime; consumes `m`.
  // ENOTFOUND: no such request waits (a LATE_REPLY dead letter). [any
  // thread]
  airs_status reply_from_remote(uint64_t from, uint64_t correlation,
                                Msg* m) noexcept;

 private:
  struct Waiter {  // a blocking call's rendezvous
    std::condition_variable cv;
    Msg* reply = nullptr;
    Reason* callee_ended = nullptr;  // one reference, once it has
    bool remote_watched = false;     // the call watcher monitors the callee
  };
  struct Pending {
    uint64_t requester;  // 0 for a blocking call
    uint64_t callee;
    uint64_t timer;  // 0 until armed, and for a blocking call
    Waiter* waiter;  // blocking call only
  };

  // The timer of a request fired: deliver its AIRS_MSG_TIMEOUT only if
  // the request was still pending (a TimerService filter).
  static bool expire(void* self, uint64_t to, Msg* timeout) noexcept;
  bool add(const Pending& p, uint64_t* id) noexcept;
  // Registers `entry` (*id gets its correlation id), then sends `m` with
  // that id. On failure the entry is gone and `m` is as it was.
  airs_status send(const Pending& entry, uint64_t to, Msg* m, Ctx* from,
                   uint64_t* id) noexcept;
  bool take(uint64_t correlation, Pending* out) noexcept;
  // Gives reply `m` of request `p` (taken from the table) to its waiter or
  // its requester.
  void hand_over(const Pending& p, Msg* m) noexcept;
  static constexpr uint64_t kSeqMask = (uint64_t{1} << 48) - 1;
  // The exit observer: wakes the calls waiting on `pid` with its reason.
  static void callee_ended(void* self, uint64_t pid, Process* p,
                           Reason* reason) noexcept;
  // Makes `w` hear of the end of `to`. ENOPROC: `to` is not alive.
  airs_status watch_callee(uint64_t to, Waiter* w) noexcept;
  // The same for `to` of another runtime: `w` hears of the DOWN the call
  // watcher gets for it. ENOMEM.
  airs_status watch_remote_callee(uint64_t to, Waiter* w) noexcept;
  void unwatch_callee(uint64_t to, Waiter* w) noexcept;  // [mu_]
  airs_status wait_reply(uint64_t to, Msg* m, uint32_t timeout_ms, Waiter* w,
                         bool remote) noexcept;
  static constexpr std::chrono::milliseconds kRemoteWatchAfter{10};

  // call_watch.cpp: a callee of another runtime. A plain thread cannot
  // hold a monitor, so a hidden process of this runtime, the call watcher,
  // holds one on the callee while the call waits (remote_watch(on) once
  // the call has waited kRemoteWatchAfter, remote_watch(off) after the
  // call): its DOWN wakes
  // the calls waiting on that callee as callee_ended() does for a local
  // one. Spawned at the first such call (and again if it was killed).
  // false: no watcher (out of memory, shutting down): the call has only
  // its reply and its timeout. [not inside a callback]
  bool remote_watch(uint64_t callee, bool on) noexcept;
  // Its pid; spawned if need be when `spawn`, else 0 if it is gone.
  uint64_t call_watcher(bool spawn) noexcept;
  struct CallWatcher;                // its behaviour (call_watch.cpp)

  Seam& seam_;
  const uint32_t member_bit_;  // 0: no bit was left (calls only time out)
  std::mutex mu_;
  std::unordered_map<uint64_t, Pending> pending_;
  std::unordered_multimap<uint64_t, Waiter*> calls_;  // by callee
  uint64_t next_ = 1;
  std::mutex watcher_mu_;  // one spawn of the call watcher at a time
  uint64_t watcher_ = 0;   // the call watcher's pid (watcher_mu_)
};

}  // namespace airs
