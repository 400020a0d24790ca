// Must not compile: a pid subscribes to a topic whose type it does not take.
#include <airs/airs.hpp>

struct add {
  static constexpr std::uint64_t airs_tag = 1;
  long n;
};
struct price {
  static constexpr std::uint64_t airs_tag = 2;
  double value;
};

void misuse(airs::runtime_ref rt, airs::typed_pid<add> p) {
  airs::topic<price>("prices").subscribe(rt, p);
}
