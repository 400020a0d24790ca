#include "base/alloc.hpp"

namespace airs {

std::atomic<int64_t> alloc_faults{0};

}  // namespace airs
