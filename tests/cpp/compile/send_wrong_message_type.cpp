// Must not compile: a message<T> or payload<T> of a type the typed pid does
// not take.
#include <airs/airs.hpp>

struct add {
  static constexpr std::uint64_t airs_tag = 1;
  long n;
};
struct other {
  static constexpr std::uint64_t airs_tag = 2;
};
struct counter : airs::actor<counter, add> {
  void on(const add&) {}
};

void misuse(airs::runtime_ref rt, counter::handle c) {
  rt.send(c, airs::message<other>(other{}));
}
