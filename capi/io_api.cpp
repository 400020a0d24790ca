// io_api.cpp - the blocking pool's jobs.
#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

namespace {

// A job spec the pool can take, or why not (its arg_free is the caller's
// to run then).
airs_status check_job(const airs_job* job) {
  if (!job) return fail(AIRS_EINVAL, "job is NULL");
  if (job->version != AIRS_JOB_VERSION)
    return failf(AIRS_EINVAL, "job version %u is not %u", job->version,
                 AIRS_JOB_VERSION);
  if (job->size < sizeof(airs_job))
    return failf(AIRS_EINVAL, "job size %u is below %zu", job->size,
                 sizeof(airs_job));
  int cls = as_int(job->job_class);
  if (cls != AIRS_JOB_FAST && cls != AIRS_JOB_SLOW)
    return failf(AIRS_EINVAL, "unknown job class %d", cls);
  if (!job->run) return fail(AIRS_EINVAL, "job run is NULL");
  return AIRS_OK;
}

}  // namespace

extern "C" {

airs_status airs_job_init(airs_job* job) {
  return api("airs_job_init", [&] {
    if (!job) return fail(AIRS_EINVAL, "job is NULL");
    *job = airs_job{};
    job->version = AIRS_JOB_VERSION;
    job->size = sizeof(airs_job);
    job->job_class = AIRS_JOB_FAST;
    return AIRS_OK;
  });
}

airs_status airs_job_submit(airs_runtime* h, const airs_job* job,
                            uint64_t* id) {
  return api("airs_job_submit", [&] {
    RuntimeUse use(h);
    airs_status st = use.status();
    if (st == AIRS_OK) st = check_job(job);
    if (st != AIRS_OK) {
      // arg_free runs on every failure, as the header says; a job too
      // malformed to read (NULL, wrong size) has none to run.
      if (job && job->size >= sizeof(airs_job) && job->arg_free)
        job->arg_free(job->arg);
      return st;
    }
    return use.runtime()->jobs().submit(*job, id);
  });
}

airs_status airs_job_cancel(airs_runtime* h, uint64_t id) {
  return api("airs_job_cancel", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    return use.runtime()->jobs().cancel(id);
  });
}

airs_status airs_job_stats_get(airs_runtime* h, airs_job_stats* out) {
  return api("airs_job_stats_get", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (airs_status st =
            check_versioned_out(out, "job stats", "AIRS_JOB_STATS_VERSION");
        st != AIRS_OK)
      return st;
    use.runtime()->jobs().stats(out);
    return AIRS_OK;
  });
}

}  // extern "C"
