// envelope_pool.cpp - the envelope pool's slow paths: batches between a
// thread's cache and the depot, slabs carved from chunks, and the cache
// given back when its thread ends.
#include "mail/envelope_pool.hpp"

#include <pthread.h>

#include <mutex>

namespace airs {

thread_local EnvelopeCache tls_envelopes;

namespace {

constexpr std::size_t kChunkBytes = std::size_t{2} << 20;
constexpr std::size_t kSlabBytes = std::size_t{64} << 10;

// Batches of free envelopes and the chunk slabs are carved from. Constant
// initialized and trivially destructible: a thread that ends after the
// process's static destructors still finds it.
struct Depot {
  std::mutex mu;
  FreeEnvelope* batches = nullptr;
  std::size_t free = 0;   // envelopes in `batches`
  char* carve = nullptr;  // the uncarved rest of the newest chunk
  char* carve_end = nullptr;
  std::size_t chunks = 0;
  // Chunks are kept reachable from here, for leak checkers: an envelope
  // in a chunk may be the only reference to a payload.
  void* chunk_list = nullptr;
};
constinit Depot depot;

// [depot.mu] Takes a batch; false if there is none.
bool take_batch(EnvelopeCache& c) {
  FreeEnvelope* b = depot.batches;
  if (!b) return false;
  depot.batches = b->next_batch;
  depot.free -= b->count;
  c.free = b;
  c.count = static_cast<uint32_t>(b->count);
  return true;
}

// [depot.mu] Adds the list `head` of `count` envelopes as one batch.
void put_batch(FreeEnvelope* head, std::size_t count) {
  head->next_batch = depot.batches;
  head->count = count;
  depot.batches = head;
  depot.free += count;
}

// [depot.mu] A new 2 MiB chunk to carve slabs from; false without memory.
// Its first envelope-sized block links the chunk list.
bool new_chunk() {
  // Small pages: no MADV_HUGEPAGE (until 2026-12-07), for the reason
  // process_table.cpp gives. fanin's backlog of 615 MB took 203-239 ns
  // a message in huge pages when the run began seconds after the last
  // one (1.8-2.0 s of system time), 34-50 ns in small ones (0.3-0.5 s).
  char* chunk = static_cast<char*>(mem_alloc_aligned(kChunkBytes, kChunkBytes));
  if (!chunk) return false;
#ifdef AIRS_ASAN
  ASAN_POISON_MEMORY_REGION(chunk + kEnvelopeBytes,
                            kChunkBytes - kEnvelopeBytes);
#endif
  *reinterpret_cast<void**>(chunk) = depot.chunk_list;
  depot.chunk_list = chunk;
  depot.carve = chunk + kEnvelopeBytes;
  depot.carve_end = chunk + kChunkBytes;
  depot.chunks++;
  return true;
}

// [depot.mu] Gives `c` a slab (at most kSlabBytes) to carve; false
// without memory.
bool new_slab(EnvelopeCache& c) {
  if (depot.carve == depot.carve_end && !new_chunk()) return false;
  std::size_t n = static_cast<std::size_t>(depot.carve_end - depot.carve);
  if (n > kSlabBytes) n = kSlabBytes;
  c.bump = depot.carve;
  c.bump_end = depot.carve + n;
  depot.carve += n;
  return true;
}

// The rest of the slab, as one list of free envelopes (thread exit).
FreeEnvelope* slab_as_list(EnvelopeCache& c, std::size_t* count) {
  FreeEnvelope* head = nullptr;
  *count = 0;
  while (c.bump_end != c.bump) {
    c.bump_end -= kEnvelopeBytes;
    envelope_unpoison(c.bump_end);
    auto* e = reinterpret_cast<FreeEnvelope*>(c.bump_end);
    e->next = head;
    envelope_poison(e);
    head = e;
    ++*count;
  }
  return head;
}

// Gives the cache back to the depot and sends the thread's later frees and
// allocations there directly: a thread-local destructor that runs after
// this one may still free an envelope.
void retire(EnvelopeCache& c) {
  std::size_t rest;
  FreeEnvelope* slab = slab_as_list(c, &rest);
  std::lock_guard<std::mutex> lock(depot.mu);
  if (c.free) put_batch(c.free, c.count);
  if (c.spare) put_batch(c.spare, c.spare->count);
  if (slab) put_batch(slab, rest);
  c.free = c.spare = nullptr;
  c.count = kEnvelopeBatch;  // every free takes the slow path
  c.retired = true;
}

// The thread-exit hook is a pthread key's destructor, not a thread_local
// object's: glibc keeps a library mapped for as long as any thread still
// has a thread_local destructor of it to run (__cxa_thread_atexit), so a
// host thread that once sent a message would keep libairs in memory after
// its dlclose, for as long as that thread lives. A key is not tied to the
// library, so envelope_pool_unload deletes it before the code goes.
// glibc runs key destructors after the thread_local ones, so few frees
// come after the retire.
pthread_key_t exit_key;
pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
bool exit_key_made = false;  // written once, under exit_key_once

void on_thread_exit(void*) {
  retire(tls_envelopes);
}

void make_exit_key() {
  exit_key_made = pthread_key_create(&exit_key, on_thread_exit) == 0;
}

// Registers the cache's thread-exit hook: the first time a thread needs
// memory from the depot, before it holds any. Without a key (the process
// ran out of them) the thread goes to the depot directly, as an ending one
// does: slower, but nothing is lost when it ends.
void enroll(EnvelopeCache& c) {
  pthread_once(&exit_key_once, make_exit_key);
  if (!exit_key_made || pthread_setspecific(exit_key, &c) != 0)
    c.retired = true;
  c.enrolled = true;
}

}  // namespace

void* envelope_alloc_slow(EnvelopeCache& c) noexcept {
  if (c.spare) {
    c.free = c.spare;
    c.count = static_cast<uint32_t>(c.spare->count);
    c.spare = nullptr;
    return envelope_pop(c);
  }
  if (c.bump != c.bump_end) {
    void* p = c.bump;
    c.bump += kEnvelopeBytes;
    envelope_unpoison(p);
    return p;
  }
  if (c.retired) {
    std::lock_guard<std::mutex> lock(depot.mu);
    if (!depot.batches && !new_slab(c)) return nullptr;
    if (!depot.batches) {
      std::size_t n;
      FreeEnvelope* list = slab_as_list(c, &n);
      put_batch(list, n);
    }
    FreeEnvelope* e = depot.batches;
    depot.free--;
    if (--e->count == 0) {
      depot.batches = e->next_batch;
    } else {
      FreeEnvelope* rest = e->next;
      rest->next_batch = e->next_batch;
      rest->count = e->count;
      depot.batches = rest;
    }
    envelope_unpoison(e);
    return e;
  }
  if (!c.enrolled) enroll(c);
  {
    std::lock_guard<std::mutex> lock(depot.mu);
    if (!take_batch(c) && !new_slab(c)) return nullptr;
  }
  if (c.free) return envelope_pop(c);
  return envelope_alloc_slow(c);  // carves the new slab
}

void envelope_free_slow(EnvelopeCache& c, void* p) noexcept {
  auto* e = static_cast<FreeEnvelope*>(p);
  e->next = nullptr;
  envelope_poison(e);
  if (c.retired) {
    std::lock_guard<std::mutex> lock(depot.mu);
    put_batch(e, 1);
    return;
  }
  if (c.spare) {
    std::lock_guard<std::mutex> lock(depot.mu);
    put_batch(c.spare, c.spare->count);
  }
  c.spare = c.free;  // kEnvelopeBatch or more (a batch from the depot)
  c.spare->count = c.count;
  c.free = e;
  c.count = 1;
}

void envelope_pool_unload(bool give_back) noexcept {
  pthread_once(&exit_key_once, [] {});  // no key made after this
  if (exit_key_made) {
    pthread_key_delete(exit_key);
    exit_key_made = false;
  }
  if (!give_back) return;
  std::lock_guard<std::mutex> lock(depot.mu);
  void* chunk = depot.chunk_list;
  while (chunk) {
    void* next = *static_cast<void**>(chunk);
#ifdef AIRS_ASAN
    ASAN_UNPOISON_MEMORY_REGION(chunk, kChunkBytes);
#endif
    mem_free(chunk);
    chunk = next;
  }
  depot.batches = nullptr;
  depot.free = 0;
  depot.carve = depot.carve_end = nullptr;
  depot.chunks = 0;
  depot.chunk_list = nullptr;
  // This thread's cache pointed into the chunks: it starts afresh, on
  // the depot's slow path.
  tls_envelopes = EnvelopeCache{};
  tls_envelopes.enrolled = tls_envelopes.retired = true;
}

EnvelopePoolCounts envelope_pool_counts() noexcept {
  EnvelopePoolCounts n{};
  {
    std::lock_guard<std::mutex> lock(depot.mu);
    n.chunks = depot.chunks;
    n.depot_free = depot.free;
  }
  const EnvelopeCache& c = tls_envelopes;
  if (!c.retired) {
    n.cache_free = c.free ? c.count : 0;
    if (c.spare) n.cache_free += c.spare->count;
    n.cache_free +=
        static_cast<std::size_t>(c.bump_end - c.bump) / kEnvelopeBytes;
  }
  return n;
}

}  // namespace airs
