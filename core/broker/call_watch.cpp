// call_watch.cpp - the call watcher: the hidden process that holds a
// monitor on each callee of another runtime while a blocking call waits
// for it (request.hpp). Its DOWN (the callee ended, its runtime was lost,
// it was gone already) wakes those calls with the reason, as the end of a
// local callee does; gen_server:call monitors its callee the same way.
//
// The calling thread asks the watcher to monitor the callee once the call
// has waited a while (Requests::wait_reply says why not at once) and to
// drop the monitor after the call; both asks come from one thread, so the
// watcher sees them in that order. A callee that ended before the monitor
// reached it answers it with noproc, which still ends the call at once.
#include <unordered_map>
#include <vector>

#include "base/error.hpp"
#include "broker/request.hpp"

namespace airs {

namespace {

// The asks (the callee's pid in the correlation id). System tags: no user
// can send them.
constexpr uint64_t kMsgWatchOn = AIRS_MSG_SYSTEM_BASE + 0x110;
constexpr uint64_t kMsgWatchOff = AIRS_MSG_SYSTEM_BASE + 0x111;

}  // namespace

// The watcher's state: its monitors by callee (one per call waiting on
// it). Touched only in the watcher's turns.
struct Requests::CallWatcher {
  Requests* requests;
  std::unordered_map<uint64_t, std::vector<uint64_t>> refs;

  static airs_status init(void* user_data, airs_ctx*, void** state) noexcept {
    auto* w =
        new (std::nothrow) CallWatcher{static_cast<Requests*>(user_data), {}};
    if (!w) return fail(AIRS_ENOMEM, "out of memory");
    *state = w;
    return AIRS_OK;
  }

  static airs_status receive(void* state, airs_ctx* c,
                             const airs_msg* m) noexcept {
    auto* w = static_cast<CallWatcher*>(state);
    Seam& seam = w->requests->seam_;
    uint64_t callee = m->correlation;
    if (m->type == kMsgWatchOn) {
      uint64_t ref = 0;
      try {
        std::vector<uint64_t>& mine = w->refs[callee];
        mine.reserve(mine.size() + 1);
        if (seam.monitor(c, callee, &ref) == AIRS_OK) mine.push_back(ref);
      } catch (const std::bad_alloc&) {
        // Out of memory: this call has its reply and its timeout only.
      }
    } else if (m->type == kMsgWatchOff) {
      auto it = w->refs.find(callee);
      if (it != w->refs.end()) {  // (none: its DOWN came already)
        seam.demonitor(c, it->second.back());
        it->second.pop_back();
        if (it->second.empty()) w->refs.erase(it);
      }
    } else if (m->type == AIRS_MSG_DOWN) {
      // The monitor is spent; every call still waiting on this callee
      // hears of its end.
      auto it = w->refs.find(m->sender);
      if (it != w->refs.end()) {
        std::vector<uint64_t>& mine = it->second;
        for (size_t i = 0; i < mine.size(); i++)
          if (mine[i] == m->correlation) {
            mine[i] = mine.back();
            mine.pop_back();
            break;
          }
        if (mine.empty()) w->refs.erase(it);
      }
      if (m->has_reason && m->reason)
        Requests::callee_ended(w->requests, m->sender, nullptr, m->reason);
    }
    return AIRS_OK;
  }

  static void terminate(void* state, airs_ctx*, const airs_reason*) noexcept {
    delete static_cast<CallWatcher*>(state);
  }
};

uint64_t Requests::call_watcher(bool spawn) noexcept {
  static const airs_behaviour kCallWatcher = {AIRS_BEHAVIOUR_VERSION,
                                              sizeof(airs_behaviour),
                                              CallWatcher::init,
                                              CallWatcher::receive,
                                              CallWatcher::terminate,
                                              nullptr,
                                              nullptr};
  std::lock_guard<std::mutex> lock(watcher_mu_);
  if (watcher_ && seam_.live(watcher_)) return watcher_;
  watcher_ = 0;
  if (!spawn || seam_.shutting_down()) return 0;
  airs_spawn_opts o{AIRS_SPAWN_OPTS_VERSION, sizeof o, 0, 0,
                    AIRS_MAILBOX_FAIL,       1000};  // unbounded
  SpawnArgs a{&kCallWatcher, this, nullptr, nullptr, &o};
  uint64_t pid = 0;
  if (seam_.spawn(a, &pid) == AIRS_OK) watcher_ = pid;
  return watcher_;
}

bool Requests::remote_watch(uint64_t callee, bool on) noexcept {
  // A watcher that is gone took its monitors with it: nothing to drop.
  uint64_t watcher = call_watcher(on);
  if (!watcher) return false;
  Msg* m = msg_new_copy(on ? kMsgWatchOn : kMsgWatchOff, nullptr, 0);
  if (!m) return false;
  m->correlation = callee;
  // Past any capacity (the watcher's mailbox is unbounded anyway), and
  // never waits.
  if (!seam_.post(watcher, m)) {
    msg_free(m);
    return false;
  }
  return true;
}

}  // namespace airs
