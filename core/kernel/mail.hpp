// mail.hpp - the mail path: every way a message gets into a mailbox.
//
//   send()         a user message, from a callback or any thread
//   signal()       a system signal (exit, link, monitor, down, reply, ...)
//   timer_fired()  the message of a due timer
//   fan_out()      one publish to a list of subscribers (fanout.cpp)
//
// All of them end in one of two pushes: deliver() for one envelope (with
// the mailbox's capacity and policy, as its Admit says) and push_chain()
// for what an outbox staged. Whoever pushes to an idle process makes it
// runnable. Mail for a process that has ended (or ends while it is being
// sent) is answered or dead-lettered by drain_dead(); mail for a pid whose
// slot was reused since is dropped by the receiving turn.
//
// Order: messages from one sender to one receiver arrive in the order they
// were sent, signals included; make_way() is the one place that keeps it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "airs/airs.h"
#include "kernel/context.hpp"
#include "kernel/outbox.hpp"
#include "mail/message.hpp"

namespace airs {

struct Kernel;
struct Process;
struct Worker;

// How a message is admitted into a mailbox.
enum class Admit : uint8_t {
  kUser,        // capacity and policy apply; BLOCK may wait (plain threads)
  kUserNoWait,  // capacity applies; a full mailbox refuses at once, with
                // no wait and no hook: the caller decides what follows
  kSignal,      // a system signal: past any capacity, never refused
};

// Where a message comes from, and where its receiver goes if this makes
// it runnable.
struct Route {
  Admit admit = Admit::kUser;
  Worker* worker = nullptr;  // the calling thread's worker of this kernel
  bool run_next = false;     // to that worker's next slot (callback sends)
};

// One subscriber of a fan-out: a live process while the list's owner
// holds the lock that guards the list.
struct Subscriber {
  uint64_t pid;
  Process* p;
  bool bounded;  // has a mailbox capacity: offered each message at once
};

// A list of subscribers. `stamp` changes whenever the list does, and is
// never reused for another list (an outbox laid out for a stamp trusts
// its process pointers).
struct FanOut {
  uint64_t stamp;
  const Subscriber* subs;
  size_t n;
};

class Mail {
 public:
  explicit Mail(Kernel& k);
  ~Mail();  // frees whatever is still staged (every thread is gone)
  Mail(const Mail&) = delete;
  Mail& operator=(const Mail&) = delete;

  // A user message to `to`; consumes `m` on AIRS_OK. `from`: the sending
  // callback's context in this kernel, or nullptr. ENOPROC (a dead pid:
  // the dead-letter hook sees `m` first), EFULL, ETIMEDOUT (BLOCK), with
  // `m` still the caller's. A pid of another runtime goes to the
  // transport (remote.hpp), whose status this returns. [any thread]
  airs_status send(uint64_t to, Msg* m, Ctx* from) noexcept;

  // A user message a transport brought in, from `from` (a remote pid or
  // 0), as a send from outside any process, but never waiting: a full
  // bounded mailbox makes it a MAILBOX_FULL dead letter (EFULL) whatever
  // its policy. Consumes `m` whatever the status (ENOPROC: a dead letter
  // too). [any thread]
  airs_status deliver_remote(uint64_t to, uint64_t from, Msg* m) noexcept;

  // A system signal from the calling thread; consumes `m` on true.
  // false: `to` is not alive, and `m` is still the caller's (to free, or
  // to turn into the answer a dead process gives). A pid of another
  // runtime: the transport's (Remote::send_signal); false if it refused.
  // [any thread]
  bool signal(uint64_t to, Msg* m) noexcept;
  // The same, also to a process that is ending but whose end is not done:
  // its end then answers `m` (Signals::undeliverable) after its exit
  // observers and links, so whoever waits for that answer sees its name
  // and memberships gone. false: the slot holds another pid. [any thread]
  bool signal_until_ended(uint64_t to, Msg* m) noexcept;
  // signal(), freeing `m` if `to` is not alive.
  bool signal_or_drop(uint64_t to, Msg* m) noexcept;

  // An I/O event (io/): a user message admitted past a bounded mailbox's
  // capacity, as a signal is, but with no outbox to flush first, so it
  // never runs user code and may be called under a service's lock. false:
  // `to` is not alive; `m` is still the caller's. [any thread]
  bool post(uint64_t to, Msg* m) noexcept;

  // Sends `m` to `to` in `delay_ms` (the timer service fires it through
  // timer_fired); *id (may be nullptr) gets the timer's id. Consumes `m`
  // on AIRS_OK. ESTATE: shutting down. ENOPROC: `to` is not alive now.
  // ENOMEM. [any thread]
  airs_status send_after(uint64_t to, uint64_t delay_ms, Msg* m,
                         uint64_t* id) noexcept;

  // The message of a due timer, for `to`; consumed. A receiver that is
  // gone or full makes it a dead letter. [the firing thread]
  void timer_fired(uint64_t to, Msg* m) noexcept;

  // Pushes everything callbacks on `w` have staged. [w's thread]
  void flush(Worker* w) noexcept;

