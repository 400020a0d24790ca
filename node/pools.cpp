// pools.cpp - pools across the cluster, as Erlang's pg: a process joins a
// pool on its own node, every other node learns of it and counts it in
// its picks (airs/transport.h's pool_member and
// airs_transport_pool_member).
//
// The news travels in the data streams between nodes (remote.cpp's pool
// frames), so a member's join reaches a node before anything that member
// sends it after joining, and counts as a signal in the stream's indexes:
// a lost frame breaks the connection, which forgets the members on both
// sides and starts them over. Each node keeps the set of its own members
// (n->pools) and sends the whole of it to a node whenever that node
// forgets ours (pools_snapshot):
//   - when we first hear it (or a new incarnation of it);
//   - after we tell it that we declared it down (its side forgets ours
//     when it reads the notice);
//   - when it tells us the same (ours forgets its members, and it may
//     have forgotten ours).
// A node that loses another (airs_transport_node_down) forgets its
// members itself. Joins are idempotent, so a snapshot that repeats what
// was sent is harmless.
#include "node.hpp"

namespace airs::node {

namespace {

// The outbounds of the nodes that are up now. [takes mu; may throw]
std::vector<std::shared_ptr<Outbound>> up_routes(airs_node* n) {
  std::vector<std::shared_ptr<Outbound>> outs;
  std::lock_guard<std::mutex> lock(n->mu);
  outs.reserve(n->routes.size());
  for (auto& [tag, route] : n->routes)
    if (route.up) outs.push_back(route.out);
  return outs;
}

}  // namespace

airs_status pool_member(void* node, const char* pool, airs_pid pid,
                        int on) noexcept {
  auto* n = static_cast<airs_node*>(node);
  std::lock_guard<std::mutex> lock(n->pools_mu);
  try {
    if (on) {
      if (!n->pools[pool].insert(pid).second) return AIRS_OK;  // a replay
    } else {
      auto it = n->pools.find(pool);
      if (it == n->pools.end() || it->second.erase(pid) == 0) return AIRS_OK;
      if (it->second.empty()) n->pools.erase(it);
    }
  } catch (...) {
    return AIRS_ENOMEM;  // a join refused; a leave never gets here
  }
  // Every node up now hears it with the next flush (the end of the turn
  // that joined, or the ticker's, within a heartbeat); a node that comes
  // up later gets it in its snapshot (its route is up before the snapshot
  // is taken, under pools_mu as this is).
  try {
    for (auto& out : up_routes(n)) send_pool_frame(n, out, pool, pid, on);
  } catch (...) {
    // Out of memory for the news: the nodes not told yet do not see this
    // join (or still count this member, until the pid ends there too, as
    // a send to it shows). The next snapshot puts it right.
  }
  return AIRS_OK;
}

void pools_snapshot(airs_node* n, uint32_t tag) noexcept {
  std::shared_ptr<Outbound> out;
  {
    std::lock_guard<std::mutex> lock(n->mu);
    auto it = n->routes.find(tag);
    if (it == n->routes.end() || !it->second.up) return;
    out = it->second.out;
  }
  {
    std::lock_guard<std::mutex> lock(n->pools_mu);
    try {
      for (auto& [pool, pids] : n->pools)
        for (airs_pid pid : pids)
          send_pool_frame(n, out, pool.c_str(), pid, true);
    } catch (...) {
      // Out of memory: that node misses the members not sent yet.
    }
  }
  // Not under pools_mu: a publish that fails runs the dead-letter hook,
  // which may join a pool (pool_member takes pools_mu).
  publish_now(n, out.get());
}

}  // namespace airs::node
