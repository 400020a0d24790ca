// process_table.hpp - slots for process records, indexed by the slot bits
// of a pid (process.hpp), under the table's runtime tag. Slots are allocated in
// chunks that are never moved or freed while the runtime lives, so a lookup by
// pid is always memory-safe; a lock-free stack recycles free slots.
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
  // Room for every slot a pid can name: retired slots make the table grow
  // past max_processes (1 KiB of pointers per 4 Mi slots).
  static constexpr uint32_t kMaxChunks = kMaxSlots / kChunkSize;

  // wanted_tag: the pid tag to take (AIRS_CFG_PID_TAG), or 0 for any free
  // one. tag() is 0 if it could not be had (see Kernel::start).
  explicit ProcessTable(uint32_t max_processes, uint32_t wanted_tag = 0);
  ~ProcessTable();
  ProcessTable(const ProcessTable&) = delete;
  ProcessTable& operator=(const ProcessTable&) = delete;

  // The record of slot `index`, or nullptr if that slot was never used.
  Process* slot(uint32_t index) const noexcept {
    uint32_t c = index >> kChunkBits;
    if (c >= kMaxChunks) return nullptr;
    Process* chunk = chunks_[c].load(std::memory_order_acquire);
    return chunk ? chunk + (index & (kChunkSize - 1)) : nullptr;
  }

  // The record a pid names if it carries this table's tag and its slot
  // exists (the caller still checks the generation), else nullptr: a pid
  // of another runtime, or 0, names nothing here.
  Process* lookup(uint64_t pid) const noexcept {
    return pid_tag(pid) == tag_ ? slot(pid_slot(pid)) : nullptr;
  }

  // A pid of another runtime (not 0, another tag): a transport's to carry
  // (kernel/remote.hpp).
  bool foreign(uint64_t pid) const noexcept {
    return pid != 0 && pid_tag(pid) != tag_;
  }

  // This runtime's pid tag (pid_tag.hpp), or 0 if every tag was in use
  // when the table was made (the runtime must not start).
  uint32_t tag() const noexcept { return tag_; }

  // A free slot's index, or false when max_processes slots are in use or
  // memory ran out. Retired slots do not count against max_processes.
  bool acquire(uint32_t* index) noexcept;
  // Gives a slot back; a slot whose generation is exhausted is retired.
  void release(uint32_t index) noexcept;

  // Slots whose records are made, all below this (what scans may read: a
  // slot above it may still be under construction by a spawn).
  uint32_t high_water() const noexcept {
    return made_.load(std::memory_order_acquire);
  }
  // Slots handed out so far, made or being made.
  uint32_t handed_out() const noexcept {
    return high_water_.load(std::memory_order_acquire);
  }
  // Whether acquire failed for the limit rather than for memory: every
  // slot up to max_processes (retired ones aside) is handed out.
  bool at_limit() const noexcept { return handed_out() >= usable(); }

 private:
  bool ensure_chunk(uint32_t chunk) noexcept;
  // Slots that may be handed out: max_processes plus the retired.
  uint32_t usable() const noexcept {
    uint64_t n = uint64_t{max_} + retired_.load(std::memory_order_acquire);
    return n < kMaxSlots ? static_cast<uint32_t>(n) : kMaxSlots;
  }

  uint32_t tag_;
  uint32_t max_;
  std::atomic<uint32_t> retired_{0};  // slots that used every generation
  std::atomic<Process*>* chunks_;
  std::atomic<uint32_t> high_water_{0};  // handed out
  std::atomic<uint32_t> made_{0};        // records made, in slot order
  std::atomic<uint64_t> free_head_{0};   // (aba tag << 32) | (index + 1)
  std::mutex grow_mu_;
};

}  // namespace airs
