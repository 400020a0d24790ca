// remote.cpp - messages between nodes: the runtime's transport
// (airs/transport.h) on the way out, the data subscription on the way in.
//
// Each message or signal is one frame; the frames for one node are
// gathered and published together as one NATS message (a batch) on its
// data subject (<cluster>.node.<name>.data: one subject per node, not per
// process). A batch opens with the pid tag of the node that sent it, so
// that the receiver knows whose it is even when no frame has a sender:
//
//   offset  size  field
//   0       4     magic "AIRB"
//   4       1     version (2)
//   5       1     reserved, 0
//   6       2     the sending node's pid tag
//   8       8     index of its first message among all the messages this
//                 node published to the receiver (a message in fragments
//                 counts once, at its first)
//   16      8     likewise for signals
//   then frames:
//   0       4     magic "AIRD"
//   4       1     version (2)
//   5       1     priority (an airs_priority)
//   6       1     kind: an airs_transport_kind (message, request, reply,
//                 signal), kNotice, kFragment or kPool
//   7       1     reserved, 0
//   8       8     sender pid
//   16      8     receiver pid
//   24      8     message type (a signal: its airs_transport_signal_code)
//   32      8     correlation id (a signal: its ref)
//   40      4     data size n
//   44      n     data (a signal: exit kind and code, 4 bytes each, and
//                 the reason's text)
//
// A message bigger than a batch goes as fragments of up to kChunk bytes
// (kind kFragment; the head's fields are the message's), each with this
// before its bytes: fragment id (8, per node), the message's size (4),
// this fragment's offset (4), the message's kind (1), 7 bytes of 0. Other
// frames may come between them, so a big message never holds up small
// ones; the receiver puts the message together (fragment_in) and delivers
// it when its last fragment comes. Up to kMaxMessage bytes.
//
// A pool frame (kPool, pools.cpp) says that the sender pid joined (type
// 1) or left (type 0) the pool its data names; it counts among the
// signals.
//
// A batch leaves when the turn that filled it ends (the runtime calls the
// transport's flush), when it would pass kBatch bytes, at once for a send
// from outside any process, and at once for a request, a reply or a
// signal, which someone waits for. The batch goes out with our data
// subject as its reply
// subject, so that a node that has not heard our heartbeat yet can answer
// at once.
//
// Losses in flight. NATS is at most once: a batch can vanish in the
// server (a restart) with nothing said. The indexes in the batch head
// show it: a batch whose first index is past the next one expected from
// its node means batches were lost. Each lost message is then a
// NOCONNECTION dead letter here, and, since signals may have been lost
// too, the connection counts as broken, as a TCP connection between
// Erlang nodes would: this node breaks its ties to that node (noconnection
// for its links and monitors), its node monitors see it DOWN and UP, and
// it is told to do the same (a notice). A batch that could not be
// published is counted by its sender and takes no index.
//
// Order: frames for one node are appended and published under that
// node's Outbound lock, and a process sends from one thread at a time, so
// frames from one sender to one receiver leave in order, signals among
// messages; one subscription delivers them in order. FIFO per pair, as in
// Erlang. A batch from a node we have declared down is not delivered (see
// peers.cpp): each message in it is a NOCONNECTION dead letter.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "node.hpp"

