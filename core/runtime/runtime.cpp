// runtime.cpp - creating a runtime, and freeing it.
#include "runtime/runtime.hpp"

#include <new>

#include "base/error.hpp"

namespace airs {

Runtime::Runtime(const Config& cfg)
    : kernel_(cfg),
      seam_(kernel_),
      registry_(seam_),
      timing_(registry_),
      pools_(seam_),
      broker_(seam_, cfg.workers),
      requests_(seam_),
      supervision_(seam_),
      jobs_(seam_, cfg),
      reactor_(seam_, kernel_.cfg),
      sockets_(seam_, reactor_),
      describer_(registry_, supervision_, seam_) {
  kernel_.names = &registry_;
  kernel_.observer.describer = &describer_;
  kernel_.observer.timing = &timing_;
  registry_.set_watch(&timing_);
}

Runtime* Runtime::create(const Config& cfg, airs_status* status) noexcept {
  if ((*status = cfg.check()) != AIRS_OK) return nullptr;
  Runtime* rt = nullptr;
  try {
    rt = new Runtime(cfg);
  } catch (const std::bad_alloc&) {
    *status = fail(AIRS_ENOMEM, "out of memory");
    return nullptr;
  }
  *status = rt->kernel_.start();
  if (*status != AIRS_OK) {
    delete rt;
    return nullptr;
  }
  return rt;
}

Runtime::~Runtime() = default;

}  // namespace airs
