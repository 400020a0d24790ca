// wake_fd.hpp - the host's wake-up: an eventfd that is readable while a
// host-driven runtime has something to do (airs_runtime_fd, io.h). The
// scheduler signals it when work arrives from outside the poll, the timer
// service when a new earliest deadline is set; the poll clears it first
// and signals it again last if work is left.
//
// Signals coalesce: only the first signal after a clear writes to the
// eventfd, so a burst of sends from other threads costs one write.
#pragma once

#include <atomic>

namespace airs {

class WakeFd {
 public:
  WakeFd() = default;
  ~WakeFd();  // closes the fd
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;

  // Makes the eventfd (non-blocking, close-on-exec). false: errno says
  // why. [the creating thread, once]
  bool open() noexcept;
  int fd() const noexcept { return fd_; }

  // Makes the fd readable (if it is not already). threads: any. lock ok:
  // one atomic exchange, at most one write(2).
  void signal() noexcept;
  // Makes it unreadable; signals from now on write again. A signal that
  // races the clear may write nothing: the caller looks for work after
  // the clear, never before. [the poller]
  void clear() noexcept;

 private:
  int fd_ = -1;
  std::atomic<bool> signalled_{false};
};

}  // namespace airs
