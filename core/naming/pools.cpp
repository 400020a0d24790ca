#include "naming/pools.hpp"

#include <chrono>

#include "base/error.hpp"
#include "process/process.hpp"
#include "kernel/runtime.hpp"

namespace airs {

namespace {

// A random pick probes this many slots before it lists the live members:
// holes are at most half of the slots, so this is almost never reached.
constexpr int kRandomProbes = 32;

}  // namespace

Pools::Pools(Runtime& rt) : rt_(rt) {
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  rng_ = static_cast<uint64_t>(now) ^ reinterpret_cast<uintptr_t>(this);
  if (rng_ == 0) rng_ = 0x9E3779B97F4A7C15ull;  // xorshift never leaves 0
}

// A member between the start of its end (`exiting`) and release() is in
// the pool but no longer alive: a pick passes over it.
bool Pools::alive(uint64_t pid) const noexcept {
  return rt_.live(pid) != nullptr;
}

uint64_t Pools::next_random() noexcept {
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return rng_;
}

airs_status Pools::join(const std::string& name, uint64_t pid, Process* p) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!mark_member_if_alive(p, kInPool, pid))  // see release()
    return fail(AIRS_ENOPROC, "airs_pool_join: the process is not alive");

  auto it = by_name_.find(name);
  if (it == by_name_.end()) {
    auto made = std::make_unique<Pool>();
    made->name = name;
    it = by_name_.emplace(name, std::move(made)).first;
  }
  Pool* pool = it->second.get();
  if (pool->at.count(pid)) return AIRS_OK;
  std::vector<Pool*>* mine = nullptr;
  try {
    // Everything that can fail first; below this nothing throws.
    mine = &by_pid_[pid];
    mine->reserve(mine->size() + 1);
    pool->slots.reserve(pool->slots.size() + 1);
    pool->at.emplace(pid, pool->slots.size());
  } catch (...) {
    if (mine && mine->empty()) by_pid_.erase(pid);
    if (pool->at.empty()) by_name_.erase(it);
    throw;  // the C API turns it into ENOMEM
  }
  pool->slots.push_back(pid);
  mine->push_back(pool);
  return AIRS_OK;
}

airs_status Pools::leave(const std::string& name, uint64_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_name_.find(name);
  auto mine = by_pid_.find(pid);
  if (it == by_name_.end() || !it->second->at.count(pid) ||
      mine == by_pid_.end())
    return failf(AIRS_ENOTFOUND,
                 "airs_pool_leave: pid %llu is not a member of pool '%s'",
                 static_cast<unsigned long long>(pid), name.c_str());
  Pool* pool = it->second.get();
  std::vector<Pool*>& pools = mine->second;
  for (size_t i = 0; i < pools.size(); i++) {
    if (pools[i] != pool) continue;
    pools[i] = pools.back();
    pools.pop_back();
    break;
  }
  if (pools.empty()) by_pid_.erase(mine);
  remove(pool, pid);
  return AIRS_OK;
}

void Pools::release(uint64_t pid, Process* p) noexcept {
  // The caller has set `exiting` (seq_cst): see mark_member_if_alive().
  if (!(p->flags.load(std::memory_order_seq_cst) & kInPool)) return;
  std::lock_guard<std::mutex> lock(mu_);
  p->flags.fetch_and(~uint32_t{kInPool}, std::memory_order_relaxed);
  auto mine = by_pid_.find(pid);
  if (mine == by_pid_.end()) return;
  for (Pool* pool : mine->second) remove(pool, pid);
  by_pid_.erase(mine);
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

airs_status Pools::pick(const std::string& name, airs_pick how, uint64_t* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_name_.find(name);
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
      // Mostly members that are ending: choose among the live ones.
      std::vector<uint64_t> live;
      for (uint64_t pid : pool.slots)
        if (pid && alive(pid)) live.push_back(pid);
      if (!live.empty()) {
        *out = live[next_random() % live.size()];
        return AIRS_OK;
      }
    }
  }
  return failf(AIRS_ENOTFOUND, "airs_pool_pick: pool '%s' has no live member",
               name.c_str());
}

std::vector<uint64_t> Pools::members(const std::string& name) const {
  std::vector<uint64_t> out;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return out;
  out.reserve(it->second->at.size());
  for (uint64_t pid : it->second->slots)
    if (pid && alive(pid)) out.push_back(pid);
  return out;
}

}  // namespace airs
