#include "process/pid_tag.hpp"

#include <atomic>
#include <cstdint>

#include "process/process.hpp"

namespace airs {
namespace {

constexpr uint32_t kWords = (kMaxTag + 1) / 64;

// Bit t of word t / 64: tag t is in use. Tag 0 never is handed out.
std::atomic<uint64_t> g_in_use[kWords];
// The last tag handed out; 0 until the first acquire picks a start.
std::atomic<uint32_t> g_last{0};

uint32_t start_point() noexcept {
  // Where this copy of the library is mapped (ASLR), mixed down to a tag.
  uint64_t x = reinterpret_cast<uintptr_t>(&g_last);
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return static_cast<uint32_t>(x % kMaxTag) + 1;
}

bool try_take(uint32_t tag) noexcept {
  uint64_t bit = uint64_t{1} << (tag % 64);
  return !(g_in_use[tag / 64].fetch_or(bit, std::memory_order_acq_rel) & bit);
}

}  // namespace

uint32_t pid_tag_acquire() noexcept {
  uint32_t last = g_last.load(std::memory_order_relaxed);
  if (last == 0) last = start_point();
  for (uint32_t i = 1; i <= kMaxTag; i++) {
    uint32_t tag = (last - 1 + i) % kMaxTag + 1;  // 1..kMaxTag, after last
    if (try_take(tag)) {
      g_last.store(tag, std::memory_order_relaxed);
      return tag;
    }
  }
  return 0;
}

uint32_t pid_tag_take(uint32_t tag) noexcept {
  if (tag == 0 || tag > kMaxTag) return 0;
  return try_take(tag) ? tag : 0;
}

void pid_tag_release(uint32_t tag) noexcept {
  if (tag == 0 || tag > kMaxTag) return;
  uint64_t bit = uint64_t{1} << (tag % 64);
  g_in_use[tag / 64].fetch_and(~bit, std::memory_order_acq_rel);
}

bool pid_tags_in_use() noexcept {
  for (const auto& word : g_in_use)
    if (word.load(std::memory_order_acquire) != 0) return true;
  return false;
}

}  // namespace airs
