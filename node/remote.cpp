// remote.cpp - messages between nodes: the runtime's transport
// (airs/transport.h) on the way out, the data subscription on the way in.
//
// Each message is one frame; the frames for one node are gathered and
// published together as one NATS message on its data subject
// (<cluster>.node.<name>.data: one subject per node, not per process):
//
//   offset  size  field
//   0       4     magic "AIRD"
//   4       1     version (1)
//   5       1     priority (an airs_priority)
//   6       1     kind (an airs_transport_kind: message, request, reply)
//   7       1     reserved, 0
//   8       8     sender pid
//   16      8     receiver pid
//   24      8     message type
//   32      8     correlation id
//   40      4     data size n
//   44      n     data
//
// A batch leaves when the turn that filled it ends (the runtime calls the
// transport's flush), when it would pass kBatch bytes, at once for a send
// from outside any process, and at once for a request or a reply, which
// someone waits for. A message too big to share a batch goes alone. The
// batch goes out with our data subject as its reply subject, so that a
// node that has not heard our heartbeat yet can answer at once.
//
// Order: frames for one node are appended and published under that
// node's Outbound lock, and a process sends from one thread at a time, so
// frames from one sender to one receiver leave in order; one subscription
// delivers them in order. FIFO per pair, as in Erlang.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "node.hpp"

