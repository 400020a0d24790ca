// process.hpp - the process record. One record per slot of the process
// table; the slot outlives its processes and is reused under a new
// generation, so a pid can always be checked against it without any risk
// of touching freed memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "airs/airs.h"
#include "base/containers.hpp"
#include "mail/mailbox.hpp"
#include "mail/message.hpp"

namespace airs {

// Whether a slot holds a process. Who may consume its mailbox is not
// kept here: that is the mailbox's consumer role (mail/mailbox.hpp).
enum ProcLife : uint8_t {
  kFree = 0,  // no process (the last one's end is complete)
  kLive = 1,  // being spawned, alive, or ending
};

// Shared owner of a start's user_data: a supervisor keeps one per child
// spec and every start of that child refers to it.
struct Spec {
  std::atomic<uint32_t> refs;
  airs_behaviour behaviour;
  void* user_data;
  void (*user_data_free)(void*);
};

void spec_retain(Spec* s) noexcept;
void spec_release(Spec* s) noexcept;  // runs user_data_free on the last ref

struct MonitorEntry {
  uint64_t ref;
  uint64_t pid;
  // For a pid of another runtime: its DOWN `noconnection`, made when the
  // monitor is, so that losing that runtime needs no memory
  // (Signals::node_lost). Owned by the entry; nullptr otherwise.
  Msg* lost = nullptr;
};

// Links and monitors, allocated on first use; touched only by the owner.
//
// A link, and a monitor someone holds on this process, is kept as the
// envelope that will tell the other end when this process ends (its exit
// signal, or its down), made when the link or monitor was: so the end of
// a process allocates nothing to tell its links and monitors. A record's
// `to` is the other end's pid; a watcher's `correlation` its monitor ref.
// A link record's `correlation` is 0 while linked, and the id of our
// unlink while that unlink is not answered yet (Signals::unlink).
struct ProcessExtra {
  ProcessExtra() = default;
  ~ProcessExtra();  // frees the records left
  ProcessExtra(const ProcessExtra&) = delete;
  ProcessExtra& operator=(const ProcessExtra&) = delete;

  Vector<Msg*> links;     // read directly; change with the calls below
  Vector<Msg*> watchers;  // monitors on this process
  Vector<MonitorEntry> monitoring;  // monitors this process holds

  bool linked_to(uint64_t pid) const noexcept;
  // The record of the link to `pid`, still kept here, or nullptr.
  Msg* link_record(uint64_t pid) const noexcept;
  // Keeps `record` (its `to` set); false: no memory (nothing changed).
  bool add_link(Msg* record) noexcept;
  // The record of the link to `pid`, now the caller's, or nullptr.
  Msg* take_link(uint64_t pid) noexcept;
  bool add_watcher(Msg* record) noexcept;  // false: no memory
  Msg* take_watcher(uint64_t ref) noexcept;
  // Adds a monitor this process holds; false: no memory (nothing changed).
  bool add_monitor(MonitorEntry e) noexcept;
  // Removes monitor `ref` (freeing its `lost`), writing its other end to
  // *pid (may be nullptr); false if there is no such monitor.
  bool remove_monitor(uint64_t ref, uint64_t* pid = nullptr) noexcept;

