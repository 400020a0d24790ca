// envelope_pool.hpp - where 64-byte envelopes come from.
//
// A sink that falls behind holds millions of envelopes. From a general
// allocator, each 4 KiB of them is a fresh page: a page fault (about 3 us
// on a virtual machine) and a free list written through memory nobody has
// touched yet, which together took half the time of the fan-in benchmark.
// The pool carves envelopes from 2 MiB chunks (of small pages: see
// envelope_pool.cpp), and keeps every envelope it gets back for the next
// message instead of returning it.
//
// Each thread has a cache: a free list, one spare full batch, and the rest
// of a 64 KiB slab it carves by bumping a pointer. Envelopes are all alike,
// so one freed on a thread goes to that thread's cache whoever made it; a
// cache with a full list and a full spare hands one batch (kBatch
// envelopes) to the depot, and an empty cache takes one back before it
// carves a new slab. The depot is one mutex, taken once per kBatch
// envelopes. When a thread ends, its cache goes to the depot.
//
// The pool keeps the memory of its highest backlog until the process ends
// or the library is unloaded (envelope_pool_unload): that memory is what
// the next backlog reuses. (A runtime that must give
// it back sends fewer messages at once; see the mailbox capacity.)
//
// Threads: every function may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/alloc.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define AIRS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AIRS_ASAN 1
#endif
#endif
#ifdef AIRS_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace airs {

constexpr std::size_t kEnvelopeBytes = 64;

// A free envelope. The first three words link it into a cache or the depot;
// the rest is poisoned under AddressSanitizer until it is handed out again.
struct FreeEnvelope {
  FreeEnvelope* next;        // the next free envelope of its batch
  FreeEnvelope* next_batch;  // the next batch in the depot (head only)
  std::size_t count;         // envelopes in its batch (head only)
};

struct EnvelopeCache {
  FreeEnvelope* free;   // LIFO
  uint32_t count;       // on `free`; kBatch or more sends frees slow
  FreeEnvelope* spare;  // a full batch (its head has the count), or nullptr
  char* bump;           // the uncarved rest of this thread's slab
  char* bump_end;
  bool enrolled;  // the thread-exit hook that empties it is registered
  bool retired;   // the thread is ending: go straight to the depot
};

constexpr uint32_t kEnvelopeBatch = 256;

// initial-exec: read by every message made and freed.
extern thread_local EnvelopeCache tls_envelopes
    __attribute__((tls_model("initial-exec")));

void* envelope_alloc_slow(EnvelopeCache& c) noexcept;
void envelope_free_slow(EnvelopeCache& c, void* p) noexcept;

inline void envelope_unpoison(void* p) noexcept {
#ifdef AIRS_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, kEnvelopeBytes);
#else
  (void)p;
#endif
}

inline void envelope_poison(void* p) noexcept {
#ifdef AIRS_ASAN
  ASAN_POISON_MEMORY_REGION(static_cast<char*>(p) + sizeof(FreeEnvelope),
                            kEnvelopeBytes - sizeof(FreeEnvelope));
#else
  (void)p;
#endif
}

// [the cache's thread, c.free not null]
inline void* envelope_pop(EnvelopeCache& c) noexcept {
  FreeEnvelope* e = c.free;
  c.free = e->next;
  c.count--;
  envelope_unpoison(e);
  return e;
}

// kEnvelopeBytes bytes, aligned to them; nullptr when memory runs out (or
// an injected fault fires). [any thread]
inline void* envelope_alloc() noexcept {
  if (alloc_fault()) return nullptr;
  EnvelopeCache& c = tls_envelopes;
  if (!c.free) return envelope_alloc_slow(c);
  return envelope_pop(c);
}

// Gives back a block of envelope_alloc, made on any thread. [any thread]
inline void envelope_free(void* p) noexcept {
  EnvelopeCache& c = tls_envelopes;
  if (c.count >= kEnvelopeBatch) return envelope_free_slow(c, p);
  FreeEnvelope* e = static_cast<FreeEnvelope*>(p);
  e->next = c.free;
  c.free = e;
  c.count++;
  envelope_poison(e);
}

// The library is being unloaded (or the process exits): deletes the
// thread-exit hook's pthread key, whose destructor would otherwise be
// called by threads that end after the library's code is unmapped. With
// `give_back`, also frees every chunk, which only the caller can know to
// be safe: no runtime is alive, and no thread will make or free an
// envelope again (another thread's cache still points into the chunks).
// [one thread, once, with no runtime alive when give_back]
void envelope_pool_unload(bool give_back) noexcept;

// For tests: what the pool holds.
struct EnvelopePoolCounts {
  std::size_t chunks;      // 2 MiB chunks made
  std::size_t depot_free;  // envelopes waiting in the depot
  std::size_t cache_free;  // envelopes in this thread's cache
};
EnvelopePoolCounts envelope_pool_counts() noexcept;

}  // namespace airs
