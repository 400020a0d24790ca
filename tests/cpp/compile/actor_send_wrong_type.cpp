// Must not compile: an actor sends a type the target's typed pid does
// not take (the fast path inside a handler).
#include <airs/airs.hpp>

struct add {
  static constexpr std::uint64_t airs_tag = 1;
  long n;
};
struct other {
  static constexpr std::uint64_t airs_tag = 2;
  std::string text;
};
struct forwarder : airs::actor<forwarder, add> {
  void on(const add&) { send(next, other{"no"}); }
  airs::typed_pid<add> next;
};

int main() {
  airs::runtime rt;
  rt.spawn<forwarder>();
}
