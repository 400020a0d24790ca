// file_actor.cpp - one open file as a process (Erlang's io device). The
// requests queue here and go to the pool one at a time, so the reads and
// writes at the file's position happen in the order they were asked; a
// close is queued like the rest. The descriptor is shared with the job
// running (file_ref.hpp) and closed when both let go, so no path leaks
// it: a close request, the owner's end (a monitor), a kill, or
// airs_runtime_free all end the actor, whose state's free lets go.
#include "file_actor.hpp"

#include <unistd.h>

#include <new>

#include "../reply.hpp"
#include "file_ref.hpp"
#include "job.hpp"

namespace airs::osl::fs {

namespace {

struct FileActor {
  FileRef* file = nullptr;
  airs_pid owner = AIRS_NO_PID;
  uint64_t monitor = 0;
  uint64_t running = 0;  // the job id on the pool, 0 when idle
  uint64_t running_correlation = 0;
  uint64_t running_type = 0;
  Job* head = nullptr;  // the requests waiting, oldest first
  Job* tail = nullptr;
};

void push(FileActor* s, Job* job) noexcept {
  job->next = nullptr;
  if (s->tail != nullptr) {
    s->tail->next = job;
  } else {
    s->head = job;
  }
  s->tail = job;
}

Job* pop(FileActor* s) noexcept {
  Job* job = s->head;
  if (job != nullptr) {
    s->head = job->next;
    if (s->head == nullptr) s->tail = nullptr;
  }
  return job;
}

void state_free(void* p) noexcept {
  auto* s = static_cast<FileActor*>(p);
  while (Job* job = pop(s)) job_free(job);
  file_ref_release(s->file);
  delete s;
}

airs_status file_init(void* user_data, airs_ctx* ctx, void** state) noexcept {
  auto* s = static_cast<FileActor*>(user_data);
  if (s->owner != AIRS_NO_PID) {
    airs_status st = airs_monitor(ctx, s->owner, &s->monitor);
    if (st != AIRS_OK) return st;  // a gone owner: a DOWN comes instead
  }
  *state = s;
  return AIRS_OK;
}

// Starts the next queued request if none runs. A refused submit (the
// runtime stops) is answered and the next one tried.
void pump(FileActor* s, airs_ctx* ctx) noexcept {
  while (s->running == 0 && s->head != nullptr) {
    Job* job = pop(s);
    uint64_t type = job->req.type;
    uint64_t corr = job->correlation;
    uint64_t id = 0;
    airs_status st = job_submit(job, airs_self(ctx), &id);  // takes job
    if (st != AIRS_OK) {
      airs_osl_result why;
      result_set(&why, st, 0, "the blocking pool refused the job");
      answer_failed(ctx, corr, type, why);
      continue;
    }
    s->running = id;
    s->running_correlation = corr;
    s->running_type = type;
  }
}

// A request: checked now, queued, run in its turn.
airs_status on_request(FileActor* s, airs_ctx* ctx,
                       const airs_msg* msg) noexcept {
  uint64_t corr = airs_msg_correlation(msg);
  if (corr == 0) return AIRS_OK;  // not a request: nobody to answer
  Job* job = nullptr;
  airs_osl_result why;
  if (!job_new(airs_ctx_runtime(ctx), msg, &job, &why)) {
    answer_failed(ctx, corr, airs_msg_type(msg), why);
    return AIRS_OK;
  }
  file_ref_retain(s->file);
  job->file = s->file;
  job->correlation = corr;
  push(s, job);
  pump(s, ctx);
  return AIRS_OK;
}

// The running job is done: its reply goes out, then the next one starts.
// After a close the actor ends, answering what was queued behind it.
airs_status on_done(FileActor* s, airs_ctx* ctx, const airs_msg* msg) noexcept {
  uint64_t corr = s->running_correlation;
  uint64_t type = s->running_type;
  s->running = 0;
  airs_msg* reply = job_forward(msg);
  if (reply == nullptr) {
    airs_osl_result why;
    result_set(&why, AIRS_ENOMEM, 0, "out of memory building the reply");
    answer_failed(ctx, corr, type, why);
  } else if (airs_reply_to(ctx, corr, reply) != AIRS_OK) {
    airs_msg_free(reply);
  }
  if (type != AIRS_MSG_FILE_CLOSE) {
    pump(s, ctx);
    return AIRS_OK;
  }
  airs_osl_result why;
  result_set(&why, AIRS_ESTATE, 0, "the file was closed");
  while (Job* job = pop(s)) {
    answer_failed(ctx, job->correlation, job->req.type, why);
    job_free(job);
  }
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
}

airs_status file_receive(void* state, airs_ctx* ctx,
                         const airs_msg* msg) noexcept {
  auto* s = static_cast<FileActor*>(state);
  uint64_t type = airs_msg_type(msg);
  if (type == AIRS_MSG_DOWN) {
    if (s->monitor != 0 && airs_msg_correlation(msg) == s->monitor)
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);  // owner gone
    return AIRS_OK;
  }
  if (s->running != 0 && airs_msg_sender(msg) == AIRS_NO_PID &&
      airs_msg_correlation(msg) == s->running &&
      (type == AIRS_MSG_JOB_DONE || type == AIRS_MSG_FS_REPLY(s->running_type)))
    return on_done(s, ctx, msg);
  if (type >= AIRS_MSG_FS_BASE && type < AIRS_MSG_FS_BASE + 0x80) {
    if (type >= AIRS_MSG_FILE_READ && type <= AIRS_MSG_FILE_CLOSE)
      return on_request(s, ctx, msg);
    refuse_unknown(ctx, msg, "a file actor");
  }
  return AIRS_OK;  // anything else is not for us
}

const airs_behaviour kFileBehaviour = {AIRS_BEHAVIOUR_VERSION,
                                       sizeof(airs_behaviour),
                                       file_init,
                                       file_receive,
                                       nullptr,
                                       nullptr,
                                       nullptr};

}  // namespace

airs_status file_actor_spawn(airs_runtime* rt, int fd, airs_pid owner,
                             airs_pid* out) noexcept {
  auto* s = new (std::nothrow) FileActor;
  FileRef* file = s != nullptr ? file_ref_new(fd) : nullptr;
  if (file == nullptr) {
    delete s;
    close(fd);
    return AIRS_ENOMEM;
  }
  s->file = file;
  s->owner = owner;
  // state_free runs once whatever happens, at once if the spawn fails.
  return airs_spawn(rt, &kFileBehaviour, s, state_free, nullptr, out);
}

}  // namespace airs::osl::fs
