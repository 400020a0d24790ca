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
  // The flag first: a signal after it writes again, so work that arrives
  // while we drain is never left without a readable fd.
  signalled_.store(false, std::memory_order_seq_cst);
  uint64_t count;
  ssize_t n = read(fd_, &count, sizeof count);
  (void)n;
}

}  // namespace airs
