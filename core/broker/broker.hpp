// broker.hpp - topics: named sets of subscriber pids, and the fan-out of a
// publish to them (one shared payload, one envelope per subscriber).
//
// Locks. `mu_` (the topic map and the index by pid) comes before a topic's
// own `mu`; changes to a topic's subscribers hold both, so either one is
// enough to read them. A publish holds only its topic's lock while it fans
// out. Delivery never takes a broker lock, and no user callback (the
// dead-letter or the event hook) ever runs under one: what they need is
// collected and handed to them after unlocking, so a hook may subscribe or
// publish. A subscriber that ends leaves its topics in end() (forget())
// before its slot is freed: while it is in a topic, its record is live.
//
// Staging. Inside a callback on a worker, a publish does not push each
// envelope at once: it chains them per subscriber in that worker's stage
// and pushes each chain with one exchange, every kBatch messages, when the
// turn ends (flush_outbox), or before the process sends anything else, so
// order per sender and receiver holds. A subscriber sent many messages in
// one turn gets them in blocks of envelopes side by side (MsgBlock): it
// streams through them, and they go back to the allocator one block at a
// time instead of one envelope at a time from another thread. A stage is laid
// out after one topic's subscriber list (entry i = subscriber i), valid while
// the topic's version is unchanged: a publish to another topic, or after a
// change of subscribers, pushes what is staged first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "airs/airs.h"
#include "mail/message.hpp"

struct airs_ctx;

namespace airs {

class Runtime;
struct Process;
struct Worker;
using Ctx = ::airs_ctx;

class Broker {
 public:
  explicit Broker(Runtime& rt);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // `p` is the record `pid` names; the caller has checked the pid once,
  // this re-checks it under the lock. `source`: the calling process (or 0),
  // for the event.
  airs_status subscribe(const std::string& topic, uint64_t pid, Process* p,
                        uint64_t source);
  airs_status unsubscribe(const std::string& topic, uint64_t pid,
                          uint64_t source);
  // `from`: the calling callback's context in this runtime, or nullptr.
  // `payload` stays the caller's; each envelope holds a reference.
  airs_status publish(const char* topic, size_t len, uint64_t type,
                      Payload* payload, Ctx* from, size_t* delivered);
  // Writes up to `capacity` subscribers of `topic` to out; returns how many
  // there are.
  size_t subscribers(const std::string& topic, uint64_t* out,
                     size_t capacity) const;
  // An ending process (its `exiting` set) leaves every topic.
  void forget(uint64_t pid, Process* p) noexcept;
  // Pushes everything staged on `w` (its thread only).
  void flush(Worker* w) noexcept;

 private:
  struct Sub {
    uint64_t pid;
    Process* p;
    bool bounded;  // has a mailbox capacity: offered each message at once
  };
  struct Topic {
    explicit Topic(std::string n) : name(std::move(n)) {}
    const std::string name;
    std::mutex mu;
    std::vector<Sub> subs;                    // no particular order
    std::unordered_map<uint64_t, size_t> at;  // pid -> index in subs
    uint64_t version = 0;                     // +1 on every change of subs
    bool retired = false;  // out of the map (it emptied): look it up again
  };
  using TopicRef = std::shared_ptr<Topic>;

  // Envelopes staged for one subscriber, first..last linked through next.
  // Past the first few of a chain they come from a MsgBlock, so that the
  // subscriber reads them side by side.
  struct Entry {
    Process* p;
    uint64_t to;
    Msg* first;
    Msg* last;
    uint32_t count;   // staged, not pushed
    MsgBlock* block;  // open block, or nullptr
    uint32_t used;    // slots of `block` used
    bool bounded;     // never staged (see Sub)
  };
  struct alignas(64) Stage {
    TopicRef topic;  // the topic `entries` are laid out for
    uint64_t version = 0;
    std::vector<Entry> entries;
  };
  // A chain pushes at this length: a subscriber starts on its mail while
  // the publisher is still at work.
  static constexpr uint32_t kBatch = 64;
  // Messages in one chain before a block is worth its 4 KiB (a publish now
  // and then costs one envelope per subscriber, no more).
  static constexpr uint32_t kBlockAfter = 8;

  TopicRef find(const char* name, size_t len) const;
  // Both locks held: takes `pid` out of `t`, and `t` out of the map if it
  // emptied.
  void remove_locked(Topic& t, uint64_t pid) noexcept;
  // Topic lock held. Each returns the subscribers reached; envelopes that
  // found a full mailbox are added to *full (linked through next).
  size_t fan_out_staged(Topic& t, Stage& s, Worker* w, uint64_t type,
                        Payload* payload, uint64_t sender, Msg** full) noexcept;
  size_t fan_out_direct(Topic& t, Worker* w, uint64_t type, Payload* payload,
                        uint64_t sender, Msg** full) noexcept;
  bool lay_out(Stage& s, const TopicRef& t) noexcept;
  bool offer(Process* p, uint64_t to, Worker* w, uint64_t type,
             Payload* payload, uint64_t sender, Msg** full) noexcept;
  Msg* envelope(Worker* w, Entry& e, uint64_t type, Payload* payload,
                uint64_t sender) noexcept;
  void stage(Worker* w, Entry& e, Msg* m) noexcept;
  void open_block(Worker* w, Entry& e) noexcept;
  void close_block(Worker* w, Entry& e) noexcept;
  void push(Worker* w, Entry& e) noexcept;
  void event(airs_event_kind kind, uint64_t source, uint64_t pid,
             const std::string& topic, int64_t value) const noexcept;

  Runtime& rt_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, TopicRef> by_name_;
  std::unordered_map<uint64_t, std::vector<TopicRef>> by_pid_;
  size_t nstages_;
  std::unique_ptr<Stage[]> stages_;  // one per worker, by Worker::id
};

}  // namespace airs
