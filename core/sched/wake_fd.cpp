#include "sched/wake_fd.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace airs {

WakeFd::~WakeFd() {
  if (fd_ >= 0) close(fd_);
}

bool WakeFd::open() noexcept {
  fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  return fd_ >= 0;
}

void WakeFd::signal() noexcept {
  if (signalled_.exchange(true, std::memory_order_acq_rel)) return;
  uint64_t one = 1;
  // EAGAIN only if the counter is near 2^64: it is readable then anyway.
  ssize_t n = write(fd_, &one, sizeof one);
  (void)n;
}

void WakeFd::clear() noexcept {
  // The drain first, then the flag. The other order loses wake-ups for
  // good: a signal between the flag and the read would write, the read
  // would take its write, and every later signal would see the flag set
  // and write nothing (tests/core/sched/test_wake_fd.cpp). In this order
  // a signal before the flag's store writes nothing, and the work it was
  // for is seen by the caller, who looks for work after the clear.
  uint64_t count;
  ssize_t n = read(fd_, &count, sizeof count);
  (void)n;
  signalled_.store(false, std::memory_order_seq_cst);
}

}  // namespace airs
