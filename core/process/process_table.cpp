#include "process/process_table.hpp"

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <thread>

#include "base/alloc.hpp"
#include "process/pid_tag.hpp"

namespace airs {

ProcessTable::ProcessTable(uint32_t max_processes, uint32_t wanted_tag)
    : tag_(wanted_tag ? pid_tag_take(wanted_tag) : pid_tag_acquire()),
      max_(max_processes) {
  // The destructor, which gives the tag back, does not run for a
  // constructor that throws: without this a runtime that ran out of memory
  // here kept its tag, and with AIRS_CFG_PID_TAG no runtime could have
  // that tag again in this process (EEXIST).
  try {
    chunks_ = new std::atomic<Process*>[kMaxChunks];
  } catch (...) {
    pid_tag_release(tag_);
    throw;
  }
  for (uint32_t i = 0; i < kMaxChunks; i++)
    chunks_[i].store(nullptr, std::memory_order_relaxed);
}

ProcessTable::~ProcessTable() {
  uint32_t made = high_water_.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < kMaxChunks; i++) {
    Process* chunk = chunks_[i].load(std::memory_order_relaxed);
    if (!chunk) continue;
    for (uint32_t j = 0; j < kChunkSize && i * kChunkSize + j < made; j++)
      chunk[j].~Process();
    munmap(chunk, kChunkBytes);
  }
  delete[] chunks_;
  pid_tag_release(tag_);
}

bool ProcessTable::ensure_chunk(uint32_t c) noexcept {
  if (chunks_[c].load(std::memory_order_acquire)) return true;
  std::lock_guard<std::mutex> lock(grow_mu_);
  if (chunks_[c].load(std::memory_order_relaxed)) return true;
  // Chunks come straight from the OS, zeroed: a record is made when its
  // slot is first handed out (acquire), so a runtime's memory grows with
  // its processes and not by whole chunks. A zeroed record reads as an
  // empty slot (pid 0, kFree) to a lookup that gets there first.
  //
  // Small pages, not transparent huge ones (madvise MADV_HUGEPAGE, until
  // 2026-12-07). A huge page faults once for 512 small ones, but the
  // kernel takes it from the free 2 MiB blocks, which a virtual machine
  // with free page reporting has given back to its host: each one is
  // then supplied again, page by page, as the kernel zeroes it. A
  // million spawns (193 MB) took 775-1038 ns an actor so, when the run
  // began seconds after the last one, against 275-472 in small pages
  // (0.60-0.74 s of system time against 0.12-0.14); right after another
  // run, huge pages were faster (243 against 330).
  if (alloc_fault()) return false;
  void* mem = mmap(nullptr, kChunkBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return false;
  chunks_[c].store(static_cast<Process*>(mem), std::memory_order_release);
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
    if (idx >= usable()) return false;
    if (!ensure_chunk(idx >> kChunkBits)) return false;
  } while (!high_water_.compare_exchange_weak(idx, idx + 1,
                                              std::memory_order_acq_rel));
  new (slot(idx)) Process();  // first use of the slot
  // Scans read records below `made_`: it moves past this slot once every
  // slot before it is made too (their spawns are at this same point).
  uint32_t made = idx;
  while (!made_.compare_exchange_weak(made, idx + 1, std::memory_order_release,
                                      std::memory_order_relaxed)) {
    made = idx;
    std::this_thread::yield();
  }
  *index = idx;
  return true;
}

void ProcessTable::release(uint32_t index) noexcept {
  Process* p = slot(index);
  // A pid is never reused: a slot that has used every generation retires.
  if (p->generation == kMaxGeneration) {
    retired_.fetch_add(1, std::memory_order_acq_rel);
    return;
  }
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
