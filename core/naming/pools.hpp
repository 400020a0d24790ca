// pools.hpp - named pools of pids with round-robin and random pick. A pool
// exists while it has members; a member that ends leaves every pool it is
// in (the pools are an exit observer, met under one lock with join() as
// the registry does, so a pool never keeps a pid that has ended).
//
// Across runtimes (airs/transport.h, "Pools"): a local member's joins and
// leaves go to the transport, and members of other runtimes come in from
// it (remote_member); they count as alive until their runtime says they
// left or is lost (forget_runtime), as in Erlang's pg.
//
// Locks: mu_; under it, only the transport's pool_member, which must not
// call the runtime. [any thread]
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "airs/airs.h"
#include "kernel/seam.hpp"

namespace airs {

class Pools {
 public:
  explicit Pools(Seam& seam) noexcept;
  Pools(const Pools&) = delete;
  Pools& operator=(const Pools&) = delete;

  // Joining twice is joining once. ENOPROC: not alive. ENOMEM.
  airs_status join(const char* name, uint64_t pid) noexcept;
  // ENOTFOUND: not a member. EINVAL: another runtime's pid.
  airs_status leave(const char* name, uint64_t pid) noexcept;
  // A member of another runtime joined (on) or left pool `name` there.
  // ENOMEM.
  airs_status remote_member(const char* name, uint64_t pid, bool on) noexcept;
  // The runtime of pid tag `tag` is lost: its members leave every pool.
  void forget_runtime(uint32_t tag) noexcept;
  // Tells a newly installed transport of every local member.
  void replay_members() noexcept;
  // A live member; ENOTFOUND if there is none. EINVAL: unknown `how` (an
  // airs_pick).
  airs_status pick(const char* name, int how, uint64_t* out) noexcept;
  // Writes up to `capacity` live members in join order to out, and how
  // many there are to *count (0 if the pool does not exist).
  airs_status members(const char* name, uint64_t* out, size_t capacity,
                      size_t* count) const noexcept;

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

  static void process_ended(void* self, uint64_t pid, Process* p,
                            Reason* reason) noexcept;
  // Adds `pid` to `name` (mu_ held); `local` members are told to the
  // transport first, which may refuse (ENOMEM).
  airs_status add(const char* name, uint64_t pid, bool local) noexcept;
  // Takes `pid` out of `pool` and off its list of pools (mu_ held).
  void drop(Pool* pool, uint64_t pid) noexcept;
  // Take a member out (mu_ held); erases the pool when it is empty.
  void remove(Pool* pool, uint64_t pid) noexcept;
  static void compact(Pool& pool) noexcept;
  bool alive(uint64_t pid) const noexcept;
  uint64_t next_random() noexcept;  // mu_ held

  Seam& seam_;
  uint32_t member_bit_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<Pool>> by_name_;
  std::unordered_map<uint64_t, std::vector<Pool*>> by_pid_;
  uint64_t rng_;  // xorshift state, mu_ held
};

}  // namespace airs
