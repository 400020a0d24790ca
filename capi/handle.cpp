#include "handle.hpp"

#include <chrono>
#include <thread>

#include "base/error.hpp"
#include "kernel/context.hpp"

namespace airs::capi {
namespace {

// This thread's shard of every handle's use count: threads take shards in
// turn, so up to kUseShards threads never share one.
unsigned my_shard() noexcept {
  static std::atomic<unsigned> next{0};
  thread_local unsigned shard =
      next.fetch_add(1, std::memory_order_relaxed) % airs_runtime::kUseShards;
  return shard;
}

// Whether this thread is inside a callback of the runtime behind `h`. Reads
// only the callback's own context, never the runtime.
bool in_callback_of(const airs_runtime* h) noexcept {
  Ctx* c = current_ctx();
  return c && c->kernel->public_handle == h;
}

}  // namespace

RuntimeUse::RuntimeUse(airs_runtime* h) noexcept {
  if (!h) {
    status_ = fail(AIRS_EINVAL, "runtime is NULL");
    return;
  }
  if (h->magic != airs_runtime::kMagic) {
    status_ = fail(AIRS_EINVAL, "not a runtime handle");
    return;
  }
  count_ = &h->uses[my_shard()].n;
  count_->fetch_add(1, std::memory_order_seq_cst);
  if (h->freeing.load(std::memory_order_seq_cst) && !in_callback_of(h)) {
    count_->fetch_sub(1, std::memory_order_release);
    count_ = nullptr;
    status_ = fail(AIRS_ESTATE, h->impl.load(std::memory_order_acquire)
                                    ? "the runtime is being freed"
                                    : "the runtime was freed");
    return;
  }
  rt_ = h->impl.load(std::memory_order_acquire);
  if (!rt_) {  // not reachable: a use that got here holds off the delete
    count_->fetch_sub(1, std::memory_order_release);
    count_ = nullptr;
    status_ = fail(AIRS_ESTATE, "the runtime was freed");
  }
}

bool claim_for_free(airs_runtime* h) noexcept {
  return !h->freeing.exchange(true, std::memory_order_seq_cst);
}

void wait_for_uses(airs_runtime* h) noexcept {
  // A shard at 0 stays free of older uses: a use that starts now sees the
  // flag and leaves without touching the runtime.
  for (auto& shard : h->uses) {
    for (int spins = 0; shard.n.load(std::memory_order_acquire) != 0; spins++) {
      if (spins < 1000)
        std::this_thread::yield();
      else  // a blocking call (a wait, a call) still runs: do not burn a core
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
}

}  // namespace airs::capi