namespace airs::node {

namespace {

constexpr char kBatchMagic[4] = {'A', 'I', 'R', 'B'};
constexpr char kMagic[4] = {'A', 'I', 'R', 'D'};
constexpr uint8_t kVersion = 2;
constexpr size_t kBatchHead = 24;
constexpr size_t kHead = 44;
constexpr size_t kBatch = 64 * 1024;
constexpr size_t kSignalData = 8;  // exit kind and code, then the text
constexpr size_t kChunk = 32 * 1024;
constexpr size_t kFragHead = 24;
constexpr size_t kMaxMessage = size_t{64} << 20;
constexpr size_t kMaxPartialBytes = size_t{256} << 20;  // see fragment_in

void put_head(unsigned char* out, uint8_t priority, uint8_t kind, airs_pid from,
              airs_pid to, uint64_t type, uint64_t correlation,
              size_t size) noexcept {
  memcpy(out, kMagic, 4);
  out[4] = kVersion;
  out[5] = priority;
  out[6] = kind;
  out[7] = 0;
  put_le(out + 8, from, 8);
  put_le(out + 16, to, 8);
  put_le(out + 24, type, 8);
  put_le(out + 32, correlation, 8);
  put_le(out + 40, size, 4);
}

// One frame as read back: its fields and its data.
struct Frame {
  uint8_t priority, kind;
  airs_pid from, to;
  uint64_t type, correlation;
  const unsigned char* data;
  size_t size;
};

// Reads the frame at *p (*size bytes left) and steps past it. false: not
// a whole frame of ours (the rest of the batch is ignored: anyone may
// publish on the subject).
bool next_frame(const unsigned char** p, size_t* size, Frame* f) noexcept {
  const unsigned char* q = *p;
  if (*size < kHead || memcmp(q, kMagic, 4) != 0 || q[4] != kVersion ||
      q[5] > AIRS_PRIORITY_HIGH || q[6] > kPool)
    return false;
  size_t len = get_le(q + 40, 4);
  if (*size - kHead < len) return false;
  *f = Frame{q[5],
             q[6],
             get_le(q + 8, 8),
             get_le(q + 16, 8),
             get_le(q + 24, 8),
             get_le(q + 32, 8),
             len ? q + kHead : nullptr,
             len};
  *p += kHead + len;
  *size -= kHead + len;
  return true;
}

// The signal a frame carries; its text points into the frame, copied to
// `text` so that it ends with a NUL. false: a malformed signal frame.
bool read_signal(const Frame& f, airs_transport_signal* sig,
                 std::string* text) {
  if (f.size < kSignalData) return false;
  *sig = airs_transport_signal{};
  sig->code = static_cast<uint32_t>(f.type);
  sig->exit_kind = static_cast<int32_t>(get_le(f.data, 4));
  sig->exit_code = static_cast<int32_t>(get_le(f.data + 4, 4));
  text->assign(reinterpret_cast<const char*>(f.data) + kSignalData,
               f.size - kSignalData);
  sig->text = text->c_str();
  sig->text_size = static_cast<uint32_t>(text->size());
  sig->ref = f.correlation;
  return true;
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

// A link or monitor request that never left, for a node that cannot be
// reached: answered here as that node would be, with noconnection (an
// exit signal or a DOWN from its target). Other signals just go: the
// loss of the node tells whoever they concern.
void answer_unsent(airs_node* n, const Frame& f) noexcept {
  airs_transport_signal sig{};
  if (f.type == AIRS_TRANSPORT_SIG_LINK)
    sig.code = AIRS_TRANSPORT_SIG_LINK_EXIT;
  else if (f.type == AIRS_TRANSPORT_SIG_MONITOR)
    sig.code = AIRS_TRANSPORT_SIG_DOWN;
  else
    return;
  sig.exit_kind = AIRS_EXIT_NOCONNECTION;
  sig.text = "";
  sig.ref = f.correlation;
  airs_transport_deliver_signal(n->rt, f.to, f.from, &sig);
}

// A message lost in pieces: a dead letter with its type, no bytes.
void lost(airs_node* n, uint64_t type) noexcept {
  airs_msg* m = nullptr;
  if (airs_msg_new(type, nullptr, 0, &m) == AIRS_OK)
    airs_transport_drop(n->rt, m, AIRS_DEAD_LETTER_NOCONNECTION);
}

// Each frame of a batch that could not leave, or that came from a node we
// have declared down: a message is a dead letter, counted and shown to the
// hook as a copy (the original is gone); a link or monitor we sent is
// answered (answer_unsent) when `ours`.
void drop_batch(airs_node* n, const unsigned char* p, size_t size,
                bool ours) noexcept {
  if (size < kBatchHead) return;
  p += kBatchHead;
  size -= kBatchHead;
  Frame f;
  while (next_frame(&p, &size, &f)) {
    if (f.kind == AIRS_TRANSPORT_SIGNAL) {
      if (ours) answer_unsent(n, f);
      continue;
    }
    if (f.kind == kNotice || f.kind == kPool) continue;
    airs_msg* m = nullptr;
    if (f.kind == kFragment) {
      // One dead letter per message, at its first fragment: its type,
      // without its bytes (they are in pieces).
      if (f.size >= kFragHead && get_le(f.data + 12, 4) == 0 &&
          airs_msg_new(f.type, nullptr, 0, &m) == AIRS_OK)
        airs_transport_drop(n->rt, m, AIRS_DEAD_LETTER_NOCONNECTION);
      continue;
    }
    if (airs_msg_new(f.type, f.data, f.size, &m) == AIRS_OK)
      airs_transport_drop(n->rt, m, AIRS_DEAD_LETTER_NOCONNECTION);
  }
}

// The pool frames of a batch.
uint64_t count_pool_frames(const unsigned char* p, size_t size) noexcept {
  Frame f;
  uint64_t pools = 0;
  p += kBatchHead;
  size -= kBatchHead;
  while (next_frame(&p, &size, &f)) pools += f.kind == kPool;
  return pools;
}

// Publishes what `out` holds, with the indexes of its first message and
// signal. A batch that cannot leave is kept for drop_failed() (the caller
// calls it once it has let go of out->mu), but its pool frames still take
// their indexes: the receiver sees a gap at the next
// batch and breaks the connection, which starts both sides' pools over
// (pools.cpp); a lost join or leave would otherwise go unseen. [under
// out->mu]
void publish_batch(airs_node* n, Outbound* out) noexcept {
  if (out->frames.empty()) return;
  put_le(out->frames.data() + 8, out->sent_msgs, 8);
  put_le(out->frames.data() + 16, out->sent_sigs, 8);
  natsStatus s = publish(n, out->subject.c_str(), n->data_subject.c_str(),
                         out->frames.data(), out->frames.size());
  if (s == NATS_OK) {
    out->sent_msgs += out->batch_msgs;
    out->sent_sigs += out->batch_sigs;
    n->counters.batches_out.fetch_add(1, std::memory_order_relaxed);
    n->counters.messages_out.fetch_add(out->batch_msgs,
                                       std::memory_order_relaxed);
  } else {  // closed, or reconnecting with its buffer full: counted here
    n->counters.batches_failed.fetch_add(1, std::memory_order_relaxed);
    out->sent_sigs += count_pool_frames(out->frames.data(), out->frames.size());
    try {
      out->failed.push_back(std::move(out->frames));
      out->frames = std::vector<unsigned char>();
      out->any_failed.store(true, std::memory_order_relaxed);
    } catch (...) {
      // No room to keep it: dropped here, under the lock (out of memory
      // already; the hook runs here only then).
      drop_batch(n, out->frames.data(), out->frames.size(), true);
    }
  }
  out->frames.clear();
  out->batch_msgs = out->batch_sigs = 0;
}

// Room for a frame of `size` data bytes at the end of `out`'s batch
// (opening the batch if it is empty): where its head goes. May publish
// the batch first to keep it under kBatch. [under out->mu; may throw
// bad_alloc, leaving the batch as it was]
unsigned char* append_frame(airs_node* n, Outbound* out, size_t size) {
  if (out->frames.size() + kHead + size > kBatch) publish_batch(n, out);
  size_t at = out->frames.size();
  if (at == 0) {
    out->frames.resize(kBatchHead + kHead + size);
    memset(out->frames.data(), 0, kBatchHead);  // indexes: at publish
    memcpy(out->frames.data(), kBatchMagic, 4);
    out->frames[4] = kVersion;
    put_le(out->frames.data() + 6, n->tag, 2);
    return out->frames.data() + kBatchHead;
  }
  out->frames.resize(at + kHead + size);
  return out->frames.data() + at;
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

// The data size of `msg`'s frame (a signal's read into *sig on the way).
size_t frame_size(const airs_msg* msg, airs_transport_kind kind,
                  airs_transport_signal* sig) noexcept {
  if (kind != AIRS_TRANSPORT_SIGNAL) return airs_msg_size(msg);
  if (airs_transport_signal_read(msg, sig) != AIRS_OK) return 0;
  return kSignalData + sig->text_size;
}

// Writes `msg`'s frame for `to`, of `size` data bytes, at `at`.
void write_frame(unsigned char* at, const airs_msg* msg, airs_pid to,
                 airs_transport_kind kind, const airs_transport_signal& sig,
                 size_t size) noexcept {
  if (kind == AIRS_TRANSPORT_SIGNAL) {
    put_head(at, AIRS_PRIORITY_NORMAL, kind, airs_msg_sender(msg), to, sig.code,
             sig.ref, size);
    put_le(at + kHead, static_cast<uint32_t>(sig.exit_kind), 4);
    put_le(at + kHead + 4, static_cast<uint32_t>(sig.exit_code), 4);
    memcpy(at + kHead + kSignalData, sig.text, sig.text_size);
    return;
  }
  put_head(at, static_cast<uint8_t>(airs_msg_priority(msg)),
           static_cast<uint8_t>(kind), airs_msg_sender(msg), to,
           airs_msg_type(msg), airs_msg_correlation(msg), size);
  if (size) memcpy(at + kHead, airs_msg_data(msg), size);
}

// Sends `msg` (size > a batch) as fragments, each appended as a frame of
// its own (other senders' frames may come between them); a request or a
// reply leaves at once after its last. ENOMEM: the fragments sent so far
// are a message that never completes (the receiver drops it when it
// meets the next fragment id of ours at offset 0, or when it loses us).
airs_status send_fragments(airs_node* n, const std::shared_ptr<Outbound>& out,
                           const airs_msg* msg, airs_pid to,
                           airs_transport_kind kind) noexcept {
  const auto* data = static_cast<const unsigned char*>(airs_msg_data(msg));
  size_t size = airs_msg_size(msg);
  uint64_t id = n->next_fragment.fetch_add(1, std::memory_order_relaxed);
  try {
    for (size_t off = 0; off < size; off += kChunk) {
      size_t len = size - off < kChunk ? size - off : kChunk;
      std::lock_guard<std::mutex> lock(out->mu);
      if (kind == AIRS_TRANSPORT_MESSAGE) mark_dirty(n, out);
      unsigned char* at = append_frame(n, out.get(), kFragHead + len);
      put_head(at, static_cast<uint8_t>(airs_msg_priority(msg)), kFragment,
               airs_msg_sender(msg), to, airs_msg_type(msg),
               airs_msg_correlation(msg), kFragHead + len);
      memset(at + kHead, 0, kFragHead);
      put_le(at + kHead, id, 8);
      put_le(at + kHead + 8, size, 4);
      put_le(at + kHead + 12, off, 4);
      at[kHead + 16] = static_cast<unsigned char>(kind);
      memcpy(at + kHead + kFragHead, data + off, len);
      if (off == 0) out->batch_msgs++;  // a message counts once
      bool last = off + len == size;
      if (out->frames.size() >= kBatch ||
          (last && kind != AIRS_TRANSPORT_MESSAGE))
        publish_batch(n, out.get());
    }
  } catch (...) {
    drop_failed(n, out.get());
    return AIRS_ENOMEM;
  }
  drop_failed(n, out.get());
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
    // a node that is down exits with nodedown); a message is lost; a link
    // or monitor is answered with noconnection (airs_transport_drop).
    if (kind == AIRS_TRANSPORT_REQUEST) return AIRS_ENOPROC;
    return airs_transport_drop(n->rt, msg, AIRS_DEAD_LETTER_NOCONNECTION);
  }
  airs_transport_signal sig{};
  size_t size = frame_size(msg, kind, &sig);
  if (kind != AIRS_TRANSPORT_SIGNAL && kBatchHead + kHead + size > kBatch) {
    if (size > kMaxMessage) return AIRS_EINVAL;
    airs_status st = send_fragments(n, out, msg, to, kind);
    if (st == AIRS_OK) airs_msg_free(msg);
    return st;
  }
  try {
    std::lock_guard<std::mutex> lock(out->mu);
    if (kind == AIRS_TRANSPORT_MESSAGE)
      mark_dirty(n, out);  // before: undo-free
    unsigned char* at = append_frame(n, out.get(), size);
    write_frame(at, msg, to, kind, sig, size);
    if (kind == AIRS_TRANSPORT_SIGNAL)
      out->batch_sigs++;
    else
      out->batch_msgs++;
    if (kind != AIRS_TRANSPORT_MESSAGE || out->frames.size() >= kBatch)
      publish_batch(n, out.get());  // someone waits for it, or it is full
  } catch (...) {
    drop_failed(n, out.get());
    return AIRS_ENOMEM;  // (the frame was not added: msg is the caller's)
  }
  airs_msg_free(msg);
  drop_failed(n, out.get());
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
    {
      std::lock_guard<std::mutex> lock(out->mu);
      out->queued = false;
      publish_batch(n, out.get());
    }
    drop_failed(n, out.get());
  }
  n->flushing.clear();  // keeps its capacity for the next flush
}

bool publish_frame(airs_node* n, const airs_msg* msg,
                   std::vector<unsigned char>* batch) {
  size_t size = airs_msg_size(msg);
  if (kBatchHead + kHead + size > static_cast<uint64_t>(n->max_payload))
    return false;
  batch->assign(kBatchHead + kHead + size, 0);  // (no indexes: a topic's)
  unsigned char* p = batch->data();
  memcpy(p, kBatchMagic, 4);
  p[4] = kVersion;
  put_le(p + 6, n->tag, 2);
  airs_transport_signal none{};
  write_frame(p + kBatchHead, msg, 0, AIRS_TRANSPORT_MESSAGE, none, size);
  return true;
}

void deliver_publish(airs_node* n, const std::string& topic, const void* data,
                     size_t size) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  if (size < kBatchHead || memcmp(p, kBatchMagic, 4) != 0 || p[4] != kVersion)
    return;  // not a batch of ours
  uint32_t source = static_cast<uint32_t>(get_le(p + 6, 2));
  if (source == n->tag) return;  // ours: our subscribers have it already
  std::lock_guard<std::recursive_mutex> order(n->notify_mu);  // see deliver()
  if (!source_up(n, source, nullptr)) return;
  p += kBatchHead;
  size -= kBatchHead;
  Frame f;
  while (next_frame(&p, &size, &f))
    if (f.kind == AIRS_TRANSPORT_MESSAGE)
      airs_transport_deliver_publish(n->rt, f.from, topic.data(), topic.size(),
                                     f.type, f.data, f.size, nullptr);
}

void send_pool_frame(airs_node* n, const std::shared_ptr<Outbound>& out,
                     const char* pool, airs_pid pid, bool on) {
  size_t len = strlen(pool);
  std::lock_guard<std::mutex> lock(out->mu);
  mark_dirty(n, out);  // before: undo-free
  unsigned char* at = append_frame(n, out.get(), len);
  put_head(at, AIRS_PRIORITY_NORMAL, kPool, pid, 0, on ? 1 : 0, 0, len);
  memcpy(at + kHead, pool, len);
  out->batch_sigs++;
}

void publish_now(airs_node* n, Outbound* out) noexcept {
  {
    std::lock_guard<std::mutex> lock(out->mu);
    publish_batch(n, out);
  }
  drop_failed(n, out);
}

void drop_failed(airs_node* n, Outbound* out) noexcept {
  if (!out->any_failed.load(std::memory_order_relaxed)) return;
  std::vector<std::vector<unsigned char>> batches;
  {
    std::lock_guard<std::mutex> lock(out->mu);
    std::swap(batches, out->failed);
    out->any_failed.store(false, std::memory_order_relaxed);
  }
  for (const auto& b : batches) drop_batch(n, b.data(), b.size(), true);
}

void send_notice(airs_node* n, Outbound* out) noexcept {
  try {
    std::lock_guard<std::mutex> lock(out->mu);
    unsigned char* at = append_frame(n, out, 0);
    put_head(at, AIRS_PRIORITY_NORMAL, kNotice, 0, 0, 0, 0, 0);
    publish_batch(n, out);
  } catch (...) {
    // Out of memory: that node keeps its ties to ours until it hears of
    // our end some other way (a heartbeat's silence, or our leaving).
  }
  drop_failed(n, out);
}

namespace {

// Delivers a whole message, by the kind it was sent as.
void deliver_frame(airs_node* n, const Frame& f, uint8_t kind) noexcept {
  if (kind == AIRS_TRANSPORT_REPLY)
    airs_transport_deliver_reply(n->rt, f.from, f.correlation, f.type, f.data,
                                 f.size);
  else
    airs_transport_deliver(n->rt, f.from, f.to, f.type, f.data, f.size,
                           static_cast<airs_priority>(f.priority),
                           f.correlation);
}

// Forgets a message coming in fragments, and the room it held. [under
// notify_mu]
std::unordered_map<uint64_t, Partial>::iterator forget_partial(
    airs_node* n, std::unordered_map<uint64_t, Partial>::iterator it) noexcept {
  n->partial_bytes -= it->second.total;
  return n->partials.erase(it);
}

// A fragment from node `source`: added to its message, which is delivered
// once whole. Fragments of one message come in order (one sender thread,
// one subscription); one that does not fit (a lost batch, a sender out of
// memory) drops its message: a dead letter, as a message lost whole. The
// messages coming in fragments hold at most kMaxPartialBytes together (a
// message's room is taken at its first fragment): one that would pass it
// is dropped the same way, so that senders cannot make a node hold more.
// [under notify_mu]
void fragment_in(airs_node* n, uint32_t source, const Frame& f) noexcept {
  if (f.size < kFragHead) return;
  uint64_t id = get_le(f.data, 8);
  size_t total = get_le(f.data + 8, 4), offset = get_le(f.data + 12, 4);
  uint8_t kind = f.data[16];
  size_t len = f.size - kFragHead;
  uint64_t key = static_cast<uint64_t>(source) << 48 | (id & 0xFFFFFFFFFFFF);
  try {
    auto it = n->partials.find(key);
    if (offset == 0) {
      if (it != n->partials.end()) forget_partial(n, it);  // never finished
      if (total > kMaxMessage || kind > AIRS_TRANSPORT_REPLY) return;
      if (n->partial_bytes + total > kMaxPartialBytes) {
        lost(n, f.type);
        return;
      }
      it = n->partials.emplace(key, Partial{total, {}}).first;
      n->partial_bytes += total;
      it->second.bytes.reserve(total);
    }
    if (it == n->partials.end()) return;  // its start was lost
    std::vector<unsigned char>& buf = it->second.bytes;
    if (offset != buf.size() || offset + len > total ||
        total != it->second.total) {
      forget_partial(n, it);
      lost(n, f.type);
      return;
    }
    buf.insert(buf.end(), f.data + kFragHead, f.data + f.size);
    if (buf.size() < total) return;
    Frame whole = f;
    whole.data = buf.data();
    whole.size = buf.size();
    n->counters.messages_in.fetch_add(1, std::memory_order_relaxed);
    deliver_frame(n, whole, kind);
    forget_partial(n, it);
  } catch (...) {
    auto it = n->partials.find(key);
    if (it != n->partials.end()) forget_partial(n, it);
    lost(n, f.type);  // out of memory for it: lost whole
  }
}

}  // namespace

namespace {

// The messages and signals a batch holds (as its sender counted them).
void count_frames(const unsigned char* p, size_t size, uint64_t* msgs,
                  uint64_t* sigs) noexcept {
  Frame f;
  *msgs = *sigs = 0;
  p += kBatchHead;
  size -= kBatchHead;
  while (next_frame(&p, &size, &f)) {
    if (f.kind == AIRS_TRANSPORT_SIGNAL || f.kind == kPool)
      ++*sigs;
    else if (f.kind == kFragment)
      *msgs += f.size >= kFragHead && get_le(f.data + 12, 4) == 0;
    else if (f.kind != kNotice)
      ++*msgs;
  }
}

// Checks a batch from `source` against the indexes expected next from it,
// and moves them past it. true: batches were lost before it (*lost_msgs:
// their messages). An index below the expected one is a new stream (the
// sender's route to us was made anew): taken as the start. [under
// notify_mu]
bool stream_gap(airs_node* n, uint32_t source, const unsigned char* batch,
                size_t size, uint64_t* lost_msgs) noexcept {
  uint64_t first_msg = get_le(batch + 8, 8), first_sig = get_le(batch + 16, 8);
  uint64_t msgs, sigs;
  count_frames(batch, size, &msgs, &sigs);
  try {
    auto [it, fresh] = n->streams.try_emplace(source);
    Stream& s = it->second;
    bool gap = !fresh && (first_msg > s.next_msg || first_sig > s.next_sig);
    *lost_msgs = gap && first_msg > s.next_msg ? first_msg - s.next_msg : 0;
    // A first batch from a node that was not at index 0: lost ones too.
    if (fresh && (first_msg > 0 || first_sig > 0)) {
      gap = true;
      *lost_msgs = first_msg;
    }
    s.next_msg = first_msg + msgs;
    s.next_sig = first_sig + sigs;
    return gap;
  } catch (...) {
    return false;  // out of memory for its entry: not checked
  }
}

// A pool frame from another node: its member joined or left the pool.
void pool_frame_in(airs_node* n, const Frame& f) noexcept {
  char pool[AIRS_NAME_MAX + 1];
  if (f.size == 0 || f.size > AIRS_NAME_MAX) return;  // not from us
  memcpy(pool, f.data, f.size);
  pool[f.size] = '\0';
  airs_transport_pool_member(n->rt, pool, f.from, f.type == 1);
}

}  // namespace

void forget_partials(airs_node* n, uint32_t source) noexcept {
  for (auto it = n->partials.begin(); it != n->partials.end();) {
    if (it->first >> 48 == source) {
      lost(n, 0);
      it = forget_partial(n, it);
    } else {
      ++it;
    }
  }
}

void deliver(airs_node* n, const void* data, size_t size,
             const char* reply) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  if (size < kBatchHead || memcmp(p, kBatchMagic, 4) != 0 || p[4] != kVersion)
    return;  // not a batch of ours
  uint32_t source = static_cast<uint32_t>(get_le(p + 6, 2));
  // Under notify_mu: a node declared down (peers.cpp) is declared between
  // two batches, never inside one, and a batch after that is not
  // delivered: its signals are not delivered after the processes they
  // concern heard of the loss.
  std::lock_guard<std::recursive_mutex> order(n->notify_mu);
  uint64_t lost_msgs = 0;
  if (stream_gap(n, source, p, size, &lost_msgs)) {
    for (uint64_t i = 0; i < lost_msgs; i++) lost(n, 0);
    broke(n, source);
  }
  if (!source_up(n, source, reply)) {
    drop_batch(n, p, size, false);
    forget_partials(n, source);
    return;
  }
  p += kBatchHead;
  size -= kBatchHead;
  n->counters.batches_in.fetch_add(1, std::memory_order_relaxed);
  Frame f;
  std::string text;
  while (next_frame(&p, &size, &f)) {
    if (f.kind <= AIRS_TRANSPORT_REPLY)  // a message, request or reply
      n->counters.messages_in.fetch_add(1, std::memory_order_relaxed);
    // A system type, a dead receiver, a reply nobody waits for: refused by
    // the runtime with a status; the message is lost (at most once),
    // counted as a dead letter where it applies.
    switch (f.kind) {
      case AIRS_TRANSPORT_REPLY: deliver_frame(n, f, f.kind); break;
      case AIRS_TRANSPORT_SIGNAL: {
        airs_transport_signal sig;
        try {
          if (read_signal(f, &sig, &text))
            airs_transport_deliver_signal(n->rt, f.from, f.to, &sig);
        } catch (...) {
          // Out of memory for the text: the signal is lost, as a frame
          // lost on the wire would be.
        }
        break;
      }
      case kNotice: noticed(n, source); break;
      case kPool: pool_frame_in(n, f); break;
      case kFragment: fragment_in(n, source, f); break;
      default: deliver_frame(n, f, f.kind);
    }
  }
}

}  // namespace airs::node
