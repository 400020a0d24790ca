// Must not compile: the actor lists a message type it has no handler for.
#include <airs/airs.hpp>

struct add {
  static constexpr std::uint64_t airs_tag = 1;
};
struct sub {
  static constexpr std::uint64_t airs_tag = 2;
};
struct half : airs::actor<half, add, sub> {
  void on(const add&) {}
};

int main() {
  airs::runtime rt;
  rt.spawn<half>();
}
