// runtime.hpp - one runtime: the composition root. It owns the kernel (the
// engine: kernel/kernel.hpp) and the services, wires them together (the
// seam they use, the naming service spawn registers names with, the exit
// observers), hands them out, and stops them in order.
//
//   runtime.cpp    creating and freeing
//   shutdown.cpp   stopping every process: trees top-down, then the rest
//   transport.cpp  installing a transport, and losing another runtime
//   describe.cpp   a process's name, label and supervisor, for crash reports
#pragma once

#include <cstdint>
#include <vector>

#include "airs/airs.h"
#include "base/config.hpp"
#include "broker/broker.hpp"
#include "broker/request.hpp"
#include "io/job_pool.hpp"
#include "io/reactor.hpp"
#include "io/sockets.hpp"
#include "kernel/kernel.hpp"
#include "kernel/seam.hpp"
#include "naming/pools.hpp"
#include "naming/registry.hpp"
#include "observe/sources.hpp"
#include "observe/timing.hpp"
#include "runtime/describe.hpp"
#include "supervision/supervision.hpp"

namespace airs {

class Runtime {
 public:
  // A started runtime, or nullptr with *status set (EINVAL for a config
  // that cannot work, ENOMEM, or EINTERNAL when a thread could not be
  // started). [any thread]
  static Runtime* create(const Config& cfg, airs_status* status) noexcept;
  // Frees everything; call shutdown() first. [not inside a callback]
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Stops every process and every thread (airs_runtime_free): see
  // shutdown.cpp. [not inside a callback; once]
  void shutdown() noexcept;

  Kernel& kernel() noexcept { return kernel_; }
  Registry& registry() noexcept { return registry_; }
  Timing& timing() noexcept { return timing_; }
  MetricsSources& metrics_sources() noexcept { return metrics_sources_; }
  Pools& pools() noexcept { return pools_; }
  Broker& broker() noexcept { return broker_; }
  Requests& requests() noexcept { return requests_; }
  Supervision& supervision() noexcept { return supervision_; }
  JobPool& jobs() noexcept { return jobs_; }
  Reactor& reactor() noexcept { return reactor_; }
  Sockets& sockets() noexcept { return sockets_; }

  // transport.cpp (airs/transport.h). Installs or removes the transport,
  // then tells a new one of the topics with subscribers and the pools'
  // local members. ENOMEM. [any thread, not inside a transport's call]
  airs_status set_transport(const airs_transport* t, void* user_data) noexcept;
  // The runtime of pid tag `tag` is lost: its members leave the pools,
  // then every tie to its processes breaks (Signals::node_down). [any
  // thread, not inside a transport's send]
  airs_status transport_node_down(uint32_t tag) noexcept;

 private:
  explicit Runtime(const Config& cfg);  // throws std::bad_alloc
  // shutdown.cpp
  uint32_t count_live(bool roots_only) const noexcept;
  void wait_for_exits(uint64_t timeout_ms, bool roots_only) noexcept;
  void stop_processes(bool roots_only, std::vector<uint64_t>& told) noexcept;
  void kill_live() noexcept;
  // How long free waits for the killed to end before it sweeps again.
  static constexpr uint64_t kKillSweepMs = 20;

  // In construction order; the services are destroyed before the kernel.
  Kernel kernel_;
  Seam seam_;
  Registry registry_;
  Timing timing_;
  MetricsSources metrics_sources_;
  Pools pools_;
  Broker broker_;
  Requests requests_;
  Supervision supervision_;
  JobPool jobs_;
  Reactor reactor_;
  Sockets sockets_;
  RuntimeDescriber describer_;
};

}  // namespace airs
