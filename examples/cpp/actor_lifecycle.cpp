/*
 * actor_lifecycle - how processes start, end, and learn about each other's
 * ends, in C++ (examples/c/actor_lifecycle.c in C): construction and
 * on_start, on_stop and the destructor, links, trap_exit, monitors and
 * exit reasons.
 *
 * A parent that traps exits starts three linked workers and monitors each:
 *   - "crasher" fails with an error code and text: the link turns that into an
 * exit message for the parent (on_exit; it traps exits, so it survives), and
 * the monitor reports a down message (on_down);
 *   - "victim" is killed: killed cannot be trapped by the victim, but the
 *     parent is told like any other exit;
 *   - "finisher" ends normally: a normal exit does not take linked
 *     processes down (the parent hears of it only because it traps exits).
 * Then an untrapping "bystander" linked to a crashing "doomed" process
 * shows what a link does to a process that does not trap exits, and
 * freeing the runtime asks the parent to shut down.
 *
 * The runtime is host-driven (no worker threads): main runs the processes
 * with run_until_idle, so the output is the same on every run.
 */
#include <airs/airs.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

struct work {
  static constexpr std::uint64_t airs_tag = 2;
};
struct crash {
  static constexpr std::uint64_t airs_tag = 3;
};
struct finish {
  static constexpr std::uint64_t airs_tag = 4;
};

/* ---- workers ------------------------------------------------------------
 * Each start constructs a fresh object and destroys it when the process
 * ends, so the state never outlives its process. */
struct worker : airs::actor<worker, work, crash, finish> {
  explicit worker(std::string name) : name(std::move(name)) {
    std::printf("  [%s] init\n", this->name.c_str());
  }
  /* A name lets main find the worker; it is released when the process
   * ends. If on_start throws, the spawn fails (and on_stop never runs). */
  void on_start() { runtime().register_name(name, self()); }

  void on(const work&) {
    std::printf("  [%s] did job %d\n", name.c_str(), ++jobs);
  }
  void on(const crash&) {
    std::printf("  [%s] crashing\n", name.c_str());
    /* An error exit carries a code and a text to whoever is told.
     * Throwing does the same: an exception out of a handler ends the
     * process with its what() as the text. */
    exit(airs::exit_reason::failure(42, "disk full"));
  }
  void on(const finish&) {
    std::printf("  [%s] done, exiting normally\n", name.c_str());
    exit();
  }
  /* Runs exactly once however the process ends (even when killed). */
  void on_stop(const airs::exit_reason& r) {
    std::printf("  [%s] terminate after %d job(s), reason: %s\n", name.c_str(),
                jobs, r.describe().c_str());
  }

  std::string name;
  int jobs = 0;
};

/* ---- the parent ---------------------------------------------------------
 * Traps exits, so the exits of linked workers arrive in on_exit instead of
 * taking it down; it also monitors each worker (on_down). */
struct start {
  static constexpr std::uint64_t airs_tag = 1;
};

struct parent : airs::actor<parent, start> {
  static constexpr int workers = 3;
  const char* names[workers] = {"crasher", "victim", "finisher"};
  airs::pid pids[workers] = {};
  std::uint64_t refs[workers] = {};

  void on_start() {
    trap_exit(true);
    std::printf("  [parent] init: trapping exits\n");
  }
  void on(const start&) {
    for (int i = 0; i < workers; i++) {
      // spawn_link links each child to us before it can run.
      pids[i] = spawn_link<worker>(std::string(names[i])).id();
      refs[i] = monitor(pids[i]);
    }
    std::printf("  [parent] started and monitors %d linked workers\n", workers);
  }
  void on_exit(const airs::exit_msg& m) {
    if (m.from == 0) {
      /* Not from a link: freeing the runtime asks every process to shut
       * down, and a trapping process gets that as a message too. */
      std::printf("  [parent] asked to shut down, exiting\n");
      exit(airs::exit_reason::shutdown());
      return;
    }
    std::printf("  [parent] EXIT from %s: %s\n", name_of(m.from),
                m.reason.describe().c_str());
  }
  void on_down(const airs::down_msg& d) {
    for (int i = 0; i < workers; i++)
      if (refs[i] == d.ref)
        std::printf("  [parent] DOWN for %s: %s\n", names[i],
                    d.reason.describe().c_str());
  }
  void on_stop(const airs::exit_reason& r) {
    std::printf("  [parent] terminate, reason: %s\n", r.describe().c_str());
  }
  const char* name_of(airs::pid p) const {
    for (int i = 0; i < workers; i++)
      if (pids[i] == p) return names[i];
    return "?";
  }
};

/* ---- a process that does not trap exits ---------------------------------
 * The bystander links to the pid it is sent; when that process crashes,
 * the exit signal ends the bystander too, with the same reason. */
struct link_to {
  static constexpr std::uint64_t airs_tag = 5;
  airs::pid other;
};
struct bystander : airs::actor<bystander, link_to> {
  void on(const link_to& m) {
    std::printf("  [bystander] linking to doomed (not trapping exits)\n");
    link(m.other);
  }
  void on_stop(const airs::exit_reason& r) {
    std::printf("  [bystander] terminate, reason: %s\n", r.describe().c_str());
  }
};

int main() {
  try {
    airs::runtime rt(airs::config().workers(0));  // host-driven

    std::printf("1. a trapping parent links to and monitors three workers\n");
    auto parent_pid = rt.spawn<parent>();
    rt.send(parent_pid, start{});
    rt.run_until_idle();

    /* The workers registered their names in on_start. */
    auto crasher = *rt.whereis<worker::handle>("crasher");
    auto victim = *rt.whereis<worker::handle>("victim");
    auto finisher = *rt.whereis<worker::handle>("finisher");
    rt.send(crasher, work{});
    rt.send(victim, work{});
    rt.send(victim, work{});
    rt.send(finisher, work{});
    rt.run_until_idle();

    std::printf("2. crasher fails with an error\n");
    rt.send(crasher, crash{});
    rt.run_until_idle();

    std::printf("3. victim is killed (untrappable for the victim itself)\n");
    rt.kill(victim);
    rt.run_until_idle();

    std::printf("4. finisher exits normally: the parent lives on\n");
    rt.send(finisher, finish{});
    rt.run_until_idle();
    std::printf("   parent alive: %s\n",
                rt.is_alive(parent_pid) ? "yes" : "no");

    std::printf("5. a link takes down a process that does not trap exits\n");
    auto doomed = rt.spawn<worker>(std::string("doomed"));
    auto by = rt.spawn<bystander>();
    rt.send(by, link_to{doomed.id()});
    rt.run_until_idle();
    rt.send(doomed, crash{});
    rt.run_until_idle();
    std::printf("   bystander alive: %s\n", rt.is_alive(by) ? "yes" : "no");

    /* Whatever is still alive gets a shutdown exit signal here. */
    std::printf("6. freeing the runtime stops the processes still alive\n");
    rt.close();
    std::printf("runtime stopped\n");
    return 0;
  } catch (const airs::error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
