/*
 * actor_basic - a counter actor, in C++ (examples/c/actor_basic.c in C).
 *
 * The main thread spawns a counter, sends it ten `add` messages and one
 * `report` message that carries the typed pid of a printer actor; the
 * counter answers with its total, the printer prints it and ends, and
 * main, which waits for the printer to end, frees the runtime (the
 * airs::runtime destructor).
 *
 * What C++ adds: the pids are typed, so sending the counter a `total`, or
 * the printer an `add`, does not compile; each message type has its own
 * handler; errors are exceptions.
 */
#include <airs/airs.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>

struct total {
  static constexpr std::uint64_t airs_tag = 3;
  std::int64_t value;
};

/* Prints the total it is sent, then ends: main waits for that. */
struct printer : airs::actor<printer, total> {
  void on(const total& t) {
    std::printf("counter total: %lld\n", static_cast<long long>(t.value));
    exit();  // normal
  }
};

struct add {
  static constexpr std::uint64_t airs_tag = 1;
  std::int64_t n;
};
/* Carries where the answer goes: a typed pid is trivially copyable, so it
 * travels inside the message. */
struct report {
  static constexpr std::uint64_t airs_tag = 2;
  printer::handle to;
};

struct counter : airs::actor<counter, add, report> {
  void on(const add& m) { sum += m.n; }
  void on(const report& r) { send(r.to, total{sum}); }
  std::int64_t sum = 0;
};

int main() {
  try {
    std::printf("airs %s\n", airs_version_string());
    {
      airs::runtime rt;
      auto counter_pid = rt.spawn<counter>();
      auto printer_pid = rt.spawn<printer>();
      for (std::int64_t i = 1; i <= 10; i++) rt.send(counter_pid, add{i});
      rt.send(counter_pid, report{printer_pid});
      if (!rt.wait(printer_pid, std::chrono::seconds(5))) {
        std::fprintf(stderr, "the printer did not finish\n");
        return 1;
      }
    }  // the runtime is freed here
    std::printf("runtime stopped\n");
    return 0;
  } catch (const airs::error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
