// capi.hpp - what every file of the C facade shares: turning handles into
// core objects with a clear status for bad ones (runtime handles:
// handle.hpp), and api(), the one place that puts the C function's name in
// front of an error message.
//
// The facade checks its arguments (NULL pointers, handles, and values the
// core's limits.hpp judges), calls the core, and returns its status. It
// does no core work. The core never throws, so nothing needs catching
// here.
#pragma once

#include <atomic>
#include <cstring>

#include "airs/airs.h"
#include "base/error.hpp"
#include "base/limits.hpp"
#include "handle.hpp"
#include "runtime/runtime.hpp"

namespace airs::capi {

// Runs `body` (which returns an airs_status) and, if it fails, puts "fn: "
// in front of the thread's error message. Every extern "C" function that
// returns a status goes through it once.
template <class Body>
airs_status api(const char* fn, Body&& body) noexcept {
  airs_status st = body();
  if (st != AIRS_OK) error_prefix(fn);
  return st;
}

// The int a C caller passed as an enum, read without loading it as the
// C++ enum (an out-of-range value would be undefined there); the core's
// checks then judge it.
template <class Enum>
int as_int(const Enum& e) noexcept {
  static_assert(sizeof(Enum) == sizeof(int), "C enums are ints");
  int v;
  std::memcpy(&v, &e, sizeof v);
  return v;
}

// A ctx is valid only on its thread, during its callback.
inline airs_status ctx_of(airs_ctx* c, Ctx** out) noexcept {
  if (!c) return fail(AIRS_EINVAL, "ctx is NULL");
  if (static_cast<Ctx*>(c) != current_ctx())
    return fail(AIRS_ESTATE, "ctx used outside its callback");
  *out = c;
  return AIRS_OK;
}

// The runtime a callback's context belongs to.
inline Runtime* runtime_of(Ctx* c) noexcept {
  return static_cast<airs_runtime*>(c->kernel->public_handle)
      ->impl.load(std::memory_order_acquire);
}

// The checks of an out-struct the caller versions (version and size set
// first, as airs.h asks): not NULL, version 1 or later, and at least
// version 1's size; `version_macro` names what to set.
template <class Struct>
airs_status check_versioned_out(const Struct* out, const char* what,
                                const char* version_macro) noexcept {
  if (!out) return fail(AIRS_EINVAL, "out is NULL");
  if (out->version < 1 || out->size < sizeof(Struct))
    return failf(AIRS_EINVAL,
                 "%s version %u / size %u is not supported (set %s and "
                 "sizeof)",
                 what, out->version, out->size, version_macro);
  return AIRS_OK;
}

// The context of the callback running on this thread if it belongs to `rt`.
inline Ctx* caller_in(Runtime* rt) noexcept {
  return current_ctx_in(&rt->kernel());
}

}  // namespace airs::capi
