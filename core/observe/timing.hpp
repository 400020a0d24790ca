// timing.hpp - per-process histograms, opted into by name pattern
// (airs_timing_track): how long each message of a timed process waited
// between its send and its receive, and how long each receive took.
//
// A process is timed while its registered name matches a pattern. The
// histograms belong to the name, not to the process: a child restarted
// under the same name goes on in the same series, as Prometheus wants.
//
// The envelope has no room for a send time, so a timed process's senders
// stamp each message in a table of that process kept here (at most
// kMaxStamps at once; past that, messages go unmeasured and are counted),
// and its turns look the stamp up when they take the message. Untimed
// processes pay one byte's test per send and per message taken
// (Process::timed, on lines the send and the turn read anyway).
//
// Locks: mu_ is a leaf. The registry calls named()/unnamed() with its own
// lock held (registry, then mu_); nothing here calls the registry with mu_
// held, nor user code.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "airs/airs.h"
#include "kernel/observer.hpp"
#include "naming/registry.hpp"

namespace airs {

class Timing final : public MailTiming, public NameWatch {
 public:
  static constexpr uint32_t kMaxStamps = 4096;  // per timed process

  explicit Timing(Registry& registry) noexcept : registry_(registry) {}
  Timing(const Timing&) = delete;
  Timing& operator=(const Timing&) = delete;

  // Times the processes whose names match `pattern` (fnmatch(3), no
  // flags), now and from now on. EEXIST: the pattern is there already.
  // ELIMIT: AIRS_TIMING_PATTERNS_MAX patterns are. ENOMEM. [any thread]
  airs_status track(const char* pattern) noexcept;
  // Stops that: names no other pattern matches are no longer timed (their
  // histograms stay). ENOTFOUND: no such pattern. [any thread]
  airs_status untrack(const char* pattern) noexcept;
  // The histograms of `name`. ENOTFOUND: it was never timed. [any thread]
  airs_status get(const char* name, airs_timing* out) const noexcept;

  // One name's histograms: kept per name here, copied out for the
  // metrics.
  struct Series {
    std::string name;
    airs_timing t;
  };
  // Appends every timed name's series to *out (in the order they were
  // first timed). Throws std::bad_alloc. [any thread]
  void series(std::vector<Series>* out) const;
  // Names that matched a pattern but were not timed: AIRS_TIMING_NAMES_MAX
  // names had histograms already. [any thread]
  uint64_t names_refused() const noexcept;

  // MailTiming [any thread]
  void sent(uint64_t to, const Msg* m, uint64_t now_ns) noexcept override;
  void received(uint64_t pid, const Msg* const* msgs, uint32_t n,
                uint64_t begin_ns, uint64_t end_ns) noexcept override;
  // NameWatch [the registry's lock held]
  void named(const char* name, uint64_t pid, Process* p) noexcept override;
  void unnamed(uint64_t pid) noexcept override;

 private:
  // A timed process: its name's stats and the stamps of its messages in
  // flight (envelope -> send time).
  struct Timed {
    Series* stats;
    Process* p;
    std::unordered_map<const Msg*, uint64_t> stamps;
  };

  bool matches(const std::string& name) const noexcept;
  void stop_timing(uint64_t pid, Timed& t) noexcept;

  Registry& registry_;
  mutable std::mutex mu_;
  std::vector<std::string> patterns_;
  std::vector<std::unique_ptr<Series>> stats_;  // kept until the end
  std::unordered_map<std::string, Series*> by_name_;
  std::unordered_map<uint64_t, Timed> timed_;  // by pid
  uint64_t names_refused_ = 0;
};

}  // namespace airs
