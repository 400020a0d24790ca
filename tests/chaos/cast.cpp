// cast.cpp - the worker behaviour.
#include "cast.hpp"

#include <cstring>

namespace chaos {

const char* const kTopicNames[kTopics] = {"t0", "t1", "t2"};

namespace {

struct Worker {
  Cast* cast;
  int topic;
  uint32_t handled = 0;
};

airs_status worker_init(void* user_data, airs_ctx* ctx, void** state) {
  Cast* cast = static_cast<Cast*>(user_data);
  int topic = static_cast<int>(cast->next_topic++ % kTopics);
  airs_status st = airs_subscribe(cast->rt, kTopicNames[topic], airs_self(ctx));
  if (st != AIRS_OK) return st;
  cast->inits++;
  *state = new Worker{cast, topic};
  return AIRS_OK;
}

// Passes work to a peer on the same topic: picked by how much this worker
// has handled, so the choice is the same on a replay.
airs_status pass_work(Worker* w, airs_ctx* ctx, uint32_t ttl) {
  airs_pid peers[16];
  size_t n = 0;
  airs_status st =
      airs_topic_subscribers(w->cast->rt, kTopicNames[w->topic], peers, 16, &n);
  if (st != AIRS_OK || n == 0) return st;
  if (n > 16) n = 16;
  airs_pid to = peers[w->handled % n];
  st = airs_ctx_send(ctx, to, kWork, &ttl, sizeof ttl);
  return st == AIRS_ENOPROC ? AIRS_OK : st;  // a peer that just ended
}

airs_status worker_receive(void* state, airs_ctx* ctx, const airs_msg* m) {
  Worker* w = static_cast<Worker*>(state);
  w->handled++;
  switch (airs_msg_type(m)) {
    case kWork: {
      uint32_t ttl = 0;
      if (airs_msg_size(m) == sizeof ttl)
        std::memcpy(&ttl, airs_msg_data(m), sizeof ttl);
      return ttl > 0 ? pass_work(w, ctx, ttl - 1) : AIRS_OK;
    }
    case kCrash: return AIRS_EINTERNAL;
    case kExitNormal: return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
    case kExitError: return airs_exit(ctx, AIRS_EXIT_ERROR, 7, "told to");
    case kExitShutdown: return airs_exit(ctx, AIRS_EXIT_SHUTDOWN, 0, nullptr);
    case AIRS_MSG_EXIT: {
      const airs_reason* why = airs_msg_reason(m);
      return airs_exit(ctx, airs_reason_kind(why), airs_reason_code(why),
                       airs_reason_text(why));
    }
  }
  return AIRS_OK;
}

void worker_terminate(void* state, airs_ctx*, const airs_reason*) {
  Worker* w = static_cast<Worker*>(state);
  w->cast->terms++;
  delete w;
}

}  // namespace

const airs_behaviour kWorker = {AIRS_BEHAVIOUR_VERSION,
                                sizeof(airs_behaviour),
                                worker_init,
                                worker_receive,
                                worker_terminate,
                                nullptr,
                                nullptr};

void spec_freed(void* cast) {
  static_cast<Cast*>(cast)->specs_freed++;
}

void arg_freed(void* cast) {
  static_cast<Cast*>(cast)->args_freed++;
}

}  // namespace chaos
