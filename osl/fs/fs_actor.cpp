// fs_actor.cpp - the file system actor (fs.h): each request is checked in
// its turn, then run as a job on the blocking pool; the job builds the
// reply, and when its completion comes back the actor passes it on to the
// requester (airs_reply_to, with the correlation id kept per job). The
// actor itself never blocks and keeps no file open: an open makes a file
// actor (file_actor.cpp), which owns the descriptor.
#include <new>
#include <unordered_map>

#include "../reply.hpp"
#include "base/error.hpp"
#include "job.hpp"

namespace airs::osl::fs {

namespace {

struct Waiting {
  uint64_t correlation;  // the request's, for airs_reply_to
  uint64_t type;         // the request's type
};

struct FsActor {
  std::unordered_map<uint64_t, Waiting> jobs;  // by job id
};

// user_data: non-NULL when airs_fs_start spawns the actor, which then
// registers itself here, so that a taken name fails the spawn and leaves
// nothing running. Under a supervisor the child spec's name does it.
airs_status fs_init(void* user_data, airs_ctx* ctx, void** state) noexcept {
  if (user_data != nullptr) {
    airs_status st =
        airs_register(airs_ctx_runtime(ctx), AIRS_OSL_FS_NAME, airs_self(ctx));
    if (st != AIRS_OK) return st;
  }
  auto* s = new (std::nothrow) FsActor;
  if (s == nullptr) return AIRS_ENOMEM;
  *state = s;
  return AIRS_OK;
}

// Jobs still running finish on their own; their completions then find
// no process and are dropped (dead letters), their requesters see the
// actor end (airs_call) or time out (airs_request).
void fs_terminate(void* state, airs_ctx*, const airs_reason*) noexcept {
  delete static_cast<FsActor*>(state);
}

// A request: checked here (bad input is answered at once), then given to
// the pool, its correlation id kept under the job's id.
airs_status on_request(FsActor* s, airs_ctx* ctx,
                       const airs_msg* msg) noexcept {
  uint64_t corr = airs_msg_correlation(msg);
  uint64_t type = airs_msg_type(msg);
  if (corr == 0) return AIRS_OK;  // not a request: nobody to answer
  Job* job = nullptr;
  airs_osl_result why;
  if (!job_new(airs_ctx_runtime(ctx), msg, &job, &why)) {
    answer_failed(ctx, corr, type, why);
    return AIRS_OK;
  }
  job->owner = airs_msg_sender(msg);
  uint64_t id = 0;
  airs_status st = job_submit(job, airs_self(ctx), &id);
  if (st != AIRS_OK) {
    result_set(&why, st, 0, "the blocking pool refused the job");
    answer_failed(ctx, corr, type, why);
    return AIRS_OK;
  }
  try {
    s->jobs.emplace(id, Waiting{corr, type});
  } catch (...) {
    // Nobody could be told of its completion: call it off if it has not
    // started (an open that ran anyway gives its file to the opener,
    // whose end closes it).
    airs_job_cancel(airs_ctx_runtime(ctx), id);
    result_set(&why, AIRS_ENOMEM, 0, "out of memory");
    answer_failed(ctx, corr, type, why);
  }
  return AIRS_OK;
}

// A job's completion: its reply goes to the one who asked.
void on_done(FsActor* s, airs_ctx* ctx, const airs_msg* msg) noexcept {
  auto it = s->jobs.find(airs_msg_correlation(msg));
  if (it == s->jobs.end()) return;  // not one of ours
  Waiting w = it->second;
  s->jobs.erase(it);
  airs_msg* reply = job_forward(msg);
  if (reply == nullptr) {
    airs_osl_result why;
    result_set(&why, AIRS_ENOMEM, 0, "out of memory building the reply");
    answer_failed(ctx, w.correlation, w.type, why);
  } else if (airs_reply_to(ctx, w.correlation, reply) != AIRS_OK) {
    airs_msg_free(reply);
  }
}

airs_status fs_receive(void* state, airs_ctx* ctx,
                       const airs_msg* msg) noexcept {
  auto* s = static_cast<FsActor*>(state);
  uint64_t type = airs_msg_type(msg);
  if (airs_msg_sender(msg) == AIRS_NO_PID &&
      (type == AIRS_MSG_JOB_DONE || type == AIRS_MSG_JOB_CANCELLED ||
       (type >= AIRS_MSG_FS_REPLY(AIRS_MSG_FS_READ) &&
        type <= AIRS_MSG_FS_REPLY(AIRS_MSG_FS_OPEN)))) {
    on_done(s, ctx, msg);
    return AIRS_OK;
  }
  if (type >= AIRS_MSG_FS_BASE && type < AIRS_MSG_FS_BASE + 0x80) {
    if (is_fs_request(type)) return on_request(s, ctx, msg);
    refuse_unknown(ctx, msg, "the fs actor");
  }
  return AIRS_OK;  // anything else is not for us
}

const airs_behaviour kFsBehaviour = {AIRS_BEHAVIOUR_VERSION,
                                     sizeof(airs_behaviour),
                                     fs_init,
                                     fs_receive,
                                     fs_terminate,
                                     nullptr,
                                     nullptr};

}  // namespace

}  // namespace airs::osl::fs

using airs::osl::fs::kFsBehaviour;

extern "C" AIRS_API airs_status airs_fs_child_spec(airs_child_spec* out) {
  if (out == nullptr)
    return airs::failf(AIRS_EINVAL, "airs_fs_child_spec: out is NULL");
  airs_child_spec_init(out);
  out->id = "fs";
  out->behaviour = &kFsBehaviour;
  out->restart = AIRS_RESTART_PERMANENT;
  out->shutdown = AIRS_SHUTDOWN_TIMEOUT;
  out->shutdown_ms = 5000;
  out->type = AIRS_CHILD_WORKER;
  out->name = AIRS_OSL_FS_NAME;
  return AIRS_OK;
}

extern "C" AIRS_API airs_status airs_fs_start(airs_runtime* rt, airs_pid* out) {
  if (rt == nullptr || out == nullptr)
    return airs::failf(AIRS_EINVAL, "airs_fs_start: %s is NULL",
                       rt == nullptr ? "rt" : "out");
  static int register_in_init;
  return airs_spawn(rt, &kFsBehaviour, &register_in_init, nullptr, nullptr,
                    out);
}
