// runtime.cpp - creating a runtime, and freeing it.
#include "runtime/runtime.hpp"

#include <new>

#include "base/error.hpp"

namespace airs {

Runtime::Runtime(const Config& cfg)
    : kernel_(cfg),
      seam_(kernel_),
      registry_(seam_),
      pools_(seam_),
      broker_(seam_, cfg.workers),
      requests_(seam_),
      supervision_(seam_) {
  kernel_.names = &registry_;
}

Runtime* Runtime::create(const Config& cfg, airs_status* status) noexcept {
  if (cfg.seed != 0 && cfg.workers != 0) {
    *status = fail(AIRS_EINVAL,
                   "AIRS_CFG_SEED needs host-driven mode (set "
                   "AIRS_CFG_WORKERS to 0)");
    return nullptr;
  }
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
