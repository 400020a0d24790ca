// job.hpp - one request's work on the blocking pool. The fs actor and the
// file actors check a request in their turn (wire.hpp), then hand it to a
// job; the job does the system calls and builds the reply itself, so the
// actor only forwards it (airs_reply_to) when the completion comes back.
//
// A reply is built on a shared payload: the completion message and the
// reply the actor sends then share its bytes, with no copy.
//
// threads: submit and forward run in the actor's callback; the job on a
// pool thread; job_free wherever the pool frees the job's argument.
#pragma once

#include <cstdint>

#include "airs/airs.h"
#include "file_ref.hpp"
#include "wire.hpp"

namespace airs::osl::fs {

struct Job {
  airs_runtime* rt = nullptr;
  airs_payload* bytes = nullptr;  // the request's bytes: req.data is in it
  airs_pid owner = AIRS_NO_PID;   // OPEN: who opened (the file's owner)
  FileRef* file = nullptr;        // file requests: the descriptor, held
  uint64_t correlation = 0;       // the request's, while the job is queued
  Job* next = nullptr;            // a file actor's queue
  Request req;
};

// Makes the job of a request message: parses it and holds its bytes.
// *out is the caller's until job_submit. False on failure, with *why
// filled: EINVAL (bad input, the reason in its text) or ENOMEM.
bool job_new(airs_runtime* rt, const airs_msg* request, Job** out,
             airs_osl_result* why) noexcept;

// Frees a job (and lets go of its bytes and file). NULL is fine.
void job_free(void* job) noexcept;

// Queues `job` as a FAST job whose completion goes to `reply_to`; *id
// gets the job id. The job is the pool's in every case (freed on
// failure).
airs_status job_submit(Job* job, airs_pid reply_to, uint64_t* id) noexcept;

// The reply an actor sends for the completion `done` of a job: a new
// message sharing its bytes. NULL if `done` carries none (the job could
// not build its reply: out of memory) or on ENOMEM.
airs_msg* job_forward(const airs_msg* done) noexcept;

// A reply holding only a failed result, built as job replies are.
airs_msg* reply_failed(uint64_t type, const airs_osl_result& why) noexcept;

// Answers request `correlation` of type `type` with a failed result, from
// the actor's callback, for a request that never reaches the pool (bad
// bytes, a refused submit, a file closed before its turn).
void answer_failed(airs_ctx* ctx, uint64_t correlation, uint64_t type,
                   const airs_osl_result& why) noexcept;

// A message in the fs range that `who` ("the fs actor", "a file actor")
// does not take: a request (it has a correlation id) gets an EINVAL
// reply saying so; a plain send is ignored.
void refuse_unknown(airs_ctx* ctx, const airs_msg* msg,
                    const char* who) noexcept;

}  // namespace airs::osl::fs
