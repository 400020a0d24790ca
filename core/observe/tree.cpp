// tree.cpp - the supervision trees, depth first: a supervisor, then each
// of its children in start order, a child supervisor's own children
// before its next sibling. Each supervisor's children are read at once
// (which_children), so a tree that changes during the walk is seen partly
// before and partly after the change, never torn within one supervisor.
#include <algorithm>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "observe/observe.hpp"
#include "supervision/supervisor.hpp"

namespace airs {

namespace {

// Deeper trees than this are not walked further (OTP trees are a few
// levels deep; this bounds the recursion, not any real tree).
constexpr uint32_t kMaxDepth = 64;

struct Walk {
  Supervision& sups;
  airs_tree_fn fn;
  void* user_data;
  bool stopped = false;

  // Visits the children of supervisor `sup` at `depth`. ENOMEM; a
  // supervisor that ended meanwhile has no children left to visit.
  airs_status children(uint64_t sup, uint32_t depth) noexcept {
    std::shared_ptr<Supervisor> s = sups.lookup(sup);
    if (!s) return AIRS_OK;
    std::vector<airs_child_info> rows;
    size_t count = 0;
    try {
      for (;;) {  // a child may start between the count and the read
        if (s->which_children(rows.data(), rows.size(), &count) != AIRS_OK)
          return AIRS_OK;  // ended, or not readable from here: skipped
        if (count <= rows.size()) break;
        rows.resize(count + 8);
      }
    } catch (const std::bad_alloc&) {
      return fail(AIRS_ENOMEM, "out of memory");
    }
    rows.resize(count);
    for (const airs_child_info& row : rows) {
      airs_tree_node node{row.pid, sup, depth, row.type, row.state, row.id};
      if (fn(user_data, &node) != 0) {
        stopped = true;
        return AIRS_OK;
      }
      if (row.type == AIRS_CHILD_SUPERVISOR && row.pid && depth < kMaxDepth) {
        if (airs_status st = children(row.pid, depth + 1); st != AIRS_OK)
          return st;
        if (stopped) return AIRS_OK;
      }
    }
    return AIRS_OK;
  }

  airs_status root(uint64_t pid) noexcept {
    airs_tree_node node{pid, 0, 0, AIRS_CHILD_SUPERVISOR, AIRS_CHILD_RUNNING,
                        ""};
    if (fn(user_data, &node) != 0) {
      stopped = true;
      return AIRS_OK;
    }
    return children(pid, 1);
  }
};

}  // namespace

airs_status supervision_walk(Runtime& rt, uint64_t root, airs_tree_fn fn,
                             void* user_data) noexcept {
  Walk walk{rt.supervision(), fn, user_data};
  if (root) {
    std::shared_ptr<Supervisor> s;
    if (airs_status st = rt.supervision().find(root, &s); st != AIRS_OK)
      return st;
    return walk.root(root);
  }
  // Every root: a supervisor whose parent is no supervisor.
  std::vector<std::pair<uint64_t, uint64_t>> all;
  if (!rt.supervision().list(&all)) return fail(AIRS_ENOMEM, "out of memory");
  auto is_supervisor = [&](uint64_t pid) {
    return std::binary_search(
        all.begin(), all.end(), std::make_pair(pid, uint64_t{0}),
        [](const auto& a, const auto& b) { return a.first < b.first; });
  };
  for (const auto& [pid, parent] : all) {
    if (parent && is_supervisor(parent)) continue;
    if (airs_status st = walk.root(pid); st != AIRS_OK) return st;
    if (walk.stopped) break;
  }
  return AIRS_OK;
}

}  // namespace airs
