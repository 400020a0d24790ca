// prng.hpp - a small seeded pseudo-random generator: xoshiro256** (Blackman
// and Vigna), its state filled from one 64-bit seed by splitmix64, as its
// authors advise. Written here rather than taken from <random> because the
// seeded deterministic mode (sched/seeded.hpp) promises the same sequence
// for the same seed on every platform and library version, which
// std::uniform_int_distribution does not.
#pragma once

#include <cstdint>

namespace airs {

// One step of splitmix64: a good 64-bit mix of a counter.
inline uint64_t splitmix64(uint64_t* x) noexcept {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Prng {
 public:
  explicit Prng(uint64_t seed) noexcept {
    // splitmix64 never yields four zero words in a row, so the state is
    // never the all-zero one xoshiro cannot leave.
    for (uint64_t& w : s_) w = splitmix64(&seed);
  }

  uint64_t next() noexcept {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // A number in 0..n-1 (n > 0): the high half of a 64x64 product
  // (Lemire), whose bias is below 2^-32 for the small n it is used with.
  uint64_t below(uint64_t n) noexcept {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >>
                                 64);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }
  uint64_t s_[4];
};

}  // namespace airs
