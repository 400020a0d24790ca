// user_program.cpp - a small user of airs.hpp, built at test time against
// the installed headers and library only, as C++17 and as C++20.
#include <airs/airs.hpp>

#include <chrono>
#include <cstdio>
#include <string>

struct add {
  static constexpr std::uint64_t airs_tag = 1;
  std::int64_t n;
};
struct total {
  static constexpr std::uint64_t airs_tag = 2;
  std::int64_t value;
};
struct get_total {
  static constexpr std::uint64_t airs_tag = 3;
  using reply_type = total;
};
struct label {
  static constexpr std::uint64_t airs_tag = 4;
  std::string text;
};

struct counter : airs::actor<counter, add, get_total, label> {
  void on(const add& m) { sum += m.n; }
  total on(const get_total&) { return {sum + static_cast<int>(name.size())}; }
  void on(label& l) { name = std::move(l.text); }
  std::int64_t sum = 0;
  std::string name;
};

int main() {
  try {
    airs::runtime rt(airs::config().workers(1));
    auto c = rt.spawn<counter>();
    for (int i = 1; i <= 10; i++) rt.send(c, add{i});
    // An owned message with a priority, and a shared payload sent twice.
    airs::message<label> named(label{"four"});
    named.set_priority(AIRS_PRIORITY_HIGH);
    rt.send(c, std::move(named));
    airs::payload<add> shared(add{2});
    rt.send(c, shared);
    rt.send(c, airs::message<add>(shared));
    total t = rt.call(c, get_total{}, std::chrono::seconds(5));
    std::printf("total %lld (C++ %ld)\n", static_cast<long long>(t.value),
                static_cast<long>(__cplusplus));
    return t.value == 63 ? 0 : 1;
  } catch (const airs::error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
