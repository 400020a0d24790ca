// file_ref.hpp - one open descriptor shared by a file actor and the job
// running on it. The descriptor is closed when the last holder lets go:
// a file actor that ends while its job still reads must not close the
// descriptor under the job (the number could be reused by another open,
// and the job would then read someone else's file).
//
// threads: retain and release [any thread]; fd is used by one job at a
// time (a file actor runs one job at a time).
#pragma once

#include <unistd.h>

#include <atomic>
#include <new>

namespace airs::osl::fs {

struct FileRef {
  std::atomic<int> refs{1};
  int fd = -1;  // -1 once a close job has closed it
};

inline FileRef* file_ref_new(int fd) noexcept {
  auto* f = new (std::nothrow) FileRef;
  if (f != nullptr) f->fd = fd;
  return f;
}

inline void file_ref_retain(FileRef* f) noexcept {
  f->refs.fetch_add(1, std::memory_order_relaxed);
}

inline void file_ref_release(FileRef* f) noexcept {
  if (f == nullptr || f->refs.fetch_sub(1, std::memory_order_acq_rel) != 1)
    return;
  if (f->fd >= 0) close(f->fd);
  delete f;
}

}  // namespace airs::osl::fs
