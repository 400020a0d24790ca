// otp_proc.hpp - what the ports of OTP's erts suites (monitor_SUITE,
// process_SUITE) share: an Erlang process of a case as a test actor
// (Proc) that records what it receives and runs the code it is sent as
// jobs, and a runtime (Rt) that is host-driven or on two workers with the
// ways a case waits. Public C API only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "../runtime/sup_helpers.hpp"

namespace otp_test {

using namespace rt_test;

constexpr uint64_t kRun = 0x6d01;        // payload: a Job*; runs it
constexpr uint64_t kStop = 0x6d02;       // ends the process: normal
constexpr uint64_t kExitError = 0x6d03;  // payload: text; ends with an error
constexpr uint64_t kGo = 0x6d04;         // payload: a pid (by case)
constexpr uint64_t kRef = 0x6d05;        // payload: a monitor ref
constexpr uint64_t kResult = 0x6d06;     // payload: an airs_status
constexpr uint64_t kSync = 0x6d07;       // nothing: a point in a mailbox

// An Erlang exit reason that is a term (foo, frop, bang) is here an
// AIRS_EXIT_ERROR with this code and the term as its text.
constexpr int32_t kCode = 1;

// Processes here trap exits; the shutdown of the runtime still ends them
// at once (Proc ends on the shutdown's exit message).
const Keys kHost = {{AIRS_CFG_WORKERS, 0}, {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 50}};
const Keys kThreaded = {{AIRS_CFG_WORKERS, 2},
                        {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 50}};

// A piece of an Erlang process's code, run inside its actor.
struct Job {
  std::function<void(airs_ctx*)> fn;
  std::atomic<bool> done{false};
};

// An Erlang process of a case: runs the jobs it is sent, stops on kStop,
// dies with the text of a kExitError, and records everything else it gets
// (mail()). `also` adds behaviour for the other messages.
struct Proc : Actor {
  std::function<airs_status(Proc&, airs_ctx*, const airs_msg*)> also;

  Proc() {
    on_receive = [this](Actor&, airs_ctx* ctx, const airs_msg* m) {
      switch (airs_msg_type(m)) {
        case kRun: {
          Job* job = value_of<Job*>(m);
          job->fn(ctx);
          job->done = true;
          return AIRS_OK;
        }
        case kStop: return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
        case kExitError: {
          std::string text(static_cast<const char*>(airs_msg_data(m)),
                           airs_msg_size(m));
          return airs_exit(ctx, AIRS_EXIT_ERROR, kCode, text.c_str());
        }
        case AIRS_MSG_EXIT:
          // The runtime's own shutdown (sender 0): a trapping test
          // process goes, so that freeing the runtime does not wait.
          if (airs_msg_sender(m) == 0 &&
              airs_reason_kind(airs_msg_reason(m)) == AIRS_EXIT_SHUTDOWN)
            return airs_exit(ctx, AIRS_EXIT_SHUTDOWN, 0, nullptr);
          break;
      }
      return also ? also(*this, ctx, m) : AIRS_OK;
    };
  }

  // What it received, less the jobs it ran.
  std::vector<Received> mail() const {
    std::vector<Received> out;
    for (const Received& r : messages())
      if (r.type != kRun) out.push_back(r);
    return out;
  }
  // How many of one type came (read in place: large logs are not copied).
  size_t count(uint64_t type) const {
    std::lock_guard<std::mutex> lock(mu);
    size_t n = 0;
    for (const Received& r : log) n += r.type == type;
    return n;
  }
  // The last message of one type (type 0 if none came).
  Received last(uint64_t type) const {
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = log.rbegin(); it != log.rend(); ++it)
      if (it->type == type) return *it;
    return Received{};
  }
};

// A runtime, host-driven or on two workers, with the ways a case waits.
class Rt {
 public:
  explicit Rt(bool host) : host_(host), rt_(host ? kHost : kThreaded) {}
  operator airs_runtime*() const { return rt_; }
  bool host() const { return host_; }

  // Runs fn inside process `pid` (as that Erlang process's own code) and
  // returns once it has run. A job that never ran is leaked, not freed
  // under the process that may still run it.
  void run(airs_pid pid, std::function<void(airs_ctx*)> fn) {
    auto* job = new Job{std::move(fn)};
    REQUIRE(airs_send(rt_, pid, kRun, &job, sizeof job) == AIRS_OK);
    REQUIRE(until([&] { return job->done.load(); }));
    delete job;
  }
  // Host-driven: runs until idle, then asks. Threaded: waits for pred.
  template <class Pred>
  bool until(Pred pred, int timeout_ms = 5000) {
    if (host_) {
      poll_all(rt_);
      return pred();
    }
    return wait_until(pred, timeout_ms);
  }
  // Gives what must not happen its chance to: host-driven, runs until
  // idle; threaded, a short sleep.
  void settle() {
    if (host_)
      poll_all(rt_);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  // Sends `to` a kSync and waits until it has handled it: what was in its
  // mailbox before is handled too.
  void sync(Proc& to) {
    size_t before = to.count(kSync);
    REQUIRE(airs_send(rt_, to.self, kSync, nullptr, 0) == AIRS_OK);
    REQUIRE(until([&] { return to.count(kSync) > before; }));
  }

 private:
  bool host_;
  Runtime rt_;
};

inline airs_pid spawn_trapping(airs_runtime* rt, Actor& a) {
  airs_spawn_opts o = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
  return spawn(rt, a, &o);
}

inline airs_status send_text(airs_runtime* rt, airs_pid to, uint64_t type,
                             const std::string& text) {
  return airs_send(rt, to, type, text.data(), text.size());
}

// The messages of `mail` of one type.
inline std::vector<Received> of_type(const std::vector<Received>& mail,
                                     uint64_t type) {
  std::vector<Received> out;
  for (const Received& r : mail)
    if (r.type == type) out.push_back(r);
  return out;
}

// Checks that `r` is the DOWN of monitor `ref` of `pid` with this reason
// (an error reason's text is `text`).
inline void check_down(const Received& r, uint64_t ref, airs_pid pid,
                       airs_exit_kind kind, const std::string& text = "") {
  CHECK(r.type == AIRS_MSG_DOWN);
  CHECK(r.correlation == ref);
  CHECK(r.sender == pid);
  CHECK(r.reason.kind == kind);
  if (kind == AIRS_EXIT_ERROR) {
    CHECK(r.reason.code == kCode);
    CHECK(r.reason.text == text);
  }
}

// A text of n bytes that a truncation or a mix-up would change.
inline std::string big_text(size_t n, unsigned seed) {
  std::string s(n, ' ');
  for (size_t i = 0; i < n; i++)
    s[i] = static_cast<char>('!' + (i * 7 + seed) % 90);
  return s;
}

}  // namespace otp_test
