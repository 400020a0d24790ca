#include "naming/pools.hpp"

#include <chrono>
#include <cstring>
#include <new>

#include "base/error.hpp"
#include "base/prng.hpp"

namespace airs {

namespace {

// A random pick probes this many slots before it lists the live members:
// holes are at most half of the slots, so this is almost never reached.
constexpr int kRandomProbes = 32;

}  // namespace

Pools::Pools(Seam& seam) noexcept
    : seam_(seam),
      member_bit_(seam.add_exit_observer({&Pools::process_ended, this})) {
  if (uint64_t seed = seam.seed()) {
    // A seeded runtime picks the same members on every run.
    rng_ = splitmix64(&seed);
  } else {
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    rng_ = static_cast<uint64_t>(now) ^ reinterpret_cast<uintptr_t>(this);
  }
  if (rng_ == 0) rng_ = 0x9E3779B97F4A7C15ull;  // xorshift never leaves 0
}

// A member between the start of its end (`exiting`) and release() is in
// the pool but no longer alive: a pick passes over it. Another runtime's
// member is alive until its runtime says otherwise.
bool Pools::alive(uint64_t pid) const noexcept {
  return seam_.foreign(pid) || seam_.live(pid) != nullptr;
}

uint64_t Pools::next_random() noexcept {
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return rng_;
}

airs_status Pools::join(const char* name, uint64_t pid) noexcept {
  if (seam_.foreign(pid))
    return fail(AIRS_EINVAL,
                "the pid is another runtime's: it joins a pool there");
  Process* p = seam_.live(pid);
  if (!p) return fail(AIRS_ENOPROC, "the process is not alive");
  std::lock_guard<std::mutex> lock(mu_);
  if (!seam_.join_if_alive(p, member_bit_, pid))  // see process_ended()
    return fail(AIRS_ENOPROC, "the process is not alive");
  return add(name, pid, true);
}

airs_status Pools::add(const char* name, uint64_t pid, bool local) noexcept {
  Pool* pool = nullptr;
  std::vector<Pool*>* mine = nullptr;
  auto it = by_name_.end();
  // Undoes what the steps below did, on a failure before the commit.
  auto undo = [&] {
    if (pool) pool->at.erase(pid);
    if (mine && mine->empty()) by_pid_.erase(pid);
    if (pool && pool->at.empty()) by_name_.erase(it);
  };
  try {
    // Everything that can fail first; below this nothing allocates.
    it = by_name_.find(name);
    if (it == by_name_.end()) {
      auto made = std::make_unique<Pool>();
      made->name = name;
      it = by_name_.emplace(made->name, std::move(made)).first;
    }
    pool = it->second.get();
    if (pool->at.count(pid)) return AIRS_OK;
    mine = &by_pid_[pid];
    mine->reserve(mine->size() + 1);
    pool->slots.reserve(pool->slots.size() + 1);
    pool->at.emplace(pid, pool->slots.size());
  } catch (const std::bad_alloc&) {
    undo();
    return fail(AIRS_ENOMEM, "out of memory");
  }
  if (local && seam_.remote_pool_member(name, pid, true) != AIRS_OK) {
    undo();
    return fail(AIRS_ENOMEM, "the transport could not take the join");
  }
  pool->slots.push_back(pid);
  mine->push_back(pool);
  return AIRS_OK;
}

airs_status Pools::leave(const char* name, uint64_t pid) noexcept {
  if (seam_.foreign(pid))
    return fail(AIRS_EINVAL,
                "the pid is another runtime's: it leaves a pool there");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_name_.end();
  try {
    it = by_name_.find(name);
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
  if (it == by_name_.end() || !it->second->at.count(pid))
    return failf(AIRS_ENOTFOUND, "pid %llu is not a member of pool '%s'",
                 static_cast<unsigned long long>(pid), name);
  seam_.remote_pool_member(name, pid, false);
  drop(it->second.get(), pid);
  return AIRS_OK;
}

airs_status Pools::remote_member(const char* name, uint64_t pid,
                                 bool on) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  if (on) return add(name, pid, false);
  auto it = by_name_.end();
  try {
    it = by_name_.find(name);
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
  if (it != by_name_.end() && it->second->at.count(pid))
    drop(it->second.get(), pid);
  return AIRS_OK;
}

void Pools::forget_runtime(uint32_t tag) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto mine = by_pid_.begin(); mine != by_pid_.end();) {
    if (pid_tag(mine->first) != tag) {
      ++mine;
      continue;
    }
    for (Pool* pool : mine->second) remove(pool, mine->first);
    mine = by_pid_.erase(mine);
  }
}

