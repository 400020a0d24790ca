#include "process/process_table.hpp"

#include <sys/mman.h>

#include <new>

#include "base/alloc.hpp"

namespace airs {

ProcessTable::ProcessTable(uint32_t max_processes)
    : max_(max_processes),
      chunk_count_((max_processes + kChunkSize - 1) / kChunkSize) {
  chunks_ = new std::atomic<Process*>[chunk_count_];
  for (uint32_t i = 0; i < chunk_count_; i++)
    chunks_[i].store(nullptr, std::memory_order_relaxed);
}

ProcessTable::~ProcessTable() {
  for (uint32_t i = 0; i < chunk_count_; i++) {
    Process* chunk = chunks_[i].load(std::memory_order_relaxed);
    if (!chunk) continue;
    for (uint32_t j = 0; j < kChunkSize; j++) chunk[j].~Process();
    munmap(chunk, sizeof(Process) * kChunkSize);
  }
  delete[] chunks_;
}

bool ProcessTable::ensure_chunk(uint32_t c) noexcept {
  if (chunks_[c].load(std::memory_order_acquire)) return true;
  std::lock_guard<std::mutex> lock(grow_mu_);
  if (chunks_[c].load(std::memory_order_relaxed)) return true;
  // Chunks come straight from the OS: page-aligned, and no allocator
  // rounding on a 768 KiB block (mimalloc's huge-block path costs a third
  // more resident memory per process here).
  if (alloc_fault()) return false;
  void* mem = mmap(nullptr, sizeof(Process) * kChunkSize,
                   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return false;
  Process* chunk = static_cast<Process*>(mem);
  for (uint32_t j = 0; j < kChunkSize; j++) new (chunk + j) Process();
  chunks_[c].store(chunk, std::memory_order_release);
  return true;
}

bool ProcessTable::acquire(uint32_t* index) noexcept {
  uint64_t head = free_head_.load(std::memory_order_acquire);
  while (static_cast<uint32_t>(head) != 0) {
    uint32_t idx = static_cast<uint32_t>(head) - 1;
    uint32_t next = slot(idx)->next_free.load(std::memory_order_relaxed);
    uint64_t tag = (head >> 32) + 1;
    if (free_head_.compare_exchange_weak(head, (tag << 32) | next,
                                         std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
      *index = idx;
      return true;
    }
  }
  uint32_t idx = high_water_.load(std::memory_order_relaxed);
  do {
    if (idx >= max_) return false;
    if (!ensure_chunk(idx >> kChunkBits)) return false;
  } while (!high_water_.compare_exchange_weak(idx, idx + 1,
                                              std::memory_order_acq_rel));
  *index = idx;
  return true;
}

void ProcessTable::release(uint32_t index) noexcept {
  Process* p = slot(index);
  // A pid is never reused: a slot that has used every generation retires.
  if (p->generation == UINT32_MAX) return;
  uint64_t head = free_head_.load(std::memory_order_acquire);
  for (;;) {
    p->next_free.store(static_cast<uint32_t>(head), std::memory_order_relaxed);
    uint64_t tag = (head >> 32) + 1;
    if (free_head_.compare_exchange_weak(head, (tag << 32) | (index + 1),
                                         std::memory_order_acq_rel,
                                         std::memory_order_acquire))
      return;
  }
}

}  // namespace airs
