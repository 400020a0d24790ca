// job.cpp - handing a checked request to the blocking pool, and passing
// its reply on (job.hpp).
#include "job.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

#include "../reply.hpp"
#include "ops.hpp"

namespace airs::osl::fs {

namespace {

// The request's bytes as a payload the job may keep: the message's own
// when it has one (airs_fs_req_new makes them so: no copy), else a copy.
airs_payload* hold_bytes(const airs_msg* m) noexcept {
  airs_payload* p = airs_msg_payload(m);
  if (p != nullptr) {
    airs_payload_retain(p);
    return p;
  }
  if (airs_payload_new(airs_msg_data(m), airs_msg_size(m), &p) != AIRS_OK)
    return nullptr;
  return p;
}

airs_msg* job_run(void* arg) noexcept {
  return run_op(*static_cast<Job*>(arg));
}

}  // namespace

bool job_new(airs_runtime* rt, const airs_msg* request, Job** out,
             airs_osl_result* why) noexcept {
  auto* job = new (std::nothrow) Job;
  if (job == nullptr) {
    result_set(why, AIRS_ENOMEM, 0, "out of memory");
    return false;
  }
  job->rt = rt;
  const void* data = airs_msg_data(request);
  size_t size = airs_msg_size(request);
  if (!parse(airs_msg_type(request), data, size, &job->req, why)) {
    delete job;
    return false;
  }
  job->bytes = hold_bytes(request);
  if (job->bytes == nullptr) {
    delete job;
    result_set(why, AIRS_ENOMEM, 0, "out of memory");
    return false;
  }
  // The data, if any, now lives in the held bytes (the same when shared).
  if (job->req.data != nullptr) {
    auto* base =
        static_cast<const unsigned char*>(airs_payload_data(job->bytes));
    job->req.data =
        base + (job->req.data - static_cast<const unsigned char*>(data));
  }
  *out = job;
  return true;
}

void job_free(void* arg) noexcept {
  auto* job = static_cast<Job*>(arg);
  if (job == nullptr) return;
  airs_payload_release(job->bytes);
  file_ref_release(job->file);
  delete job;
}

airs_status job_submit(Job* job, airs_pid reply_to, uint64_t* id) noexcept {
  airs_job j;
  airs_job_init(&j);
  j.job_class = AIRS_JOB_FAST;
  j.run = job_run;
  j.arg = job;
  j.arg_free = job_free;
  j.reply_to = reply_to;
  return airs_job_submit(job->rt, &j, id);  // frees job on failure
}

airs_msg* job_forward(const airs_msg* done) noexcept {
  airs_payload* p = airs_msg_payload(done);
  airs_msg* m = nullptr;
  if (p == nullptr ||
      airs_msg_new_shared(airs_msg_type(done), p, &m) != AIRS_OK)
    return nullptr;
  return m;
}

airs_msg* reply_failed(uint64_t type, const airs_osl_result& why) noexcept {
  unsigned char* buf = reply_alloc(0);
  if (buf == nullptr) return nullptr;
  memcpy(buf, &why, sizeof why);
  return reply_finish(type, buf, 0);
}

void answer_failed(airs_ctx* ctx, uint64_t correlation, uint64_t type,
                   const airs_osl_result& why) noexcept {
  airs_msg* m = reply_msg(AIRS_MSG_FS_REPLY(type), &why, nullptr, 0);
  if (m != nullptr && airs_reply_to(ctx, correlation, m) != AIRS_OK)
    airs_msg_free(m);
}

void refuse_unknown(airs_ctx* ctx, const airs_msg* msg,
                    const char* who) noexcept {
  uint64_t corr = airs_msg_correlation(msg);
  if (corr == 0) return;
  uint64_t type = airs_msg_type(msg);
  airs_osl_result why;
  result_set(&why, AIRS_EINVAL, 0, "message type %#llx is not a request of %s",
             static_cast<unsigned long long>(type), who);
  answer_failed(ctx, corr, type, why);
}

}  // namespace airs::osl::fs