void Pools::replay_members() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [pid, pools] : by_pid_) {
    if (seam_.foreign(pid)) continue;
    // A refusal (out of memory in the transport) leaves that member
    // unknown to the other runtimes, as a join refused would be.
    for (Pool* pool : pools)
      seam_.remote_pool_member(pool->name.c_str(), pid, true);
  }
}

void Pools::drop(Pool* pool, uint64_t pid) noexcept {
  auto mine = by_pid_.find(pid);
  if (mine != by_pid_.end()) {
    std::vector<Pool*>& pools = mine->second;
    for (size_t i = 0; i < pools.size(); i++) {
      if (pools[i] != pool) continue;
      pools[i] = pools.back();
      pools.pop_back();
      break;
    }
    if (pools.empty()) by_pid_.erase(mine);
  }
  remove(pool, pid);
}

void Pools::process_ended(void* self, uint64_t pid, Process*,
                          Reason*) noexcept {
  auto* pools = static_cast<Pools*>(self);
  std::lock_guard<std::mutex> lock(pools->mu_);
  auto mine = pools->by_pid_.find(pid);
  if (mine == pools->by_pid_.end()) return;
  for (Pool* pool : mine->second) {
    pools->seam_.remote_pool_member(pool->name.c_str(), pid, false);
    pools->remove(pool, pid);
  }
  pools->by_pid_.erase(mine);
}

void Pools::remove(Pool* pool, uint64_t pid) noexcept {
  auto at = pool->at.find(pid);
  if (at == pool->at.end()) return;
  pool->slots[at->second] = 0;
  pool->at.erase(at);
  if (pool->at.empty()) {
    by_name_.erase(by_name_.find(pool->name));  // frees `pool`
    return;
  }
  if (pool->slots.size() - pool->at.size() > pool->at.size()) compact(*pool);
}

// Squeezes the holes out, in place (no allocation: this runs inside a
// process's end). The cursor keeps pointing at the same next member.
void Pools::compact(Pool& pool) noexcept {
  size_t out = 0;
  size_t cursor = 0;
  for (size_t in = 0; in < pool.slots.size(); in++) {
    if (in == pool.cursor) cursor = out;
    uint64_t pid = pool.slots[in];
    if (!pid) continue;
    pool.slots[out] = pid;
    pool.at.find(pid)->second = out;
    out++;
  }
  if (pool.cursor >= pool.slots.size()) cursor = out;
  pool.slots.resize(out);
  pool.cursor = cursor;
}

airs_status Pools::pick(const char* name, int how, uint64_t* out) noexcept {
  if (how != AIRS_PICK_ROUND_ROBIN && how != AIRS_PICK_RANDOM)
    return failf(AIRS_EINVAL, "unknown pick %d", how);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_name_.end();
  try {
    it = by_name_.find(name);
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
  if (it != by_name_.end()) {
    Pool& pool = *it->second;
    size_t n = pool.slots.size();
    if (how == AIRS_PICK_ROUND_ROBIN) {
      for (size_t i = 0; i < n; i++) {
        size_t at = (pool.cursor + i) % n;
        uint64_t pid = pool.slots[at];
        if (!pid || !alive(pid)) continue;
        pool.cursor = at + 1;  // may be n: a member joining next is next
        *out = pid;
        return AIRS_OK;
      }
    } else {
      for (int i = 0; i < kRandomProbes; i++) {
        // Lemire's multiply-shift: an index in [0, n) without division.
        size_t at = static_cast<size_t>(
            (static_cast<unsigned __int128>(next_random()) * n) >> 64);
        uint64_t pid = pool.slots[at];
        if (pid && alive(pid)) {
          *out = pid;
          return AIRS_OK;
        }
      }
      // Mostly members that are ending: choose among the live ones, the
      // k-th live one for a random k (two passes, no allocation).
      size_t live = 0;
      for (uint64_t pid : pool.slots)
        if (pid && alive(pid)) live++;
      if (live) {
        size_t k = next_random() % live;
        for (uint64_t pid : pool.slots)
          if (pid && alive(pid) && k-- == 0) {
            *out = pid;
            return AIRS_OK;
          }
      }
    }
  }
  return failf(AIRS_ENOTFOUND, "pool '%s' has no live member", name);
}

airs_status Pools::members(const char* name, uint64_t* out, size_t capacity,
                           size_t* count) const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_name_.end();
  try {
    it = by_name_.find(name);
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
  size_t n = 0;
  if (it != by_name_.end())
    for (uint64_t pid : it->second->slots)
      if (pid && alive(pid)) {
        if (n < capacity) out[n] = pid;
        n++;
      }
  *count = n;
  return AIRS_OK;
}

}  // namespace airs
