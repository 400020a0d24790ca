// Must not compile: a request made as a message<T> (requests and replies
// take the value itself).
#include <airs/airs.hpp>

#include <chrono>

struct total {
  static constexpr std::uint64_t airs_tag = 1;
  long n;
};
struct get_total {
  static constexpr std::uint64_t airs_tag = 2;
  using reply_type = total;
};
struct counter : airs::actor<counter, get_total> {
  total on(const get_total&) { return {0}; }
};

void misuse(airs::runtime_ref rt, counter::handle c) {
  rt.call(c, airs::message<get_total>(get_total{}), std::chrono::seconds(1));
}
