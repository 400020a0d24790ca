// containers.hpp - the std containers that the core fills and empties on
// its hot paths (spawn, link, monitor, exit, restart), over the runtime's
// own allocations.
//
// The core's std containers would otherwise take their memory from the
// operator new that libairs binds to: libstdc++'s, over the host's malloc
// (libairs never replaces the host's new or malloc; meson.build puts
// libstdc++ before libmimalloc for that). Every process that links,
// monitors or restarts allocates in them, so they use mem_alloc as the
// rest of the runtime does. Out of memory still throws std::bad_alloc, as
// operator new would, so the code around them is unchanged.
//
// Threads: as the std containers (the allocator holds no state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <new>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/alloc.hpp"

namespace airs {

template <class T>
struct MemAllocator {
  using value_type = T;
  // mem_alloc's blocks are aligned as malloc's are.
  static_assert(alignof(T) <= alignof(std::max_align_t));

  MemAllocator() noexcept = default;
  template <class U>
  MemAllocator(const MemAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    void* p = mem_alloc(n * sizeof(T));
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) noexcept { mem_free(p); }

  template <class U>
  bool operator==(const MemAllocator<U>&) const noexcept {
    return true;
  }
};

template <class T>
using Vector = std::vector<T, MemAllocator<T>>;

template <class K, class V>
using HashMap = std::unordered_map<K, V, std::hash<K>, std::equal_to<K>,
                                   MemAllocator<std::pair<const K, V>>>;

}  // namespace airs