 private:
  // Where each pid is in `links`, kept once a process has many links (a
  // supervisor of a large pool) so that finding one is not a scan. Best
  // effort: without memory for it, links are found by a scan.
  static constexpr size_t kIndexFrom = 32;
  HashMap<uint64_t, size_t> link_at_;
  size_t find_link(uint64_t pid) const noexcept;  // links.size(): none
};

enum ProcessFlags : uint32_t {
  kTrapExit = 1u << 0,
  kSupervised = 1u << 1,  // a supervisor's child: stopped by its supervisor
  kOnPool = 1u << 2,      // AIRS_SPAWN_BLOCKING: turns run on the pool
  // Has had a link or monitor with a pid of another runtime: told when a
  // runtime is lost (Signals::node_down). Set by the process itself.
  kRemoteTies = 1u << 3,
  // The behaviour has receive_batch: turns go to it (Turns::batch_turn).
  kBatchReceive = 1u << 4,
  // Bits 8..15: memberships in services that the end of the process must
  // undo (a name, a topic, a pool). Each exit observer gets one
  // (kernel/processes.hpp); see mark_member_if_alive().
  kFirstMemberBit = 1u << 8,
  kLastMemberBit = 1u << 15,
};

struct alignas(64) Process {
  // --- line 0: what senders read and write --------------------------------
  std::atomic<uint64_t> pid;  // current (or last) pid of the slot
  QueueTail normal_tail;      // the consumer role lives here (kIdle)
  QueueTail high_tail;        // high-priority messages and kill
  // Messages in: a bounded mailbox's (its capacity is checked against
  // it), and those of senders that are not worker 0 or 1. Workers 0 and 1
  // count what they send to an unbounded mailbox in sent_by[id], which
  // only that worker writes: no locked instruction per message on the
  // runtimes of one or two workers. (32 bits: what depth() needs.)
  std::atomic<uint64_t> enqueued;
  std::atomic<uint32_t> sent_by[2];
  std::atomic<uint64_t> dropped;
  std::atomic<uint32_t> blocked_senders;
  // Set by spawn, read by senders; atomic because a sender that checked
  // the slot's previous pid may still read them while a spawn reuses it.
  std::atomic<uint32_t> capacity;  // 0 = unbounded
  std::atomic<uint32_t> block_timeout_ms;
  std::atomic<uint8_t> exiting;  // set once the process starts to end
  std::atomic<uint8_t> policy;
  std::atomic<uint8_t> life;  // ProcLife
  // Its messages are timed (observe/timing.hpp): senders stamp what they
  // send it, its turns time what they take. Set and cleared by the timing
  // service; 0 at spawn.
  std::atomic<uint8_t> timed;

  // --- line 1: the owner's side of the mailbox -----------------------------
  alignas(64) QueueHead normal_head;
  QueueHead high_head;
  std::atomic<uint64_t> dequeued;  // written by the consumer only
  void* state_ptr;
  ProcessExtra* extra;
  std::atomic<uint32_t> flags;
  std::atomic<uint32_t> kill_gen;  // generation with a kill pending

  // --- line 2: cold ---------------------------------------------------------
  // The line's alignment is on its first member, not on the union: a
  // union with an aligned member is itself 64 bytes, which made the record
  // 256 bytes instead of 192.
  alignas(64) void (*terminate)(void*, airs_ctx*, const airs_reason*);
  // Which one: kBatchReceive in `flags` (no room for both on this line).
  union {
    airs_status (*receive)(void*, airs_ctx*, const airs_msg*);
    airs_status (*receive_batch)(void*, airs_ctx*, const airs_batch_item*,
                                 uint32_t, uint32_t*);
  };
  airs_health (*health)(void*, airs_ctx*);
  void* user_data;
  void (*user_data_free)(void*);
  Spec* owner;  // when set, owns user_data instead of user_data_free
  uint64_t spawn_seq;
  uint32_t generation;
  std::atomic<uint32_t> next_free;  // free-list link (slot index + 1)

  Process() noexcept;

  // --- the mailbox, for senders [any thread] ---
  // Pushes `m`; true: the mailbox was idle, and the caller now holds the
  // consumer role (it must see that the process runs, or drain a slot
  // whose process is gone).
  bool push(Msg* m) noexcept {
    if (m->priority == AIRS_PRIORITY_NORMAL && m->signal != Signal::kKill)
      return mpsc_push(normal_tail, m);
    mpsc_push(high_tail, m);
    // The role lives in the normal queue: take it if the mailbox is idle
    // (Dekker with mark_idle(): we push, then look; it marks, then looks).
    return claim();
  }
  // Pushes a chain of normal-priority messages; as push().
  bool push_chain(Msg* first, Msg* last) noexcept {
    return mpsc_push_chain(normal_tail, first, last);
  }
  // Takes the consumer role of an idle mailbox (a spawn; a high-priority
  // push). false: someone holds it.
  bool claim() noexcept { return mpsc_claim(normal_tail, normal_head); }

