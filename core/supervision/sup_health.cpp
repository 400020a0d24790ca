// sup_health.cpp - health checks. Every interval the supervisor asks each
// running child that has a health callback; the child answers from its own
// turn (its callbacks never run concurrently). A FAILED answer, or none
// within the timeout, counts; `threshold` in a row stop the child with an
// error reason, and its exit is then handled like any crash.
#include <cstring>

#include "base/error.hpp"
#include "supervision/supervisor.hpp"

namespace airs {

void Supervisor::health_tick() {
  health_timer_ = 0;
  // During a restart or stop the children are in flux: skip this round.
  if (job_.kind == Job::kNone) {
    uint64_t round = ++health_round_;
    bool asked = false;
    for (Child& ch : children_) {
      if (ch.state != AIRS_CHILD_RUNNING || ch.health_round || ch.rec.sup ||
          !ch.rec.start->behaviour.health)
        continue;
      bool sent = false;
      uint64_t pid = ch.pid;
      outside([&] { sent = seam_.probe_health(pid, self_, round); });
      if (sent) {
        ch.health_round = round;
        asked = true;
      }
    }
    if (asked)
      health_timeout_timer_ =
          self_timer(flags_.health_timeout_ms, kMsgSupHealthTimeout, round);
  }
  health_timer_ = self_timer(flags_.health_interval_ms, kMsgSupHealthTick, 0);
}

void Supervisor::health_answer(uint64_t pid, uint64_t round, int32_t health) {
  Child* ch = by_pid(pid);
  if (!ch || ch->health_round != round) return;  // late: timed out already
  ch->health_round = 0;
  if (health == AIRS_HEALTH_FAILED) {
    health_failed(*ch);
    return;
  }
  ch->health_fails = 0;
  if (health == AIRS_HEALTH_DEGRADED)
    emit(AIRS_EVENT_HEALTH_DEGRADED, ch, pid, 0, 0, nullptr,
         AIRS_SEVERITY_WARNING);
}

void Supervisor::health_timeout(uint64_t round) {
  if (round == health_round_) health_timeout_timer_ = 0;
  for (Child& ch : children_)
    if (ch.health_round == round && ch.state == AIRS_CHILD_RUNNING) {
      ch.health_round = 0;
      health_failed(ch);
    }
}

void Supervisor::health_failed(Child& ch) {
  ch.health_fails++;
  emit(AIRS_EVENT_HEALTH_FAILED, &ch, ch.pid, 0, ch.health_fails, nullptr,
       AIRS_SEVERITY_WARNING);
  if (ch.health_fails < flags_.health_threshold || ch.health_stop) return;
  ch.health_fails = 0;
  ch.health_stop = true;
  ch.state = AIRS_CHILD_STOPPING;
  uint64_t pid = ch.pid;
  send_stop(ch, AIRS_EXIT_ERROR, AIRS_ETIMEDOUT, "health check failed");
  emit(AIRS_EVENT_CHILD_STOPPING, &ch, pid, 0, ch.rec.shutdown, nullptr);
}

}  // namespace airs
