// alloc.hpp - the runtime's own allocations. With mimalloc (the default)
// they come from mimalloc's per-thread heaps through its API; the host's
// malloc/new are never replaced, since a plugin host owns its allocator.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

#ifdef AIRS_USE_MIMALLOC
#include <mimalloc.h>
#else
#include <cstdlib>
#endif

namespace airs {

inline void* mem_alloc(std::size_t size) noexcept {
#ifdef AIRS_USE_MIMALLOC
  return mi_malloc(size);
#else
  return std::malloc(size);
#endif
}

inline void mem_free(void* p) noexcept {
#ifdef AIRS_USE_MIMALLOC
  mi_free(p);
#else
  std::free(p);
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
