/*
 * supervisor_strategies - the three restart strategies side by side, in
 * C++ (examples/c/supervisor_strategies.c in C).
 *
 * Three supervisors, each with the children a, b and c (started in that
 * order), differ only in their strategy. In each, b crashes:
 *   - one_for_one:  only b is restarted;
 *   - one_for_all:  c and a are stopped (reverse start order), then a, b
 *                   and c start again, in order;
 *   - rest_for_one: the children started after b (c) are stopped, then b
 *                   and c start again.
 * For each, the program prints what the supervisor did (from an event
 * hook) and every child's pid before and after: a restarted child is a new
 * process with a new pid. It exits 1 if a strategy restarted other
 * children than OTP's would.
 *
 * Pids print as <slot.generation>: a slot is reused by later processes, the
 * generation tells them apart.
 */
#include <airs/airs.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

struct crash {
  static constexpr std::uint64_t airs_tag = 1;
};

struct worker : airs::actor<worker, crash> {
  void on(const crash&) {
    exit(airs::exit_reason::failure(1, "crash requested"));
  }
};

static const char* const ids[3] = {"a", "b", "c"};

struct strategy_case {
  airs::strategy strategy;
  const char* name;
  const char* rule;
  const char* restarted; /* what OTP restarts when b crashes */
};
static const strategy_case strategies[3] = {
    {airs::strategy::one_for_one, "one_for_one",
     "only the child that ended restarts", "b"},
    {airs::strategy::one_for_all, "one_for_all", "all children restart", "abc"},
    {airs::strategy::rest_for_one, "rest_for_one",
     "the child that ended and those started after it restart", "bc"}};

static std::string pid_str(airs::pid pid) {
  /* A pid is opaque to hosts (airs.h); for reading, this splits it as the
   * runtime lays it out today: tag 16 | generation 21 | slot 27 bits. */
  char buf[32];
  std::snprintf(buf, sizeof buf, "<%u.%u>",
                static_cast<unsigned>(pid & ((1u << 27) - 1)),
                static_cast<unsigned>((pid >> 27) & ((1u << 21) - 1)));
  return buf;
}

/* ---- the event log ------------------------------------------------------
 * The hook runs on the thread where a supervisor decides (a worker), so it
 * only notes each event; main prints them once the supervisor is done. */
struct logged {
  airs::pid source, pid;
  std::int32_t kind;
  std::string id;
};

class event_log {
 public:
  void record(const airs_event& e) {
    /* The supervisors' decisions only, not every spawn and exit. */
    if (e.kind == AIRS_EVENT_PROCESS_SPAWNED ||
        e.kind == AIRS_EVENT_PROCESS_EXITED)
      return;
    std::lock_guard<std::mutex> g(lock_);
    events_.push_back({e.source, e.pid, e.kind, e.id});
  }
  std::size_t size() {
    std::lock_guard<std::mutex> g(lock_);
    return events_.size();
  }
  /* Has `pid` been logged as the new pid of a restart? */
  bool restart_logged(airs::pid pid) {
    std::lock_guard<std::mutex> g(lock_);
    for (const logged& l : events_)
      if (l.kind == AIRS_EVENT_CHILD_RESTARTED && l.pid == pid) return true;
    return false;
  }
  /* Prints, on one line, what supervisor `sup` did since entry `from`:
   * which child ended by itself, which it stopped, which it started. */
  void print_decisions(airs::pid sup, std::size_t from) {
    std::lock_guard<std::mutex> g(lock_);
    const char* sep = "";
    std::printf("  supervisor: ");
    for (std::size_t i = from; i < events_.size(); i++) {
      const logged& l = events_[i];
      if (l.source != sup) continue;
      switch (l.kind) {
        case AIRS_EVENT_CHILD_EXITED:
          /* The end of a child it stopped says nothing new. */
          if (i > from && events_[i - 1].kind == AIRS_EVENT_CHILD_STOPPING &&
              events_[i - 1].pid == l.pid)
            continue;
          std::printf("%s%s exited", sep, l.id.c_str());
          break;
        case AIRS_EVENT_CHILD_STOPPING:
          std::printf("%sstop %s", sep, l.id.c_str());
          break;
        case AIRS_EVENT_CHILD_STARTED:
          std::printf("%sstart %s", sep, l.id.c_str());
          break;
        default: continue; /* the rest shows in the pids below */
      }
      sep = ", ";
    }
    std::printf("\n");
  }