  // --- the mailbox, for its consumer [the role's holder] ---
  // The next envelope, high priority first, or nullptr. The consumer then
  // release()s it, or detach()es it to keep it or send it on.
  Msg* take() noexcept;
  // Done with taken `m`: what it holds goes now, its envelope now or when
  // the mailbox lets go of it (the last one taken stays linked).
  void release(Msg* m) noexcept;
  // Taken `m` becomes the consumer's own (to keep, send on, or free).
  void detach(Msg* m) noexcept;
  // Frees the envelopes of released messages the mailbox still holds (the
  // process has ended: nothing would pass them).
  void drop_held() noexcept;
  // Gives the role back if both queues are empty. false: mail is waiting,
  // and the role is still the caller's.
  bool mark_idle() noexcept;

  // Messages waiting, signals included: exact while nothing is sent or
  // taken; a snapshot meanwhile (never negative).
  uint64_t depth() const noexcept {
    uint32_t in =
        static_cast<uint32_t>(enqueued.load(std::memory_order_relaxed)) +
        sent_by[0].load(std::memory_order_relaxed) +
        sent_by[1].load(std::memory_order_relaxed);
    uint32_t d =
        in - static_cast<uint32_t>(dequeued.load(std::memory_order_relaxed));
    return d > 0x80000000u ? 0 : d;  // a take counted before its send
  }
  // Messages accepted into the mailbox since the spawn.
  uint64_t accepted() const noexcept {
    return dequeued.load(std::memory_order_relaxed) + depth();
  }
  ProcessExtra* ensure_extra() noexcept;
  void free_extra() noexcept;
};

// Three cache lines: an idle actor costs its record and little else
// (airs-bench spawn's bytes_per_actor).
static_assert(sizeof(Process) <= 192, "an idle process fits in 192 bytes");

// Joining something its end must undo (a name, a topic, a pool: a member
// bit): sets `flag`, then says whether `p` is still alive as `pid`.
// Dekker with end(), which sets `exiting` and then reads the flag: at
// least one of the two sees the other, so no membership outlives its
// process. Call it under the lock that end()'s undoing takes.
inline bool mark_member_if_alive(Process* p, uint32_t flag,
                                 uint64_t pid) noexcept {
  p->flags.fetch_or(flag, std::memory_order_seq_cst);
  return !p->exiting.load(std::memory_order_seq_cst) &&
         p->pid.load(std::memory_order_seq_cst) == pid;  // this order: live()
}

// A pid: the runtime's tag (16 bits) | the slot's generation (21 bits) |
// the slot (27 bits). The tag keeps a pid of one runtime from naming a
// process of another (process/pid_tag.hpp); it is never 0, so no pid is.
constexpr unsigned kSlotBits = 27;
constexpr unsigned kGenerationBits = 21;
constexpr unsigned kTagBits = 16;
static_assert(kSlotBits + kGenerationBits + kTagBits == 64);
constexpr uint32_t kMaxSlots = 1u << kSlotBits;
constexpr uint32_t kMaxGeneration = (1u << kGenerationBits) - 1;
constexpr uint32_t kMaxTag = (1u << kTagBits) - 1;

inline uint32_t pid_slot(uint64_t pid) {
  return static_cast<uint32_t>(pid) & (kMaxSlots - 1);
}
inline uint32_t pid_generation(uint64_t pid) {
  return static_cast<uint32_t>(pid >> kSlotBits) & kMaxGeneration;
}
inline uint32_t pid_tag(uint64_t pid) {
  return static_cast<uint32_t>(pid >> (kSlotBits + kGenerationBits));
}
// "<tag.slot.generation>", as Erlang writes <node.number.serial>: into buf
// (cut to fit cap, NUL-terminated); returns the length it needed, as
// snprintf does.
int format_pid(uint64_t pid, char* buf, size_t cap) noexcept;

inline uint64_t make_pid(uint32_t tag, uint32_t slot, uint32_t generation) {
  return (static_cast<uint64_t>(tag) << (kSlotBits + kGenerationBits)) |
         (static_cast<uint64_t>(generation) << kSlotBits) | slot;
}

}  // namespace airs
