// job_pool.hpp - the blocking pool: threads apart from the scheduler's
// workers that run jobs which may block (<airs/io.h>), and send each
// job's completion to its reply_to as a message through the seam; and the
// turns of processes spawned with AIRS_SPAWN_BLOCKING, as SLOW jobs.
//
// Queues. One FIFO per class. A thread that looks for work takes the
// oldest FAST job, else the oldest SLOW one if fewer than slow_max threads
// run SLOW jobs: however many slow jobs are stuck, max - slow_max threads
// are left for fast ones.
//
// Threads. Started on demand (a job is queued and no thread is idle),
// up to max; an idle thread above min ends after keepalive. A thread that
// ends hands its std::thread to the pool, which joins it later (the next
// submit, or stop): no thread of a freed runtime outlives the free, so
// the library can be unloaded, except a thread stuck in a job when stop's
// time runs out (below).
//
// Stop (at airs_runtime_free, after every process has ended). Queued jobs
// are cancelled (arg_free, no message: nobody is left). A process's turn
// still running (the last steps of an end) is waited for, as workers are
// joined. Running jobs get the time left of the shutdown timeout; a job
// still running then cannot be interrupted (a read from a FIFO with no
// writer), so its thread is let go: it keeps the pool's shared state (Core)
// alive, drops the completion when its job returns (the seam is gone by then),
// and ends. Only then may the library be unloaded; airs.h says so.
//
// Locking: one mutex (Core::mu), a leaf: nothing is called under it but
// the queues' own work. Jobs, arg_free, the completion's send (which may
// run the dead-letter hook) run with no lock held.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "airs/airs.h"
#include "base/config.hpp"
#include "kernel/seam.hpp"

namespace airs {

struct JobPoolCore;  // job_pool.cpp: what the pool's threads share with it

class JobPool {
 public:
  JobPool(Seam& seam, const Config& cfg);  // throws std::bad_alloc
  ~JobPool();                              // stop() first
  JobPool(const JobPool&) = delete;
  JobPool& operator=(const JobPool&) = delete;

  // Queues a copy of `job` (checked by the facade). On failure arg_free
  // has run. ESTATE: stopped. ENOMEM. threads: any. calls user code
  // (arg_free, on failure only). blocks: no.
  airs_status submit(const airs_job& job, uint64_t* id) noexcept;

  // Cancels a queued job: arg_free runs, reply_to gets
  // AIRS_MSG_JOB_CANCELLED. ENOTFOUND: running, done or never queued.
  // threads: any. calls user code (arg_free, the dead-letter hook).
  airs_status cancel(uint64_t id) noexcept;

  // Queues a turn of AIRS_SPAWN_BLOCKING process `p` as a SLOW job (the
  // scheduler's offload, Scheduler::set_offload; `self` is the pool).
  // false: stopped, no memory or no thread: a worker runs the turn.
  // threads: any. lock ok: takes the pool's leaf lock, runs no user code.
  static bool offload_turn(void* self, Process* p) noexcept;

  // Counters (airs_job_stats, version 1 fields). threads: any.
  void stats(airs_job_stats* out) const noexcept;

  // Cancels what is queued, waits for running jobs until `deadline`, lets
  // go of the threads still stuck then. After it no completion is sent.
  // threads: the freeing thread, once. calls user code (arg_free).
  void stop(std::chrono::steady_clock::time_point deadline) noexcept;

 private:
  std::shared_ptr<JobPoolCore> core_;
};

}  // namespace airs