 private:
  std::mutex lock_;
  std::vector<logged> events_;
};

/* The pids of a, b and c (0 for a child that is not running). */
static std::vector<airs::pid> read_pids(airs::supervisor_ref sup) {
  std::vector<airs::pid> pids;
  for (const airs::child_info& c : sup.which_children())
    pids.push_back(c.state == AIRS_CHILD_RUNNING ? c.pid : 0);
  return pids;
}

/* Crashes b of `sup` and waits (at most 2 s) until all three children run
 * again, b as a new process, and every restart has been logged. Prints the
 * result; 1 if it is what OTP does, 0 if not, -1 if it never settles. */
static int crash_b(airs::runtime& rt, airs::supervisor_ref sup, event_log& log,
                   const strategy_case& s) {
  std::size_t from = log.size();
  std::vector<airs::pid> before = read_pids(sup), after;
  if (before.size() != 3) return -1;
  rt.send(worker::handle::unchecked(before[1]), crash{});
  for (int ms = 0;; ms++) {
    if (ms == 2000) return -1;
    after = read_pids(sup);
    bool done = after.size() == 3 && after[1] != before[1];
    for (std::size_t i = 0; done && i < 3; i++)
      if (after[i] == 0 ||
          (after[i] != before[i] && !log.restart_logged(after[i])))
        done = false;
    if (done) break;
    std::this_thread::sleep_for(1ms);
  }
  log.print_decisions(sup.pid(), from);
  int as_otp = 1;
  for (int i = 0; i < 3; i++) {
    bool restarted = after[i] != before[i];
    if (restarted)
      std::printf("  %s: %s -> %s (restarted)\n", ids[i],
                  pid_str(before[i]).c_str(), pid_str(after[i]).c_str());
    else
      std::printf("  %s: %s (kept)\n", ids[i], pid_str(before[i]).c_str());
    if (restarted != (std::strchr(s.restarted, ids[i][0]) != nullptr))
      as_otp = 0;
  }
  return as_otp;
}

int main() {
  try {
    event_log log;  // outlives the runtime, whose hook writes to it
    airs::runtime rt(airs::config().workers(2));
    rt.set_event_hook([&log](const airs_event& e) { log.record(e); });

    /* Three supervisors, the same children, different strategies. One
     * crash each stays within OTP's default intensity (1 restart in 5 s):
     * a group restart counts once. */
    std::vector<airs::supervisor_ref> sups;
    for (const strategy_case& s : strategies) {
      airs::supervisor_spec spec(s.strategy);
      for (const char* id : ids) spec.child(airs::worker<worker>(id));
      sups.push_back(rt.start_supervisor(spec));
    }

    bool ok = true;
    for (int s = 0; s < 3; s++) {
      std::printf("%s (%s): b crashes\n", strategies[s].name,
                  strategies[s].rule);
      int r = crash_b(rt, sups[s], log, strategies[s]);
      if (r < 0) {
        std::fprintf(stderr, "%s: the children did not all run again\n",
                     strategies[s].name);
        return 1;
      }
      if (r == 0) ok = false;
    }
    std::printf("%s\n", ok ? "each strategy restarted the children OTP's does"
                           : "UNEXPECTED: a strategy restarted other "
                             "children");
    rt.set_event_hook(nullptr);
    return ok ? 0 : 1;  // the runtime stops the supervisors, then children
  } catch (const airs::error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
