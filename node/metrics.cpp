// metrics.cpp - the node's part of the runtime's metrics: a metrics
// source (airs_metrics_source_add) that writes the peer table's state and
// the counters the other files keep (node.hpp, Counters).
#include <cinttypes>
#include <cstdarg>
#include <cstdio>

#include "node.hpp"

namespace airs::node {

namespace {

// Appends to buf as snprintf would, keeping the length it needed.
struct Text {
  char* buf;
  size_t cap;
  size_t len = 0;

  void add(const char* format, ...) __attribute__((format(printf, 2, 3))) {
    va_list args;
    va_start(args, format);
    int n = vsnprintf(len < cap ? buf + len : nullptr,
                      len < cap ? cap - len : 0, format, args);
    va_end(args);
    if (n > 0) len += static_cast<size_t>(n);
  }
  void family(const char* name, const char* type, const char* help) {
    add("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
  }
  void counter(const char* name, const char* help, uint64_t v) {
    family(name, "counter", help);
    add("%s %" PRIu64 "\n", name, v);
  }
};

const char* const kDownReasons[] = {"none", "noconnection", "left", "restarted",
                                    "disconnected"};
static_assert(sizeof kDownReasons / sizeof *kDownReasons ==
              sizeof(Counters::downs) / sizeof *Counters::downs);

uint64_t read(const std::atomic<uint64_t>& c) noexcept {
  return c.load(std::memory_order_relaxed);
}

}  // namespace

size_t write_metrics(void* node, char* buf, size_t capacity) noexcept {
  auto* n = static_cast<airs_node*>(node);
  uint64_t up = 0, known = 0;
  bool connected;
  {
    std::lock_guard<std::mutex> lock(n->mu);
    for (const auto& [name, peer] : n->peers) {
      known++;
      up += peer.up;
    }
    connected = n->connected;
  }
  const Counters& c = n->counters;
  Text t{buf, capacity};
  if (capacity) buf[0] = '\0';
  t.family("airs_node_connected", "gauge",
           "Whether this node is connected to NATS (1) or not (0).");
  t.add("airs_node_connected %d\n", connected ? 1 : 0);
  t.family("airs_node_peers", "gauge",
           "Other nodes of the cluster heard of, by whether they are up.");
  t.add("airs_node_peers{state=\"up\"} %" PRIu64 "\n", up);
  t.add("airs_node_peers{state=\"down\"} %" PRIu64 "\n", known - up);
  t.counter("airs_node_peer_ups_total", "Other nodes that came up.",
            read(c.ups));
  t.family("airs_node_peer_downs_total", "counter",
           "Other nodes declared down, by reason.");
  for (size_t i = 1; i < sizeof c.downs / sizeof *c.downs; i++)
    t.add("airs_node_peer_downs_total{reason=\"%s\"} %" PRIu64 "\n",
          kDownReasons[i], read(c.downs[i]));
  t.counter("airs_node_batches_sent_total",
            "Batches of frames published to other nodes.", read(c.batches_out));
  t.counter("airs_node_batches_failed_total",
            "Batches NATS did not take (closed, or its buffer full).",
            read(c.batches_failed));
  t.counter("airs_node_messages_sent_total",
            "Messages sent to processes of other nodes.", read(c.messages_out));
  t.counter("airs_node_batches_received_total",
            "Batches from other nodes delivered here.", read(c.batches_in));
  t.counter("airs_node_messages_received_total",
            "Messages from processes of other nodes delivered here.",
            read(c.messages_in));
  return t.len;
}

}  // namespace airs::node
