// messages.hpp - the message types and small actors the C++ tests share.
#pragma once

#include <airs/airs.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cpp_test {

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
// Not trivially copyable: travels as an owned box.
struct note {
  static constexpr std::uint64_t airs_tag = 4;
  std::string text;
};
// Move-only: its handler takes it by reference and moves from it.
struct parcel {
  static constexpr std::uint64_t airs_tag = 5;
  std::unique_ptr<std::string> content;
};
struct crash {
  static constexpr std::uint64_t airs_tag = 6;
};
// A request the callee never answers.
struct ignored_request {
  static constexpr std::uint64_t airs_tag = 7;
  using reply_type = total;
};
// A type whose tag comes from the trait, not a member.
struct point {
  std::int32_t x, y;
};

// Counts live instances, to show that owned messages are freed once.
struct counted {
  static constexpr std::uint64_t airs_tag = 9;
  static inline std::atomic<int> alive{0};
  counted() { ++alive; }
  counted(const counted&) { ++alive; }
  counted(counted&&) noexcept { ++alive; }
  ~counted() { --alive; }
};

// What actors report to the test thread.
struct journal {
  std::mutex lock;
  std::vector<std::string> lines;
  void add(std::string line) {
    std::lock_guard<std::mutex> g(lock);
    lines.push_back(std::move(line));
  }
  std::vector<std::string> get() {
    std::lock_guard<std::mutex> g(lock);
    return lines;
  }
};

}  // namespace cpp_test

template <>
struct airs::message_type<cpp_test::point> {
  static constexpr std::uint64_t tag = 8;
};
