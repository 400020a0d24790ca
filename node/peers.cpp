// peers.cpp - who is up: the peer table fed by heartbeats and aged by the
// ticker, and the UP/DOWN messages to the processes that monitor nodes.
// Each entry decides its changes under mu, then sends them under
// notify_mu only (see node.hpp's lock order).
#include <cstdio>
#include <cstring>
#include <iterator>

#include "node.hpp"

namespace airs::node {

namespace {

Change change(const char* name, uint64_t incarnation,
              airs_node_down_reason reason) noexcept {
  Change c{};
  snprintf(c.event.peer.name, sizeof c.event.peer.name, "%s", name);
  c.event.peer.incarnation = incarnation;
  c.event.reason = reason;
  return c;
}

uint64_t type_of(const Change& c) noexcept {
  return c.event.reason == AIRS_NODE_DOWN_NONE ? AIRS_MSG_NODE_UP
                                               : AIRS_MSG_NODE_DOWN;
}

// Sends `changes` to `to`, or to every monitor when `to` is 0; forgets a
// monitor that has ended. [under notify_mu, not mu]
void send_changes(airs_node* n, const Change* changes, size_t count,
                  airs_pid to = AIRS_NO_PID) noexcept {
  if (count == 0) return;
  if (to == AIRS_NO_PID)  // a change, not a new monitor's first UPs
    for (size_t i = 0; i < count; i++) {
      int32_t r = changes[i].event.reason;
      if (r == AIRS_NODE_DOWN_NONE)
        n->counters.ups.fetch_add(1, std::memory_order_relaxed);
      else if (r > 0 && r < static_cast<int32_t>(std::size(n->counters.downs)))
        n->counters.downs[r].fetch_add(1, std::memory_order_relaxed);
    }
  std::vector<airs_pid> targets;
  try {
    std::lock_guard<std::mutex> lock(n->mu);
    if (to != AIRS_NO_PID)
      targets.push_back(to);
    else
      targets.assign(n->monitors.begin(), n->monitors.end());
  } catch (...) {
    return;  // out of memory: these changes are lost to the monitors
  }
  for (airs_pid pid : targets) {
    for (size_t i = 0; i < count; i++) {
      airs_status s = airs_send(n->rt, pid, type_of(changes[i]),
                                &changes[i].event, sizeof changes[i].event);
      if (s == AIRS_ENOPROC) {
        std::lock_guard<std::mutex> lock(n->mu);
        n->monitors.erase(pid);
        break;
      }
    }
  }
}

// Points `tag` at the data subject of node `name`. [under mu; may throw
// bad_alloc]
void set_route(airs_node* n, uint32_t tag, const char* name) {
  Route& r = n->routes[tag];
  r.out = std::make_shared<Outbound>(data_subject_of(n, name));
  r.up = true;
}

// Marks the route of `tag` up or down, if there is one. [under mu]
void route_up(airs_node* n, uint32_t tag, bool up) noexcept {
  auto it = n->routes.find(tag);
  if (it != n->routes.end()) it->second.up = up;
}

// Marks `p` down: sends to its pids are NOCONNECTION dead letters, and
// batches from it are not delivered until it is heard again. [under mu]
void declare_down(airs_node* n, Peer& p) noexcept {
  p.up = false;
  p.declared_down = true;
  route_up(n, p.tag, false);
}

// A heartbeat now, out of turn: a node that hears a newcomer introduces
// itself at once, so that the newcomer can route to it before it sends.
void announce(airs_node* n) noexcept {
  unsigned char frame[kFrameMax];
  uint64_t seq;
  {
    std::lock_guard<std::mutex> lock(n->mu);
    if (!n->connected || n->stopping) return;
    seq = ++n->seq;
  }
  size_t size = heartbeat_frame(n, 0, seq, frame);
  publish(n, n->hb_subject.c_str(), nullptr, frame, size);
}

}  // namespace

void heard(airs_node* n, const char* name, uint64_t incarnation, uint32_t tag,
           uint32_t flags) noexcept {
  if (incarnation == n->incarnation) return;  // our own
  Change changes[2];
  size_t count = 0;
  bool newcomer = false;
  uint32_t lost = 0;     // a tag whose runtime is gone: its ties break
  uint32_t back_up = 0;  // a tag whose route opens again
  std::shared_ptr<Outbound> notice;  // to tell it we declared it down
  {
    std::lock_guard<std::recursive_mutex> order(n->notify_mu);
    try {
      std::lock_guard<std::mutex> lock(n->mu);
      if (n->stopping) return;
      auto it = n->peers.find(name);
      if (flags & kLeaving) {
        if (it == n->peers.end() || it->second.incarnation != incarnation)
          return;
        if (it->second.up)
          changes[count++] = change(name, incarnation, AIRS_NODE_DOWN_LEFT);
        lost = it->second.tag;
        n->routes.erase(it->second.tag);  // its pids are stale: noproc
        n->peers.erase(it);
      } else if (it == n->peers.end()) {
        set_route(n, tag, name);
        Peer& p = n->peers[name];
        p.incarnation = incarnation;
        p.tag = tag;
        p.last_heard = Clock::now();
        p.up = true;
        changes[count++] = change(name, incarnation, AIRS_NODE_DOWN_NONE);
        newcomer = true;
      } else {
        Peer& p = it->second;
        if (p.incarnation != incarnation) {
          // Another incarnation of the name: the one we knew is gone. A
          // heartbeat of it still in flight must not bring it back.
          if (incarnation == p.replaced) return;
          if (p.up)
            changes[count++] =
                change(name, p.incarnation, AIRS_NODE_DOWN_RESTARTED);
          // A silent incarnation declared down already lost its ties.
          if (p.up || !p.declared_down) lost = p.tag;
          n->routes.erase(p.tag);  // the old incarnation's pids: noproc
          set_route(n, tag, name);
          p.replaced = p.incarnation;
          p.incarnation = incarnation;
          p.tag = tag;
          p.up = false;
          p.declared_down = false;
          newcomer = true;
        }
        p.last_heard = Clock::now();
        if (!p.up) {
          p.up = true;
          back_up = p.tag;
          if (p.declared_down) {
            auto r = n->routes.find(p.tag);
            if (r != n->routes.end()) notice = r->second.out;
            p.declared_down = false;
          }
          changes[count++] = change(name, incarnation, AIRS_NODE_DOWN_NONE);
        }
      }
    } catch (...) {
      return;  // out of memory for a new peer: it is heard again soon
    }
    if (lost) {
      airs_transport_node_down(n->rt, lost);
      forget_partials(n, lost);
    }
    if (back_up) {
      // The notice goes before anything the route carries once open.
      if (notice) send_notice(n, notice.get());
      std::lock_guard<std::mutex> lock(n->mu);
      route_up(n, back_up, true);
    }
    // A new node knows none of our pool members; one that reads our
    // notice forgets them. Sent once the route is up (pools.cpp).
    if (newcomer || notice) pools_snapshot(n, tag);
    send_changes(n, changes, count);
  }
  if (newcomer) announce(n);
}

void noticed(airs_node* n, uint32_t tag) noexcept {
  Change changes[2];
  {
    std::lock_guard<std::mutex> lock(n->mu);
    if (n->stopping) return;
    auto it = n->peers.begin();
    while (it != n->peers.end() && it->second.tag != tag) ++it;
    if (it == n->peers.end() || !it->second.up) return;  // down here too
    changes[0] = change(it->first.c_str(), it->second.incarnation,
                        AIRS_NODE_DOWN_NOCONNECTION);
    changes[1] =
        change(it->first.c_str(), it->second.incarnation, AIRS_NODE_DOWN_NONE);
  }
  airs_transport_node_down(n->rt, tag);
  // It may have forgotten our pool members as we forgot its (it declared
  // us down): ours again.
  pools_snapshot(n, tag);
  send_changes(n, changes, 2);
}

void broke(airs_node* n, uint32_t tag) noexcept {
  Change changes[2];
  size_t count = 0;
  std::shared_ptr<Outbound> notice;
  {
    std::lock_guard<std::mutex> lock(n->mu);
    if (n->stopping) return;
    auto it = n->peers.begin();
    while (it != n->peers.end() && it->second.tag != tag) ++it;
    if (it != n->peers.end() && it->second.up) {
      changes[count++] = change(it->first.c_str(), it->second.incarnation,
                                AIRS_NODE_DOWN_NOCONNECTION);
      changes[count++] = change(it->first.c_str(), it->second.incarnation,
                                AIRS_NODE_DOWN_NONE);
    }
    auto r = n->routes.find(tag);
    if (r != n->routes.end()) notice = r->second.out;
  }
  airs_transport_node_down(n->rt, tag);
  forget_partials(n, tag);
  if (notice) send_notice(n, notice.get());
  pools_snapshot(n, tag);  // it forgets ours when it reads the notice
  send_changes(n, changes, count);
}

bool source_up(airs_node* n, uint32_t tag, const char* reply) noexcept {
  try {
    std::lock_guard<std::mutex> lock(n->mu);
    auto it = n->routes.find(tag);
    if (it != n->routes.end()) return it->second.up;
    if (reply && !n->stopping) {
      Route& r = n->routes[tag];
      r.out = std::make_shared<Outbound>(reply);
      r.up = true;
    }
  } catch (...) {
    // Out of memory for the route: the heartbeat makes it soon.
  }
  return true;
}

void learn_route(airs_node* n, uint32_t tag,
                 const char* data_subject) noexcept {
  try {
    std::lock_guard<std::mutex> lock(n->mu);
    if (n->stopping || n->routes.count(tag)) return;
    Route& r = n->routes[tag];
    r.out = std::make_shared<Outbound>(data_subject);
    r.up = true;
  } catch (...) {
    // Out of memory: the heartbeat makes the route soon.
  }
}

void tick(airs_node* n, bool stalled) noexcept {
  unsigned char frame[kFrameMax];
  bool connected;
  uint64_t seq;
  {
    std::lock_guard<std::mutex> lock(n->mu);
    connected = n->connected;
    seq = ++n->seq;
  }
  if (connected) {
    transport_flush(n);  // a safety net: turns flush their own
    size_t size = heartbeat_frame(n, 0, seq, frame);
    publish(n, n->hb_subject.c_str(), nullptr, frame, size);
  }
  std::vector<Change> changes;
  std::vector<uint32_t> lost;  // their runtimes' ties break
  std::lock_guard<std::recursive_mutex> order(n->notify_mu);
  try {
    std::lock_guard<std::mutex> lock(n->mu);
    changes.reserve(n->peers.size());  // so that a peer declared down is
    lost.reserve(n->peers.size());     // always told (no throw below)
    Clock::time_point now = Clock::now();
    bool all_down =
        !n->connected && !n->grace_spent && now - n->lost_at > n->grace;
    if (all_down) n->grace_spent = true;
    for (auto& [name, p] : n->peers) {
      if (!p.up) continue;
      if (stalled || !n->connected) {
        // We could not hear: no silence counts against the peers (but the
        // grace of a lost connection does).
        if (!all_down) {
          if (stalled) p.last_heard = now;
          continue;
        }
        declare_down(n, p);
        lost.push_back(p.tag);
        changes.push_back(
            change(name.c_str(), p.incarnation, AIRS_NODE_DOWN_DISCONNECTED));
      } else if (now - p.last_heard > n->down_after) {
        declare_down(n, p);
        lost.push_back(p.tag);
        changes.push_back(
            change(name.c_str(), p.incarnation, AIRS_NODE_DOWN_NOCONNECTION));
      }
    }
  } catch (...) {
    // Out of memory for the lists: the peers stay marked down or up as
    // decided so far; the ones decided are told below.
  }
  // Their processes' ties first, then the node monitors: a process that
  // watches both sees its links and monitors go before the node's DOWN.
  for (uint32_t tag : lost) {
    airs_transport_node_down(n->rt, tag);
    forget_partials(n, tag);
  }
  send_changes(n, changes.data(), changes.size());
}

airs_status monitor(airs_node* n, airs_pid pid, bool on) noexcept {
  std::lock_guard<std::recursive_mutex> order(n->notify_mu);
  std::vector<Change> ups;
  try {
    std::lock_guard<std::mutex> lock(n->mu);
    if (!on) {
      if (n->monitors.erase(pid) == 0)
        return failf(AIRS_ENOTFOUND,
                     "airs_node_monitor: %#llx is not "
                     "monitoring the nodes",
                     static_cast<unsigned long long>(pid));
      return AIRS_OK;
    }
    if (!n->monitors.insert(pid).second) return AIRS_OK;  // twice is once
    for (auto& [name, p] : n->peers)
      if (p.up)
        ups.push_back(change(name.c_str(), p.incarnation, AIRS_NODE_DOWN_NONE));
  } catch (...) {
    std::lock_guard<std::mutex> lock(n->mu);
    n->monitors.erase(pid);
    return failf(AIRS_ENOMEM, "airs_node_monitor: out of memory");
  }
  send_changes(n, ups.data(), ups.size(), pid);
  return AIRS_OK;
}

void disconnected(airs_node* n) noexcept {
  std::lock_guard<std::mutex> lock(n->mu);
  if (!n->connected) return;
  n->connected = false;
  n->lost_at = Clock::now();
  n->grace_spent = false;
}

void reconnected(airs_node* n) noexcept {
  std::lock_guard<std::mutex> lock(n->mu);
  n->connected = true;
}

}  // namespace airs::node
