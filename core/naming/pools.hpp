// pools.hpp - named pools of pids with round-robin and random pick. A pool
// exists while it has members; a member that ends leaves every pool it is
// in (end() calls release(), met under one lock with join() as the
// registry does, so a pool never keeps a pid that has ended).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "airs/airs.h"

namespace airs {

class Runtime;
struct Process;

class Pools {
 public:
  explicit Pools(Runtime& rt);

  // `p` is the record `pid` names; the caller has checked the pid once,
  // this re-checks it under the lock. Joining twice is joining once.
  airs_status join(const std::string& name, uint64_t pid, Process* p);
  airs_status leave(const std::string& name, uint64_t pid);
  // A live member; ENOTFOUND if there is none. `how` is a valid airs_pick.
  airs_status pick(const std::string& name, airs_pick how, uint64_t* out);
  // The live members in join order (none if the pool does not exist).
  std::vector<uint64_t> members(const std::string& name) const;
  // An ending process (its `exiting` set) leaves every pool.
  void release(uint64_t pid, Process* p) noexcept;

 private:
  // Members in join order. A member that leaves becomes a hole (0), so
  // that leaving is O(1) and the round-robin cursor keeps its place; the
  // holes are squeezed out once they outnumber the members, which keeps a
  // random pick at two probes on average.
  struct Pool {
    std::string name;
    std::vector<uint64_t> slots;
    std::unordered_map<uint64_t, size_t> at;  // member -> index in slots
    size_t cursor = 0;  // round robin: the index to try next (mod size)
  };

  // Take a member out (mu_ held); erases the pool when it is empty.
  void remove(Pool* pool, uint64_t pid) noexcept;
  static void compact(Pool& pool) noexcept;
  bool alive(uint64_t pid) const noexcept;
  uint64_t next_random() noexcept;  // mu_ held

  Runtime& rt_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<Pool>> by_name_;
  std::unordered_map<uint64_t, std::vector<Pool*>> by_pid_;
  uint64_t rng_;  // xorshift state, mu_ held
};

}  // namespace airs
