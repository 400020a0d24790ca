// broker.hpp - topics: named sets of subscriber pids, and the publish that
// reaches them all with one shared payload (the fan-out itself is the
// kernel's mail path: Mail::fan_out).
//
// Locks. `mu_` (the topic map and the index by pid) comes before a topic's
// own `mu`; changes to a topic's subscribers hold both, so either one is
// enough to read them. A publish holds only its topic's lock while it fans
// out. No user callback (the dead-letter or the event hook) ever runs
// under a broker lock: what they need is collected and handed to them
// after unlocking, so a hook may subscribe or publish. A subscriber that
// ends leaves its topics (the broker is an exit observer) before its slot
// is freed: while it is in a topic, its record is live.
//
// Other runtimes (transport.h): the transport hears of a topic's first
// and last subscriber under mu_ (so in order), and gets every local
// publish after the local fan-out; publishes it brings in reach the local
// subscribers only (deliver_remote).
//
// Stamps. Every change of a topic's subscribers gives it a new stamp from
// one counter, never reused: an outbox laid out for a stamp (see
// kernel/outbox.hpp) is valid exactly while the topic still has it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "airs/airs.h"
#include "kernel/seam.hpp"
#include "mail/message.hpp"

namespace airs {

class Broker {
 public:
  Broker(Seam& seam, uint32_t workers);  // throws std::bad_alloc
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // `topic` is len bytes. ENOPROC: `pid` is not alive. ENOMEM.
  // Subscribing twice is subscribing once. [any thread; calls the event
  // hook after unlocking]
  airs_status subscribe(const char* topic, size_t len, uint64_t pid) noexcept;
  // ENOTFOUND: not subscribed. [any thread; likewise]
  airs_status unsubscribe(const char* topic, size_t len, uint64_t pid) noexcept;
  // Delivers a message of `type` sharing `payload` (the caller's reference
  // stays the caller's) to every subscriber; *delivered (may be nullptr)
  // gets how many it reached. Nobody subscribed: a NO_SUBSCRIBERS dead
  // letter, unless a transport carries topics to other runtimes (then it
  // gets the message after the local subscribers). A full bounded mailbox
  // is skipped: a MAILBOX_FULL dead letter. ENOMEM. [any thread; calls
  // the dead-letter hook after unlocking]
  airs_status publish(const char* topic, size_t len, uint64_t type,
                      Payload* payload, size_t* delivered) noexcept;
  // A publish another runtime's transport brought in (from `sender`): to
  // the local subscribers only, never on. [any thread; likewise]
  airs_status deliver_remote(const char* topic, size_t len, uint64_t type,
                             Payload* payload, uint64_t sender,
                             size_t* delivered) noexcept;
  // Tells a transport just installed of every topic with subscribers
  // (Seam::remote_interest). [any thread]
  void replay_interest() noexcept;
  // Writes up to `capacity` subscribers to out; *count gets how many there
  // are. [any thread]
  airs_status subscribers(const char* topic, size_t len, uint64_t* out,
                          size_t capacity, size_t* count) const noexcept;

 private:
  struct Topic {
    explicit Topic(std::string n) : name(std::move(n)) {}
    const std::string name;
    std::mutex mu;
    std::vector<Subscriber> subs;             // no particular order
    std::unordered_map<uint64_t, size_t> at;  // pid -> index in subs
    uint64_t stamp = 0;    // new on every change of subs (see above)
    bool retired = false;  // out of the map (it emptied): look it up again
  };
  using TopicRef = std::shared_ptr<Topic>;

  static void process_ended(void* self, uint64_t pid, Process* p,
                            Reason* reason) noexcept;
  airs_status fan_out(const char* topic, size_t len, uint64_t type,
                      Payload* payload, uint64_t sender, Ctx* from,
                      size_t* delivered, bool carried) noexcept;
  TopicRef find(const char* name, size_t len) const noexcept;
  // Both locks held: takes `pid` out of `t`, and `t` out of the map if it
  // emptied.
  void remove_locked(Topic& t, uint64_t pid) noexcept;
  void changed(Topic& t) noexcept { t.stamp = next_stamp_++; }
  void event(airs_event_kind kind, uint64_t source, uint64_t pid,
             const std::string& topic, int64_t value) const noexcept;
  uint64_t caller_pid() const noexcept;

  Seam& seam_;
  uint32_t member_bit_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, TopicRef> by_name_;
  std::unordered_map<uint64_t, std::vector<TopicRef>> by_pid_;
  uint64_t next_stamp_ = 1;  // mu_ held
  // The topic each worker published to last: while a callback publishes
  // to one topic, it is not looked up again. [the worker's thread]
  struct alignas(64) Recent {
    TopicRef topic;
  };
  std::unique_ptr<Recent[]> recent_;
};

}  // namespace airs
