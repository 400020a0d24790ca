// spin.hpp - the hint a spin-wait loop gives the CPU between two looks.
//
// On x86, PAUSE: the loop stops flooding the core with loads (its sibling
// hyperthread gets the core meanwhile), and leaves it without the pipeline
// flush a changed cache line would otherwise cost. Other CPUs get nothing
// here; a caller that must not burn the core there checks kCpuHasPause.
// Threads: any.
#pragma once

namespace airs {

#if defined(__x86_64__) || defined(__i386__)
constexpr bool kCpuHasPause = true;
#else
constexpr bool kCpuHasPause = false;
#endif

inline void cpu_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace airs
