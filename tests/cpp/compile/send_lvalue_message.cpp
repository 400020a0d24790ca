// Must not compile: sending a message<T> without std::move (a send takes
// the message; an lvalue would leave the caller unsure who owns it).
#include <airs/airs.hpp>

struct add {
  static constexpr std::uint64_t airs_tag = 1;
  long n;
};
struct counter : airs::actor<counter, add> {
  void on(const add&) {}
};

void misuse(airs::runtime_ref rt, counter::handle c) {
  airs::message<add> m(add{1});
  rt.send(c, m);
}
