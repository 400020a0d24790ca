// request.hpp - request/reply: the table of pending requests. A request is
// registered here before it is sent; its reply and its timeout race for
// the entry, and whichever takes it out first is the only one delivered.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "airs/airs.h"
#include "mail/message.hpp"

namespace airs {

class Runtime;
using Ctx = ::airs_ctx;

class Requests {
 public:
  explicit Requests(Runtime& rt) : rt_(rt) {}
  ~Requests();

  // From inside an actor: registers, sends, arms the timeout.
  airs_status request(Ctx* c, uint64_t to, Msg* m, uint32_t timeout_ms,
                      uint64_t* correlation);
  // From a non-actor thread: registers, sends, waits for the reply.
  airs_status call(uint64_t to, Msg* m, uint32_t timeout_ms, Msg** reply);
  // Answers request `correlation`; consumes `reply` whatever happens.
  void reply(Ctx* c, uint64_t correlation, Msg* reply) noexcept;
  // The timer of `correlation` fired: true if the timeout message is to be
  // delivered (the request was still pending), false if a reply won.
  bool expire(uint64_t correlation, uint64_t requester) noexcept;

 private:
  struct Waiter {  // a blocking call's rendezvous
    std::condition_variable cv;
    Msg* reply = nullptr;
  };
  struct Pending {
    uint64_t requester;  // 0 for a blocking call
    uint64_t callee;
    uint64_t timer;  // 0 until armed, and for a blocking call
    Waiter* waiter;  // blocking call only
  };

  uint64_t add(const Pending& p);
  // Registers `entry` (*id gets its correlation id), then sends `m` with
  // that id. On failure the entry is gone and `m` is as it was.
  airs_status send(const Pending& entry, uint64_t to, Msg* m, Ctx* from,
                   uint64_t* id);
  bool take(uint64_t correlation, Pending* out);

  Runtime& rt_;
  std::mutex mu_;
  std::unordered_map<uint64_t, Pending> pending_;
  uint64_t next_ = 1;
};

}  // namespace airs
