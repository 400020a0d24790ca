// signals.hpp - links, monitors and exit signals, in one place: making and
// breaking them, receiving them, spreading exit and down when a process
// ends, and answering the ones sent to a pid that is gone.
//
// Every change to another process's link or monitor set travels as a
// signal through its mailbox (Mail::signal), so only a process ever
// touches its own sets (its ProcessExtra), and no lock is needed. A signal
// is an envelope with Signal != kNone; it bypasses mailbox capacity.
//
// Semantics are Erlang's: an abnormal exit spreads along links and kills
// the linked processes that do not trap exits (those get AIRS_MSG_EXIT);
// `normal` is ignored unless trapped (or sent by the process to itself);
// a kill cannot be trapped; a monitor gives exactly one AIRS_MSG_DOWN; a
// link or monitor to a pid that is gone answers at once with `noproc`.
//
// Out of memory: an envelope that cannot be made is an ENOMEM for the
// caller. A receiver that cannot record a monitor answers with a DOWN
// (an error, ENOMEM) at once: the monitor is over, cleanly. A receiver
// that cannot record a link answers with an exit signal of that reason
// and ends with it too: a link is never half made, with one end that
// would never hear of the other's end. Telling the other end of an end
// needs no memory (see ProcessExtra), and neither does a kill.
//
// Remote pids (distribution, transport.h): a signal for a pid of another
// runtime goes to the transport (Mail::signal), comes in through
// deliver_signal on the other side and is answered there as here. Each
// process marks itself when it makes a tie to another runtime; losing a
// runtime (node_down) tells the marked ones, which break those ties in
// their own turn (node_lost).
#pragma once

#include <atomic>
#include <cstdint>

#include "airs/airs.h"
#include "kernel/context.hpp"
#include "mail/message.hpp"

namespace airs {

struct Kernel;
struct Process;

// What a turn does with a signal it took from the mailbox.
struct Arrival {
  Reason* end = nullptr;  // end the process with this (one reference)
  bool deliver = false;   // hand the envelope to receive() (EXIT or DOWN)
};

class Signals {
 public:
  explicit Signals(Kernel& k) : k_(k) {}
  Signals(const Signals&) = delete;
  Signals& operator=(const Signals&) = delete;

  // --- made by a process [inside a callback of c, not terminate, except
  // unlink, demonitor and trap_exit] ---
  airs_status link(Ctx* c, uint64_t pid) noexcept;
  airs_status unlink(Ctx* c, uint64_t pid) noexcept;
  airs_status monitor(Ctx* c, uint64_t pid, uint64_t* ref) noexcept;
  // A ref that is no active monitor: AIRS_OK (Erlang's demonitor).
  airs_status demonitor(Ctx* c, uint64_t ref) noexcept;
  airs_status trap_exit(Ctx* c, bool on) noexcept;
  // airs_exit: the process ends with this reason once its callback
  // returns (nothing inside terminate, where it is ending already).
  airs_status exit_self(Ctx* c, int kind, int32_t code,
                        const char* text) noexcept;

  // --- sent by anyone [any thread] ---
  // The caller of exit_signal() is the sender unless `from` says.
  static constexpr uint64_t kFromCaller = ~uint64_t{0};
  // exit/2: `kind` KILLED is the untrappable kill, which jumps ahead of
  // everything queued. ENOPROC: `to` is not alive. EINVAL: bad kind.
  airs_status exit_signal(uint64_t to, int kind, int32_t code, const char* text,
                          uint64_t from = kFromCaller) noexcept;
  // Asks `pid` for its health; the answer goes to `from` as a message
  // (kMsgHealthReply, the round in its correlation). false: not sent.
  bool probe_health(uint64_t pid, uint64_t from, uint64_t round) noexcept;

  // Asks live `pid` for its links and monitors (airs_process_ties_get)
  // and waits for the answer it gives in its next turn, polling a
  // host-driven runtime meanwhile. ENOPROC: not alive, or it ended first.
  // ETIMEDOUT. ENOMEM. [not inside a callback]
  airs_status query_ties(uint64_t pid, airs_process_ties* out,
                         uint32_t timeout_ms) noexcept;

