// transport.cpp - where a transport (airs/transport.h) reaches more than
// the kernel: installing one, and losing another runtime, concern the
// services that keep state across runtimes too (the broker's topic
// interest, the pools' members).
#include "runtime/runtime.hpp"

#include "base/error.hpp"

namespace airs {

airs_status Runtime::set_transport(const airs_transport* t,
                                   void* user_data) noexcept {
  if (!kernel_.remote.set(t, user_data))
    return fail(AIRS_ENOMEM, "out of memory");
  if (t) {
    // A new transport hears of what is already there.
    broker_.replay_interest();
    pools_.replay_members();
  }
  return AIRS_OK;
}

airs_status Runtime::transport_node_down(uint32_t tag) noexcept {
  // Its members first: a process told of the loss below picks no more of
  // that runtime's pids.
  pools_.forget_runtime(tag);
  return kernel_.signals.node_down(tag);
}

}  // namespace airs
