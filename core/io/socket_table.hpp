// socket_table.hpp - the socket service's records and their ids, found
// from any thread without a lock and without a reference count.
//
// Why: every send and every readiness event looks its socket up. Behind
// one mutex and a shared_ptr per lookup, that was the runtime's biggest
// cost in echo_many (6 % of its time, the mutex's line and the count's
// moving between the cores on every round trip).
//
// How: records are never freed while the table lives. A closed record
// goes back to a free list and is used again under a new id, so a pointer
// from lookup() always points at a record, and which socket that record
// is now is decided under its own lock: the caller locks rec->mu and
// compares rec->id with the id it looked up (and finds fd >= 0). An id is
// the record's slot in its low kSlotBits bits and the slot's use count
// above them; a slot whose count would wrap is retired, so an id is never
// given twice (net.h's promise).
#pragma once

#include <atomic>
#include <cstdint>

#include "airs/airs.h"
#include "io/socket.hpp"

namespace airs {

class SocketTable {
 public:
  static constexpr unsigned kSlotBits = 20;  // 1,048,576 records at most
  static constexpr unsigned kChunkBits = 8;  // records are made 256 at once
  static constexpr uint32_t kRecords = 1u << kSlotBits;
  static constexpr uint64_t kMaxUses = (uint64_t(1) << (64 - kSlotBits)) - 1;

  // At most `limit` records (kRecords by default; the tests make it small
  // to reach the end).
  explicit SocketTable(uint32_t limit = kRecords) noexcept
      : limit_(limit < kRecords ? limit : kRecords) {}
  ~SocketTable();  // frees every record: no thread may still use one
  SocketTable(const SocketTable&) = delete;
  SocketTable& operator=(const SocketTable&) = delete;

  // The record of id's slot, or nullptr (a slot never made: not an id of
  // this table). Whether it still is `id`: lock rec->mu, compare rec->id.
  // threads: any. Takes no lock.
  Socket* lookup(uint64_t id) const noexcept {
    uint64_t slot = id & ((uint64_t(1) << kSlotBits) - 1);
    if ((id >> kSlotBits) == 0) return nullptr;  // use 0: never an id
    Chunk* c = chunks_[slot >> kChunkBits].load(std::memory_order_acquire);
    return c ? &c->recs[slot & (kChunk - 1)] : nullptr;
  }

  // A record for a new socket: off the free list, else a slot not used
  // yet. AIRS_ENOMEM: no memory for a chunk of records; AIRS_ELIMIT:
  // every record is in use (`limit` of them). The record's fields are
  // its last use's until the caller resets it, under its lock, with
  // next_id(). [the service's
  // table lock held: it guards the free list]
  airs_status take(Socket** out) noexcept;

  // The id of the record's next use: its slot and one more use.
  // [rec.mu held]
  static uint64_t next_id(Socket& rec) noexcept {
    return (++rec.uses << kSlotBits) | rec.slot;
  }

  // Back to the free list (its fd closed), or retired if its use count is
  // spent. [rec.mu and the service's table lock held]
  void give_back(Socket& rec) noexcept;

  // Calls f(rec) for each record ever made, in slot order. threads: the
  // service's stop, once no socket can be made. [no lock held]
  template <typename F>
  void each(F&& f) {
    uint32_t made = made_.load(std::memory_order_acquire);
    for (uint32_t slot = 0; slot < made; slot++)
      f(chunks_[slot >> kChunkBits]
            .load(std::memory_order_acquire)
            ->recs[slot & (kChunk - 1)]);
  }

 private:
  static constexpr uint32_t kChunk = 1u << kChunkBits;
  static constexpr uint32_t kChunks = kRecords / kChunk;
  struct Chunk {
    Socket recs[kChunk];
  };

  std::atomic<Chunk*> chunks_[kChunks] = {};
  const uint32_t limit_;
  std::atomic<uint32_t> made_{0};  // slots made; written under the table lock
  Socket* free_ = nullptr;         // through Socket::next_free
};

}  // namespace airs
