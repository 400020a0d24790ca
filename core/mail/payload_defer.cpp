// payload_defer.cpp - a worker thread's table of payload references held
// back (payload_defer.hpp).
#include "mail/payload_defer.hpp"

#include <cstdint>
#include <new>

#include "base/alloc.hpp"

namespace airs {

namespace {

// A turn handles up to 64 messages (the default budget), and the workers'
// subscribers go through the same window of payloads one after the other:
// 512 slots keep collisions in such a window rare.
constexpr unsigned kSlotBits = 9;
constexpr unsigned kSlots = 1u << kSlotBits;

struct HeldReleases {
  uint32_t used = 0;  // slots in use
  Payload* payload[kSlots] = {};
  uint64_t count[kSlots] = {};
};

// The table, on the heap: 8 KiB of static TLS would not fit in the room
// glibc keeps for a library loaded with dlopen (a plugin host's). Null:
// this thread releases at once. initial-exec: read by every message a
// worker releases.
__attribute__((tls_model("initial-exec"))) thread_local HeldReleases* held;

// Payloads come from one allocator, often in a row: a multiplicative hash
// spreads neighbours over the table.
unsigned slot_of(const Payload* p) noexcept {
  uint64_t x = reinterpret_cast<uintptr_t>(p) * 0x9E3779B97F4A7C15ull;
  return static_cast<unsigned>(x >> (64 - kSlotBits));
}

// Gives back every count in `h`. A free_fn that runs here may release
// another payload on this thread, into a slot already passed: the scan
// starts over until the table is empty.
void give_back_all(HeldReleases* h) noexcept {
  while (h->used > 0) {
    for (unsigned i = 0; h->used > 0 && i < kSlots; i++) {
      Payload* p = h->payload[i];
      if (!p) continue;
      uint64_t n = h->count[i];
      h->payload[i] = nullptr;
      h->used--;
      payload_release_n(p, n);  // the slot is free before free_fn runs
    }
  }
}

}  // namespace

void payload_defer_begin() noexcept {
  if (held) return;
  void* mem = mem_alloc(sizeof(HeldReleases));
  if (mem) held = new (mem) HeldReleases;  // no memory: release at once
}

void payload_defer_end() noexcept {
  HeldReleases* h = held;
  if (!h) return;
  held = nullptr;  // what free_fns release from here on goes back at once
  give_back_all(h);
  h->~HeldReleases();
  mem_free(h);
}

void payload_defer_flush() noexcept {
  HeldReleases* h = held;
  if (h) give_back_all(h);
}

void payload_release_deferred(Payload* p) noexcept {
  HeldReleases* h = held;
  if (!h) {
    payload_release(p);
    return;
  }
  unsigned i = slot_of(p);
  if (h->payload[i] == p) {
    h->count[i]++;
    return;
  }
  Payload* old = h->payload[i];
  uint64_t n = h->count[i];
  h->payload[i] = p;
  h->count[i] = 1;
  if (old)
    payload_release_n(old, n);  // may run a free_fn; the slot is p's now
  else
    h->used++;
}

}  // namespace airs