  // --- for services [any thread] ---
  // A monitor on behalf of `watcher`, a service's process (a supervisor
  // stopping a child: OTP's shutdown monitors, so that a child that
  // unlinked can still be stopped): `watcher` gets one AIRS_MSG_DOWN from
  // `target` with *ref as its correlation when `target` ends (noproc at
  // once if it is gone). Only the target keeps it, so the watcher's
  // airs_demonitor does not know the ref. ENOMEM.
  airs_status watch(uint64_t watcher, uint64_t target, uint64_t* ref) noexcept;

  // --- links made at spawn [the spawning thread, before the new process
  // runs] ---
  // AIRS_SPAWN_LINK: links the new process `p` (pid) and its parent both
  // ways at once. false: no memory (nothing changed).
  bool link_child(Ctx* parent, Process* p, uint64_t pid) noexcept;
  // Undoes link_child for a start that failed.
  void unlink_child(Ctx* parent, Process* p, uint64_t pid) noexcept;
  // A supervisor's child: links `p` to `to` by a signal (so that any
  // thread may start a child). ENOPROC: `to` has ended; ENOMEM.
  airs_status link_to(Process* p, uint64_t pid, uint64_t to) noexcept;
  // Undoes link_to for a start that failed: `to` gets no exit signal.
  void unlink_from(Process* p, uint64_t pid, uint64_t to) noexcept;

  // --- distribution [any thread, not inside a transport's send] ---
  // The runtime of pid tag `tag` cannot be reached: each live process
  // that ever had a tie to another runtime gets a kNodeDown to handle in
  // its turn (node_lost). ENOMEM: some could not be told.
  airs_status node_down(uint32_t tag) noexcept;
  // A signal a transport brought in for the local pid `to`, its sender
  // (another runtime's pid) in m->sender: delivered, or answered as a
  // process that is gone answers it. Consumes `m`.
  airs_status deliver_remote(uint64_t to, Msg* m) noexcept;

  // --- received [the receiving process's turn] ---
  Arrival arrived(Process* p, Ctx& c, Msg* m) noexcept;

  // --- spread [the ending process's end] ---
  // Tells its links (exit) and monitors (down), and drops the monitors it
  // held; frees its sets.
  void spread(Process* p, uint64_t pid, Reason* reason) noexcept;

  // --- for a pid that is gone [whoever drains its slot] ---
  // A link or monitor is answered with the reason its target ended with,
  // when the request reached the target before its end (`ended_with`: as
  // in Erlang, where signals from one sender to one receiver keep their
  // order, so a link made before a kill hears `killed`), else with
  // noproc. Other signals vanish. Frees `m`.
  void undeliverable(Msg* m, Reason* ended_with = nullptr) noexcept;

 private:
  Arrival exit_arrived(Process* p, Ctx& c, Msg* m) noexcept;
  void answer_health(Process* p, Ctx& c, Msg* m) noexcept;
  void answer_ties(Process* p, Msg* m) noexcept;  // ties.cpp
  // Answers a link or monitor request for `target` that cannot be made,
  // as a dead process would, with `why`: the request itself becomes the
  // exit signal or the down, so refusing needs no memory.
  void refuse(Msg* request, uint64_t target, Reason* why) noexcept;
  bool ever_existed(uint64_t pid) const noexcept;
  // A pid of another runtime (not 0, not this runtime's tag).
  bool remote(uint64_t pid) const noexcept;
  // ever_existed(), or, for another runtime's pid, a transport installed.
  bool may_exist(uint64_t pid) const noexcept;
  // Marks `p` as tied to another runtime if `pid` is another runtime's.
  void tie_remote(Process* p, uint64_t pid) noexcept;
  void node_lost(Process* p, Ctx& c, uint32_t tag) noexcept;
  airs_status kill(uint64_t to) noexcept;

  Kernel& k_;
  std::atomic<uint64_t> next_ref_{1};  // monitor refs
};

}  // namespace airs
