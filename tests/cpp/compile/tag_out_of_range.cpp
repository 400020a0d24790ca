// Must not compile: a message tag in the range of the system actors.
#include <airs/airs.hpp>

struct bad {
  static constexpr std::uint64_t airs_tag = AIRS_MSG_OSL_BASE;
};

void misuse(airs::runtime_ref rt, airs::typed_pid<bad> p) {
  rt.send(p, bad{});
}
