#include "base/alloc.hpp"

#ifdef AIRS_USE_MIMALLOC
#include <dlfcn.h>
#endif

namespace airs {

std::atomic<int64_t> alloc_faults{0};

bool alloc_fault_fires() noexcept {
  return alloc_faults.fetch_sub(1, std::memory_order_relaxed) == 1;
}

#ifdef AIRS_USE_MIMALLOC
namespace {

// libmimalloc.so cannot go away while the process lives on: its
// constructor takes a pthread key whose destructor every thread that used
// it calls when it ends (a crash once its code is unmapped: mimalloc issue
// 809), it does not give its arenas back, and each new load takes another
// static TLS block until dlopen fails. A plugin host that unloads libairs
// would unload mimalloc with it (nothing else holds it), so libairs pins
// it as it loads: RTLD_NODELETE keeps it, with its key and its memory, for
// the next load of libairs to use again. Found by address, so the file the
// loader picked is the one pinned; when mimalloc is part of the same
// object (linked statically), there is nothing to pin.
struct PinMimalloc {
  PinMimalloc() noexcept {
    Dl_info mi{}, self{};
    if (!dladdr(reinterpret_cast<void*>(&mi_malloc), &mi) || !mi.dli_fname)
      return;
    if (dladdr(reinterpret_cast<void*>(&alloc_fault_fires), &self) &&
        self.dli_fbase == mi.dli_fbase)
      return;
    // NOLOAD: only marks the object already loaded; the reference it takes
    // is given back at once, the NODELETE mark stays.
    if (void* h = dlopen(mi.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE))
      dlclose(h);
  }
} pin_mimalloc;

}  // namespace
#endif

}  // namespace airs
