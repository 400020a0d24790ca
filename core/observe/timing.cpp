// timing.cpp - per-process histograms by name pattern (timing.hpp).
#include "observe/timing.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <new>

#include "base/error.hpp"
#include "process/process.hpp"

namespace airs {

static_assert(Timing::kMaxStamps == AIRS_TIMING_STAMPS_MAX);

namespace {

void add_sample(airs_timing_histogram& h, uint64_t ns) noexcept {
  int i = 0;
  while (i < AIRS_TIMING_BUCKETS - 1 && ns > AIRS_TIMING_BOUND_NS(i)) i++;
  h.buckets[i]++;
  h.count++;
  h.sum_ns += ns;
}

}  // namespace

bool Timing::matches(const std::string& name) const noexcept {
  for (const std::string& pattern : patterns_)
    if (fnmatch(pattern.c_str(), name.c_str(), 0) == 0) return true;
  return false;
}

// --- patterns -----------------------------------------------------------

airs_status Timing::track(const char* pattern) noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (std::find(patterns_.begin(), patterns_.end(), pattern) !=
        patterns_.end())
      return failf(AIRS_EEXIST, "'%s' is tracked already", pattern);
    if (patterns_.size() >= AIRS_TIMING_PATTERNS_MAX)
      return failf(AIRS_ELIMIT, "%d patterns are tracked already",
                   AIRS_TIMING_PATTERNS_MAX);
    try {
      patterns_.emplace_back(pattern);
    } catch (const std::bad_alloc&) {
      return fail(AIRS_ENOMEM, "out of memory");
    }
  }
  // The names given before the pattern came (registry, then mu_). A name
  // given meanwhile is told twice: named() is idempotent.
  registry_.show_names_to_watch();
  return AIRS_OK;
}

airs_status Timing::untrack(const char* pattern) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find(patterns_.begin(), patterns_.end(), pattern);
  if (it == patterns_.end())
    return failf(AIRS_ENOTFOUND, "'%s' is not tracked", pattern);
  patterns_.erase(it);
  for (auto t = timed_.begin(); t != timed_.end();) {
    if (matches(t->second.stats->name)) {
      ++t;
      continue;
    }
    stop_timing(t->first, t->second);
    t = timed_.erase(t);
  }
  return AIRS_OK;
}

// --- names --------------------------------------------------------------

void Timing::named(const char* name, uint64_t pid, Process* p) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  if (patterns_.empty() || timed_.count(pid)) return;
  try {
    std::string key = name;
    if (!matches(key)) return;
    Series* stats;
    auto found = by_name_.find(key);
    if (found != by_name_.end()) {
      stats = found->second;
    } else {
      if (stats_.size() >= AIRS_TIMING_NAMES_MAX) {
        names_refused_++;
        return;
      }
      stats_.reserve(stats_.size() + 1);
      auto fresh = std::make_unique<Series>();
      fresh->name = key;
      fresh->t = airs_timing{};
      by_name_.emplace(std::move(key), fresh.get());
      stats = fresh.get();
      stats_.push_back(std::move(fresh));  // reserved: cannot throw
    }
    timed_.emplace(pid, Timed{stats, p, {}});
  } catch (const std::bad_alloc&) {
    return;  // not timed: nothing half made is kept
  }
  p->timed.store(1, std::memory_order_relaxed);
}

void Timing::unnamed(uint64_t pid) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = timed_.find(pid);
  if (it == timed_.end()) return;
  stop_timing(pid, it->second);
  timed_.erase(it);
}

// The process of `pid` is timed no more. Its record's slot may hold
// another process by the time a sender reads `timed`: a stamp for a pid
// not timed here is dropped (sent()).
void Timing::stop_timing(uint64_t pid, Timed& t) noexcept {
  if (t.p->pid.load(std::memory_order_acquire) == pid)
    t.p->timed.store(0, std::memory_order_relaxed);
}

// --- messages -----------------------------------------------------------

void Timing::sent(uint64_t to, const Msg* m, uint64_t now_ns) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = timed_.find(to);
  if (it == timed_.end()) return;
  Timed& t = it->second;
  if (t.stamps.size() >= kMaxStamps) {
    t.stats->t.wait_unmeasured++;
    return;
  }
  try {
    t.stamps[m] = now_ns;
  } catch (const std::bad_alloc&) {
    t.stats->t.wait_unmeasured++;
  }
}

void Timing::received(uint64_t pid, const Msg* const* msgs, uint32_t n,
                      uint64_t begin_ns, uint64_t end_ns) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = timed_.find(pid);
  if (it == timed_.end()) return;  // untracked meanwhile
  Timed& t = it->second;
  for (uint32_t i = 0; i < n; i++) {
    auto stamp = t.stamps.find(msgs[i]);
    if (stamp == t.stamps.end()) continue;  // sent before it was timed
    add_sample(t.stats->t.wait,
               begin_ns > stamp->second ? begin_ns - stamp->second : 0);
    t.stamps.erase(stamp);
  }
  add_sample(t.stats->t.run, end_ns > begin_ns ? end_ns - begin_ns : 0);
}

// --- readers ------------------------------------------------------------

airs_status Timing::get(const char* name, airs_timing* out) const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    auto it = by_name_.find(name);
    if (it == by_name_.end())
      return failf(AIRS_ENOTFOUND, "'%s' has not been timed", name);
    uint32_t version = out->version, size = out->size;
    *out = it->second->t;
    out->version = version;
    out->size = size;
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
  return AIRS_OK;
}

void Timing::series(std::vector<Series>* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out->reserve(out->size() + stats_.size());
  for (const auto& s : stats_) out->push_back(*s);
}

uint64_t Timing::names_refused() const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return names_refused_;
}

}  // namespace airs
