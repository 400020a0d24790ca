#include "base/alloc.hpp"

namespace airs {

std::atomic<int64_t> alloc_faults{0};

bool alloc_fault_fires() noexcept {
  return alloc_faults.fetch_sub(1, std::memory_order_relaxed) == 1;
}

}  // namespace airs
