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
    rt.send(c, label{"four"});
    total t = rt.call(c, get_total{}, std::chrono::seconds(5));
    std::printf("total %lld (C++ %ld)\n", static_cast<long long>(t.value),
                static_cast<long>(__cplusplus));
    return t.value == 59 ? 0 : 1;
  } catch (const airs::error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
