// rng.hpp - the chaos program's own random numbers: splitmix64 over a
// counter. Separate from the runtime's generator (which the same seed
// seeds inside airs), so that what the program does and the order the
// runtime picks are two independent draws from one seed.
#pragma once

#include <cstdint>

namespace chaos {

class Rng {
 public:
  explicit Rng(uint64_t seed) : x_(seed ^ 0x6368616F73ull) {}  // "chaos"

  uint64_t next() {
    uint64_t z = (x_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // 0..n-1 (n > 0).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }
  // true with probability pct/100.
  bool chance(uint32_t pct) { return below(100) < pct; }

 private:
  uint64_t x_;
};

}  // namespace chaos
