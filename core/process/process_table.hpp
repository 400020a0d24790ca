// process_table.hpp - slots for process records, indexed by the low half of
// a pid. Slots are allocated in chunks that are never moved or freed while
// the runtime lives, so a lookup by pid is always memory-safe; a lock-free
// stack recycles free slots.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "process/process.hpp"

namespace airs {

class ProcessTable {
 public:
  static constexpr uint32_t kChunkBits = 15;
  static constexpr uint32_t kChunkSize = 1u << kChunkBits;
  static constexpr std::size_t kChunkBytes = sizeof(Process) * kChunkSize;

  explicit ProcessTable(uint32_t max_processes);
  ~ProcessTable();
  ProcessTable(const ProcessTable&) = delete;
  ProcessTable& operator=(const ProcessTable&) = delete;

  // The record of slot `index`, or nullptr if that slot was never used.
  Process* slot(uint32_t index) const noexcept {
    uint32_t c = index >> kChunkBits;
    if (c >= chunk_count_) return nullptr;
    Process* chunk = chunks_[c].load(std::memory_order_acquire);
    return chunk ? chunk + (index & (kChunkSize - 1)) : nullptr;
  }

  // The record a pid names if its slot exists (the caller still checks the
  // generation), else nullptr.
  Process* lookup(uint64_t pid) const noexcept {
    return pid ? slot(pid_slot(pid)) : nullptr;
  }

  // A free slot's index, or false when max_processes slots are in use or
  // memory ran out.
  bool acquire(uint32_t* index) noexcept;
  // Gives a slot back; a slot whose generation is exhausted is retired.
  void release(uint32_t index) noexcept;

  // Slots whose records are made, all below this (what scans may read: a
  // slot above it may still be under construction by a spawn).
  uint32_t high_water() const noexcept {
    return made_.load(std::memory_order_acquire);
  }
  // Slots handed out so far, made or being made (the process limit).
  uint32_t handed_out() const noexcept {
    return high_water_.load(std::memory_order_acquire);
  }

 private:
  bool ensure_chunk(uint32_t chunk) noexcept;

  uint32_t max_;
  uint32_t chunk_count_;
  std::atomic<Process*>* chunks_;
  std::atomic<uint32_t> high_water_{0};  // handed out
  std::atomic<uint32_t> made_{0};        // records made, in slot order
  std::atomic<uint64_t> free_head_{0};   // (aba tag << 32) | (index + 1)
  std::mutex grow_mu_;
};

}  // namespace airs
