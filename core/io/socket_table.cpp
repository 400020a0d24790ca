#include "io/socket_table.hpp"

#include <new>

#include "base/error.hpp"

namespace airs {

SocketTable::~SocketTable() {
  for (auto& c : chunks_) delete c.load(std::memory_order_relaxed);
}

airs_status SocketTable::take(Socket** out) noexcept {
  if (free_) {
    *out = free_;
    free_ = free_->next_free;
    (*out)->next_free = nullptr;
    return AIRS_OK;
  }
  uint32_t slot = made_.load(std::memory_order_relaxed);
  if (slot == limit_)
    return failf(AIRS_ELIMIT, "all %u socket records are in use", limit_);
  auto& chunk = chunks_[slot >> kChunkBits];
  Chunk* c = chunk.load(std::memory_order_relaxed);
  if (!c) {
    try {
      c = new Chunk;
    } catch (const std::bad_alloc&) {
      return fail(AIRS_ENOMEM, "no memory for socket records");
    }
    for (uint32_t i = 0; i < kChunk; i++)
      c->recs[i].slot = (slot & ~(kChunk - 1)) + i;
    chunk.store(c, std::memory_order_release);
  }
  made_.store(slot + 1, std::memory_order_release);
  *out = &c->recs[slot & (kChunk - 1)];
  return AIRS_OK;
}

void SocketTable::give_back(Socket& rec) noexcept {
  if (rec.uses == kMaxUses) return;  // retired: its ids are all given
  rec.next_free = free_;
  free_ = &rec;
}

}  // namespace airs