  // --- fan-out (fanout.cpp) ---
  // Whether worker `w` (may be nullptr) can stage a fan-out to list
  // `stamp` now. false: mail it staged before (sends, or a fan-out to
  // another list) must be pushed first, and pushing may call the
  // dead-letter hook: release the list's lock, flush(w), and ask again.
  // [w's thread, list lock held]
  bool fan_out_ready(Worker* w, uint64_t stamp) noexcept;
  // Delivers one message per subscriber of `list`, sharing `payload` (the
  // caller's reference stays the caller's). Never waits and never calls a
  // hook: envelopes a full mailbox refused are chained on *refused
  // (through next) for the caller to dead-letter after unlocking. Returns
  // the subscribers reached. [w's thread, list lock held]
  size_t fan_out(Worker* w, const FanOut& list, uint64_t type, Payload* payload,
                 uint64_t sender, Msg** refused) noexcept;

  // --- for the turn and the end of a process ---
  // The consumer of `p` took a message: wake BLOCK senders waiting for
  // room. [p's consumer]
  void room_made(Process* p) noexcept;
  // Answers or dead-letters everything queued for `p`, which has ended:
  // with `ended_with` its reason, when the mail came while it was alive
  // (see undeliverable). [p's role]
  void drain_dead(Process* p, Reason* ended_with = nullptr) noexcept;
  // Mail for a pid that is gone (or an earlier process of a reused
  // slot): a user message is a dead letter (EXITED), a signal is
  // answered as a dead process would (Signals::undeliverable), with
  // `ended_with` when the mail came before the receiver's end (a link or
  // monitor queued before a kill gets `killed`, not `noproc`), else
  // noproc. Consumes `m`. [the consumer that took it]
  void undeliverable(Msg* m, Reason* ended_with = nullptr) noexcept;
  // [p's role] `p`'s slot has no live process (its end is done): drains
  // it until it is idle; mail that comes later is drained by its pusher.
  // What it took is answered after the role is let go (the hooks that
  // runs may spawn into this slot).
  void settle_free(Process* p) noexcept;
  // [p's role] At the end of a turn or a spawn, or when a worker settles
  // the process it kept (Scheduler::linger): `p` idles, or runs again if
  // mail came meanwhile (or a kill was marked on it), in w's `next` slot
  // if `run_next`.
  void idle_or_run(Process* p, Worker* w, bool run_next = false) noexcept;
  // Sees that `p` gets a turn (a kill marked on it without a message):
  // takes its role if it is idle, and runs it. [any thread]
  void wake(Process* p) noexcept;

 private:
  enum class Next : uint8_t { kDirect, kAny };
  Outbox& outbox(Worker* w) noexcept;
  void make_way(Outbox& ob, Worker* w, Next next) noexcept;
  airs_status deliver(Process* p, uint64_t to, Msg* m, const Route& r) noexcept;
  bool reserve(Process* p) noexcept;
  airs_status wait_for_room(Process* p, uint64_t to) noexcept;
  void stage(Outbox& ob, Worker* w, Process* p, uint64_t to, Msg* m) noexcept;
  static Lane* find_lane(Outbox& ob, uint64_t to) noexcept;
  void restage(Outbox& ob, Ctx* from, Lane& lane, Msg* m) noexcept;
  void append(Outbox& ob, Worker* w, Lane& lane, Msg* m) noexcept;
  void push_lane(Worker* w, Lane& lane, uint32_t& pending,
                 bool run_next) noexcept;
  void push_chain(Process* p, Msg* first, Msg* last, uint32_t n, Worker* w,
                  bool run_next) noexcept;
  void start(Process* p, Worker* w, bool run_next) noexcept;
  static bool killed(const Process* p) noexcept;
  void count_sent(Worker* w) noexcept;
  // ENOPROC for a user message to `to`, which is not alive (the
  // dead-letter hook sees `m`, which stays the caller's).
  airs_status refuse_noproc(uint64_t to, uint64_t sender, Msg* m) noexcept;
  void count_in(Process* p, Worker* w, uint32_t n) noexcept;
  // After a hand-off to the transport: flush it now, or at the end of
  // the sender's turn.
  void remote_sent(Ctx* from) noexcept;
  // signal(), or signal_until_ended() when `ending_too`.
  bool signal_to(uint64_t to, Msg* m, bool ending_too) noexcept;
  // fanout.cpp
  bool lay_out(Outbox& ob, const FanOut& list) noexcept;
  bool offer(Process* p, uint64_t to, Worker* w, Msg* m) noexcept;
  Msg* fan_out_envelope(Outbox& ob, Lane& lane, uint64_t type, Payload* payload,
                        uint64_t sender) noexcept;
  void fan_out_stage(Outbox& ob, Worker* w, Lane& lane, Msg* m) noexcept;
  void open_block(Outbox& ob, Lane& lane) noexcept;
  void close_block(Outbox& ob, Lane& lane) noexcept;
  void flush_fan_out(Outbox& ob, Worker* w) noexcept;

  Kernel& k_;
  std::unique_ptr<Outbox[]> outboxes_;  // one per worker, by Worker::id
  size_t noutboxes_;
  // BLOCK-policy senders wait here for room in some mailbox.
  std::mutex block_mu_;
  std::condition_variable block_cv_;
};

}  // namespace airs
