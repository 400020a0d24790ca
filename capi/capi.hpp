// capi.hpp - what every file of the C facade shares: turning handles into
// core objects with a clear status for bad ones, and the guard that keeps
// exceptions from crossing the ABI.
#pragma once

#include <atomic>
#include <cstring>
#include <new>

#include "airs/airs.h"
#include "base/error.hpp"
#include "kernel/runtime.hpp"

// A runtime handle outlives its runtime as a tombstone, so that a call
// with a freed handle is a clear AIRS_ESTATE instead of a use after free.
struct airs_runtime {
  static constexpr uint64_t kMagic = 0x61697273'72756e74ull;  // "airsrunt"
  uint64_t magic = kMagic;
  std::atomic<airs::Runtime*> impl{nullptr};
};

namespace airs::capi {

inline airs_status runtime_of(airs_runtime* h, const char* fn,
                              Runtime** out) noexcept {
  if (!h) return failf(AIRS_EINVAL, "%s: runtime is NULL", fn);
  if (h->magic != airs_runtime::kMagic)
    return failf(AIRS_EINVAL, "%s: not a runtime handle", fn);
  Runtime* rt = h->impl.load(std::memory_order_acquire);
  if (!rt) return failf(AIRS_ESTATE, "%s: the runtime was freed", fn);
  *out = rt;
  return AIRS_OK;
}

// A ctx is valid only on its thread, during its callback.
inline airs_status ctx_of(airs_ctx* c, const char* fn, Ctx** out) noexcept {
  if (!c) return failf(AIRS_EINVAL, "%s: ctx is NULL", fn);
  if (static_cast<Ctx*>(c) != current_ctx())
    return failf(AIRS_ESTATE, "%s: ctx used outside its callback", fn);
  *out = c;
  return AIRS_OK;
}

// The context of the callback running on this thread if it belongs to `rt`.
inline Ctx* caller_in(Runtime* rt) noexcept {
  Ctx* c = current_ctx();
  return c && c->rt == rt ? c : nullptr;
}

// A name (of a process, topic or pool) is 1..AIRS_NAME_MAX bytes. `what`
// names the argument in the message; *len (if not NULL) gets the length.
inline airs_status check_name(const char* name, const char* what,
                              const char* fn, size_t* len = nullptr) noexcept {
  if (!name) return failf(AIRS_EINVAL, "%s: %s is NULL", fn, what);
  size_t n = strnlen(name, AIRS_NAME_MAX + 1);
  if (n == 0) return failf(AIRS_EINVAL, "%s: %s is empty", fn, what);
  if (n > AIRS_NAME_MAX)
    return failf(AIRS_EINVAL, "%s: %s is longer than %d bytes", fn, what,
                 AIRS_NAME_MAX);
  if (len) *len = n;
  return AIRS_OK;
}

// Runs `body`, turning any exception into a status.
template <class F>
airs_status guarded(const char* fn, F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return failf(AIRS_ENOMEM, "%s: out of memory", fn);
  } catch (...) {
    return failf(AIRS_EINTERNAL, "%s: unexpected exception", fn);
  }
}

}  // namespace airs::capi
