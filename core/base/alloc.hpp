// alloc.hpp - the runtime's own allocations. With mimalloc (the default)
// they come from mimalloc's per-thread heaps through its API; the host's
// malloc/new are never replaced, since a plugin host owns its allocator.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#ifdef AIRS_USE_MIMALLOC
#include <mimalloc.h>
#else
#include <cstdlib>
#endif

namespace airs {

// Fault injection, for the tests of what running out of memory does:
// while alloc_faults is above 0, each allocation counts it down, and the
// one that brings it to 0 fails. (The tests count the std containers'
// allocations the same way, in their own operator new.) Costs one relaxed
// load per allocation when unused.
extern std::atomic<int64_t> alloc_faults;
bool alloc_fault_fires() noexcept;  // out of line: a place for a debugger

inline bool alloc_fault() noexcept {
  return alloc_faults.load(std::memory_order_relaxed) > 0 &&
         alloc_fault_fires();
}

inline void* mem_alloc(std::size_t size) noexcept {
  if (alloc_fault()) return nullptr;
#ifdef AIRS_USE_MIMALLOC
  return mi_malloc(size);
#else
  return std::malloc(size);
#endif
}

// `size` bytes aligned to `align` (a power of two dividing size); freed
// with mem_free.
inline void* mem_alloc_aligned(std::size_t size, std::size_t align) noexcept {
  if (alloc_fault()) return nullptr;
#ifdef AIRS_USE_MIMALLOC
  // mimalloc serves a page-sized request from blocks that are mostly page
  // aligned already, through its fast path; mi_malloc_aligned would take
  // twice the size for it.
  void* p = mi_malloc(size);
  if (!p || (reinterpret_cast<std::uintptr_t>(p) & (align - 1)) == 0) return p;
  mi_free(p);
  return mi_malloc_aligned(size, align);
#else
  return std::aligned_alloc(align, size);
#endif
}

inline void mem_free(void* p) noexcept {
#ifdef AIRS_USE_MIMALLOC
  mi_free(p);
#else
  std::free(p);
#endif
}

// Gives memory the allocator keeps for reuse back to the system, now
// rather than after its own delay: for the library's unload, which frees
// what it held for the whole process (capi/runtime_api.cpp). [any thread]
inline void mem_give_back() noexcept {
#ifdef AIRS_USE_MIMALLOC
  mi_collect(true);
#endif
}

// new/delete for the runtime's own objects, through mem_alloc. Returns
// nullptr when memory runs out (constructors here do not throw).
template <class T, class... Args>
T* make(Args&&... args) noexcept {
  void* p = mem_alloc(sizeof(T));
  if (!p) return nullptr;
  return new (p) T(std::forward<Args>(args)...);
}

template <class T>
void destroy(T* p) noexcept {
  if (!p) return;
  p->~T();
  mem_free(p);
}

}  // namespace airs
