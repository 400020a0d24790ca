// handle.hpp - the runtime handle a C caller holds, and how a call holds
// the runtime behind it for as long as the call runs.
//
// airs_runtime_free may race calls from other threads on the same handle
// (a host that frees while a thread still sends). So every call that takes
// a handle holds a use of it (RuntimeUse) while it works, and the free
// deletes the runtime only after the uses that began before it have ended:
//
//   call:  uses[shard] += 1; if freeing: -1, AIRS_ESTATE; ...work...; -1
//   free:  freeing = 1 (one caller wins); stop processes; wait for every
//          shard to reach 0; delete the runtime; the handle stays.
//
// Dekker between the two: a call that missed the flag was counted before
// the free looked, and a call the free did not count sees the flag. Calls
// made inside a callback of the runtime go on during its shutdown (its
// processes stop meanwhile); they end before the free waits for the uses.
// The count is split over cache lines picked per thread, so threads that
// send to one runtime do not share a counter.
#pragma once

#include <atomic>
#include <cstdint>

#include "airs/airs.h"
#include "runtime/runtime.hpp"

// A handle outlives its runtime as a tombstone (about 600 bytes), so that
// a call with a freed handle is a clear AIRS_ESTATE instead of a use after
// free. The tombstones are chained through the handles themselves
// (next_tombstone), so that keeping one needs no memory: airs_runtime_free
// cannot fail.
struct airs_runtime {
  static constexpr uint64_t kMagic = 0x61697273'72756e74ull;  // "airsrunt"
  static constexpr unsigned kUseShards = 8;
  struct alignas(64) UseCount {
    std::atomic<uint32_t> n{0};
  };

  uint64_t magic = kMagic;
  std::atomic<airs::Runtime*> impl{nullptr};
  std::atomic<bool> freeing{false};  // set once, by the free that runs
  UseCount uses[kUseShards];
  airs_runtime* next_tombstone = nullptr;  // under tombstones_mu
};

namespace airs::capi {

// One call's hold on a runtime. [any thread]
class RuntimeUse {
 public:
  explicit RuntimeUse(airs_runtime* h) noexcept;
  ~RuntimeUse() {
    if (count_) count_->fetch_sub(1, std::memory_order_release);
  }
  RuntimeUse(const RuntimeUse&) = delete;
  RuntimeUse& operator=(const RuntimeUse&) = delete;

  // AIRS_OK and the runtime, or why there is none (EINVAL: NULL or not a
  // handle; ESTATE: freed or being freed), with the message set.
  airs_status status() const noexcept { return status_; }
  Runtime* runtime() const noexcept { return rt_; }

 private:
  std::atomic<uint32_t>* count_ = nullptr;
  Runtime* rt_ = nullptr;
  airs_status status_ = AIRS_OK;
};

// The free: claims the handle (false if another free has it, or had it),
// after which no call from outside the runtime's callbacks starts. Then
// stop() runs, then the uses that began before the claim are waited for,
// and the caller may delete the runtime. [any thread, not in a callback]
bool claim_for_free(airs_runtime* h) noexcept;
void wait_for_uses(airs_runtime* h) noexcept;

}  // namespace airs::capi
