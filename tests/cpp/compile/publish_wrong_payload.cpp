// Must not compile: publishing a payload of another type on a topic.
#include <airs/airs.hpp>

struct add {
  static constexpr std::uint64_t airs_tag = 1;
  long n;
};
struct other {
  static constexpr std::uint64_t airs_tag = 2;
};

void misuse(airs::runtime_ref rt) {
  airs::topic<add>("numbers").publish(rt, airs::payload<other>(other{}));
}