namespace airs::node {

namespace {

constexpr char kMagic[4] = {'A', 'I', 'R', 'D'};
constexpr uint8_t kVersion = 1;
constexpr size_t kHead = 44;
constexpr size_t kBatch = 64 * 1024;

void put_head(unsigned char* out, const airs_msg* msg, airs_pid to,
              size_t size) noexcept {
  memcpy(out, kMagic, 4);
  out[4] = kVersion;
  out[5] = static_cast<unsigned char>(airs_msg_priority(msg));
  out[6] = static_cast<unsigned char>(airs_transport_msg_kind(msg));
  out[7] = 0;
  put_le(out + 8, airs_msg_sender(msg), 8);
  put_le(out + 16, to, 8);
  put_le(out + 24, airs_msg_type(msg), 8);
  put_le(out + 32, airs_msg_correlation(msg), 8);
  put_le(out + 40, size, 4);
}

// The outbound of `to`'s tag, and whether its node is up. false if no
// node we know holds the tag.
bool find_route(airs_node* n, airs_pid to, std::shared_ptr<Outbound>* out,
                bool* up) {
  std::lock_guard<std::mutex> lock(n->mu);
  auto it = n->routes.find(airs_pid_tag(to));
  if (it == n->routes.end()) return false;
  *out = it->second.out;
  *up = it->second.up && n->connected;
  return true;
}

// Each frame of a batch that could not leave: a dead letter, counted and
// shown to the hook as a copy of its message (the originals are gone).
void drop_batch(airs_node* n, const unsigned char* p, size_t size) noexcept {
  while (size >= kHead) {
    size_t len = get_le(p + 40, 4);
    if (size < kHead + len) break;
    airs_msg* m = nullptr;
    if (airs_msg_new(get_le(p + 24, 8), len ? p + kHead : nullptr, len, &m) ==
        AIRS_OK)
      airs_transport_drop(n->rt, m, AIRS_DEAD_LETTER_NOCONNECTION);
    p += kHead + len;
    size -= kHead + len;
  }
}

// Publishes what `out` holds. [under out->mu]
void publish(airs_node* n, Outbound* out) noexcept {
  if (out->frames.empty()) return;
  natsStatus s = natsConnection_PublishRequest(
      n->nc, out->subject.c_str(), n->data_subject.c_str(), out->frames.data(),
      static_cast<int>(out->frames.size()));
  if (s != NATS_OK)  // closed, or reconnecting with its buffer full
    drop_batch(n, out->frames.data(), out->frames.size());
  out->frames.clear();
}

// Puts `out` on the list of the next flush, once. [under out->mu]
void mark_dirty(airs_node* n, const std::shared_ptr<Outbound>& out) {
  if (out->queued) return;
  std::lock_guard<std::mutex> lock(n->dirty_mu);
  n->dirty.push_back(out);  // may throw bad_alloc: then nothing changed
  out->queued = true;
}

// No route for `to`'s tag yet (its node's heartbeat has not reached us):
// ask the cluster who holds the tag, as attach claims it; the answer names
// the node, which gives the route. "No responders": nobody holds it.
// Waits one round trip to the server, at most kResolveMs for a holder that
// does not answer (then: down, NOCONNECTION). Erlang connects to a node on
// the first send to it in the same way.
constexpr int64_t kResolveMs = 100;

airs_status resolve(airs_node* n, airs_pid to) noexcept {
  char subject[AIRS_NODE_NAME_MAX + 32];
  snprintf(subject, sizeof subject, "%s.tag.%u", n->cluster.c_str(),
           airs_pid_tag(to));
  natsMsg* reply = nullptr;
  natsStatus s =
      natsConnection_Request(&reply, n->nc, subject, "q", 1, kResolveMs);
  if (s == NATS_TIMEOUT) return AIRS_ETIMEDOUT;
  if (s != NATS_OK) return AIRS_ENOPROC;  // no responders, or closed
  char name[AIRS_NODE_NAME_MAX + 1];
  uint64_t incarnation;
  uint32_t tag, flags;
  bool ok = heartbeat_parse(natsMsg_GetData(reply),
                            static_cast<size_t>(natsMsg_GetDataLength(reply)),
                            name, &incarnation, &tag, &flags);
  natsMsg_Destroy(reply);
  if (!ok || tag != airs_pid_tag(to)) return AIRS_ENOPROC;
  try {
    learn_route(n, tag, data_subject_of(n, name).c_str());
  } catch (...) {
    return AIRS_ENOMEM;
  }
  return AIRS_OK;
}

}  // namespace

airs_status transport_send(void* node, airs_pid to, airs_msg* msg) noexcept {
  auto* n = static_cast<airs_node*>(node);
  std::shared_ptr<Outbound> out;
  bool up = false;
  airs_transport_kind kind = airs_transport_msg_kind(msg);
  if (!find_route(n, to, &out, &up)) {
    airs_status st = resolve(n, to);
    if (st == AIRS_ETIMEDOUT) {  // its holder does not answer: down
      if (kind == AIRS_TRANSPORT_REQUEST) return AIRS_ENOPROC;
      return airs_transport_drop(n->rt, msg, AIRS_DEAD_LETTER_NOCONNECTION);
    }
    if (st != AIRS_OK || !find_route(n, to, &out, &up))
      return st == AIRS_ENOMEM ? st : AIRS_ENOPROC;  // nobody holds the tag
  }
  if (!up) {
    // A call to a node that is down fails at once (as gen_server:call to
    // a node that is down exits with nodedown); a message is lost.
    if (kind == AIRS_TRANSPORT_REQUEST) return AIRS_ENOPROC;
    return airs_transport_drop(n->rt, msg, AIRS_DEAD_LETTER_NOCONNECTION);
  }
  size_t size = airs_msg_size(msg);
  if (kHead + size > static_cast<uint64_t>(n->max_payload))
    return AIRS_EINVAL;  // not fragmented yet: over the server's limit
  try {
    std::lock_guard<std::mutex> lock(out->mu);
    if (kind == AIRS_TRANSPORT_MESSAGE)
      mark_dirty(n, out);  // before: undo-free
    if (out->frames.size() + kHead + size > kBatch) publish(n, out.get());
    size_t at = out->frames.size();
    out->frames.resize(at + kHead + size);
    put_head(out->frames.data() + at, msg, to, size);
    if (size) memcpy(out->frames.data() + at + kHead, airs_msg_data(msg), size);
    if (kind != AIRS_TRANSPORT_MESSAGE || out->frames.size() >= kBatch)
      publish(n, out.get());  // someone waits for it, or it is full
  } catch (...) {
    return AIRS_ENOMEM;  // (the frame was not added: msg is the caller's)
  }
  airs_msg_free(msg);
  return AIRS_OK;
}

void transport_flush(void* node) noexcept {
  auto* n = static_cast<airs_node*>(node);
  std::lock_guard<std::mutex> one_at_a_time(n->flush_mu);
  {
    std::lock_guard<std::mutex> lock(n->dirty_mu);
    if (n->dirty.empty()) return;
    std::swap(n->dirty, n->flushing);
  }
  for (auto& out : n->flushing) {
    std::lock_guard<std::mutex> lock(out->mu);
    out->queued = false;
    publish(n, out.get());
  }
  n->flushing.clear();  // keeps its capacity for the next flush
}

void deliver(airs_node* n, const void* data, size_t size,
             const char* reply) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  bool learned = false;
  while (size >= kHead) {
    if (memcmp(p, kMagic, 4) != 0 || p[4] != kVersion ||
        p[5] > AIRS_PRIORITY_HIGH || p[6] > AIRS_TRANSPORT_REPLY)
      return;  // not a frame of ours: the rest of the batch is ignored
    size_t len = get_le(p + 40, 4);
    if (size < kHead + len) return;
    airs_pid from = get_le(p + 8, 8);
    if (!learned && from != 0 && reply != nullptr) {
      learn_route(n, airs_pid_tag(from), reply);
      learned = true;
    }
    // A system type, a dead receiver, a reply nobody waits for: refused by
    // the runtime with a status; the message is lost (at most once),
    // counted as a dead letter where it applies.
    const unsigned char* body = len ? p + kHead : nullptr;
    if (p[6] == AIRS_TRANSPORT_REPLY)
      airs_transport_deliver_reply(n->rt, from, get_le(p + 32, 8),
                                   get_le(p + 24, 8), body, len);
    else
      airs_transport_deliver(n->rt, from, get_le(p + 16, 8), get_le(p + 24, 8),
                             body, len, static_cast<airs_priority>(p[5]),
                             get_le(p + 32, 8));
    p += kHead + len;
    size -= kHead + len;
  }
}

}  // namespace airs::node
