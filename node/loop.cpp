// loop.cpp - the NATS connection's socket driven by the runtime's reactor
// (cnats's natsOptions_SetEventLoop): no reader thread of cnats's. The
// socket is an fd watch of the runtime (airs_fd_watch_fn); its calls, on
// the reactor's thread (or the host's, in its poll), read and parse what came
// (natsConnection_ProcessReadEvent), deliver the batches of our data
// subject that came (a synchronous subscription, drained right after the
// read: no hand-off to a delivery thread, 2 thread switches less per
// round trip), and write what cnats could not write at once
// (natsConnection_ProcessWriteEvent). cnats still hands the other
// subscriptions' messages (heartbeats, claims, names, topics) to their own
// delivery threads, so that heartbeats never wait behind data.
//
// Writes. With an event loop cnats only buffers a publish and asks for
// write readiness; a round trip through the reactor for every batch and
// reply cost remote_call about 90 us at p50 (300 against 210). So the
// node's own publishes go through publish() below, which then writes what
// cnats buffered on the publishing thread (as cnats's SendAsap does
// without a loop); only what a full socket refuses waits for the reactor.
// A publish inside cnats (a request, a PONG) is written by the reactor.
//
// What cnats asks of an event loop, and when (cnats 3.4, src/conn.c):
//   attach   a socket is connected (at connect, and after each reconnect,
//            with no detach in between): watch it for reading.
//   read     only ever "remove", when cnats lets the socket go (an error:
//            it then reconnects): stop watching it.
//   write    "add" when bytes are waiting, "remove" once all are written.
//   detach   the connection is closed: nothing is called after it.
// attach, read and write run under the connection's lock, on whatever
// thread cnats is on (a sender's, the reconnect thread, or ours inside a
// Process*Event); detach with no lock held.
//
// Locking. Loop::read_mu lets one thread at a time read and deliver
// (cnats has one read buffer and one parser per connection, and the calls
// of two watches overlap across a reconnect); cnats's lock, notify_mu (in
// deliver) and write_mu are taken under it. Loop::write_mu lets one thread
// at a time write (a second ProcessWriteEvent with nothing left to write
// would send 0 bytes, which cnats reads as a closed connection); cnats's
// lock is taken under it. Loop::mu orders the state and the re-armings (a
// write "add" must not be lost to a re-arm for reading only that a call
// makes at the same moment); it is taken under cnats's lock and never held
// across a call into cnats. airs_fd_rearm and airs_fd_watch_fn take only
// the watch's own lock. A watch that cnats let go is never ended under
// cnats's lock (airs_fd_unwatch waits for a call under way, which may be
// waiting for that lock): it is retired, and ended by its own next call
// (cnats shut the socket down, so it reports at once), by the next call of
// the current watch, or at detach.
//
// Lifetime. Loop::watches counts the watches made and not yet ended, and
// loop_free waits until it is 0: a call may have taken the retired list
// (so detach does not know of those watches) or be the call of a retired
// watch ending itself, and still be using the loop. A call that ends its
// own watch counts it only as its very last use of the loop.
#include <time.h>

#include <algorithm>
#include <new>
#include <utility>

#include "node.hpp"

namespace airs::node {

namespace {

// Set while publish() is in cnats on this thread: it writes afterwards,
// so a write "add" needs no re-arm.
thread_local bool t_publishing = false;

// The watch whose call runs on this thread (0: none), and whether that
// call ended its own watch (counted when it returns).
thread_local uint64_t t_calling = 0;
thread_local bool t_call_ended = false;

// What cnats may hold unwritten before a publisher waits for the socket:
// without an event loop the publishing thread's own write blocked on a
// full socket; with one, cnats would buffer without end for a sender
// faster than the network.
constexpr int kMaxBuffered = 8 << 20;

uint32_t armed_for(const Loop& l) noexcept {
  return AIRS_FD_READ | (l.want_write ? AIRS_FD_WRITE : 0u);
}

// Writes what cnats buffered, if it waits to write; what the socket
// refuses is left to the reactor (armed for writing). [no cnats lock held]
void write_now(Loop* l) noexcept {
  std::lock_guard<std::mutex> writing(l->write_mu);
  {
    std::lock_guard<std::mutex> lock(l->mu);
    if (!l->want_write || l->watch == 0) return;
  }
  natsConnection_ProcessWriteEvent(l->nc);
  std::lock_guard<std::mutex> lock(l->mu);
  if (l->want_write && l->watch != 0)
    airs_fd_rearm(l->node->rt, l->watch, armed_for(*l));
}

// Counts `n` watches ended; the last lets loop_free go on. [mu not held]
void count_ended(Loop* l, int n) noexcept {
  if (n == 0) return;
  std::lock_guard<std::mutex> lock(l->mu);
  l->watches -= n;
  if (l->watches == 0) l->all_ended.notify_all();
}

// Ends the watches in `ids`: each waits for its call under way, unless it
// is this thread's own call's (airs_fd_unwatch does not wait for itself),
// which is counted when that call returns. [mu not held]
void end_watches(Loop* l, const std::vector<uint64_t>& ids) noexcept {
  int ended = 0;
  for (uint64_t id : ids) {
    airs_fd_unwatch(l->node->rt, id);
    if (id == t_calling)
      t_call_ended = true;
    else
      ended++;
  }
  count_ended(l, ended);
}

// Delivers the batches the last read queued on the data subscription.
// [read_mu held]
void drain(Loop* l) noexcept {
  if (l->data == nullptr) return;
  uint64_t queued = 0;
  while (natsSubscription_QueuedMsgs(l->data, &queued) == NATS_OK &&
         queued > 0) {
    natsMsg* msg = nullptr;
    if (natsSubscription_NextMsg(&msg, l->data, 0) != NATS_OK) break;
    deliver(l->node, natsMsg_GetData(msg),
            static_cast<size_t>(natsMsg_GetDataLength(msg)),
            natsMsg_GetReply(msg));
    natsMsg_Destroy(msg);
  }
}

// Reads what came on watch `id`'s socket, then delivers our batches. One
// reader at a time: the calls of two watches may overlap (the socket cnats
// let go and the one it reconnected with), and cnats has one read buffer
// and one parser per connection. A read by a watch that is no longer the
// current one is left out, unless cnats let its socket go after the check
// (then it reads the new socket, still one reader at a time).
void read_now(Loop* l, uint64_t id) noexcept {
  std::lock_guard<std::mutex> reading(l->read_mu);
  {
    std::lock_guard<std::mutex> lock(l->mu);
    if (id != l->watch) return;
  }
  natsConnection_ProcessReadEvent(l->nc);
  drain(l);
}

// What a call of watch `id` does: ends the retired watches, reads,
// writes, re-arms. [on_socket's thread]
void serve(Loop* l, uint64_t id, uint32_t ready) noexcept {
  std::vector<uint64_t> retired;
  bool current;
  {
    std::lock_guard<std::mutex> lock(l->mu);
    current = id == l->watch;
    retired.swap(l->retired);
  }
  end_watches(l, retired);  // may include `id`: no wait for itself
  if (!current) return;
  if (ready & AIRS_FD_READ) read_now(l, id);
  if (ready & AIRS_FD_WRITE) write_now(l);
  std::lock_guard<std::mutex> lock(l->mu);
  if (id == l->watch) {
    airs_fd_rearm(l->node->rt, id, armed_for(*l));
    return;
  }
  // cnats let the socket go in the calls above: this call ends its watch
  // (its own: no wait), unless detach did already.
  auto it = std::find(l->retired.begin(), l->retired.end(), id);
  if (it == l->retired.end()) return;
  l->retired.erase(it);
  airs_fd_unwatch(l->node->rt, id);
  t_call_ended = true;
}

// The watch's call: the socket is ready. [the reactor's thread, or the
// host's in its poll; never two at once for one watch]
void on_socket(void* arg, uint64_t id, uint32_t ready) {
  auto* l = static_cast<Loop*>(arg);
  t_calling = id;
  t_call_ended = false;
  serve(l, id, ready);
  bool ended = t_call_ended;
  t_calling = 0;
  t_call_ended = false;
  if (ended) count_ended(l, 1);  // this call's last use of the loop
}

// [under the connection's lock]
natsStatus on_attach(void** user, void* loop, natsConnection* nc,
                     natsSock sock) {
  auto* l = static_cast<Loop*>(loop);
  *user = l;
  std::lock_guard<std::mutex> lock(l->mu);
  l->nc = nc;
  if (l->watch != 0) {
    try {
      l->retired.push_back(l->watch);
    } catch (...) {
      return NATS_NO_MEMORY;
    }
  }
  l->watch = 0;
  l->want_write = false;
  // Under mu: a call that comes at once waits to see the watch as ours.
  uint64_t id = 0;
  if (airs_fd_watch_fn(l->node->rt, static_cast<int>(sock), AIRS_FD_READ,
                       on_socket, l, &id) != AIRS_OK)
    return NATS_ERR;
  l->watch = id;
  l->watches++;
  return NATS_OK;
}

// [under the connection's lock]
natsStatus on_read(void* user, bool add) {
  auto* l = static_cast<Loop*>(user);
  std::lock_guard<std::mutex> lock(l->mu);
  if (add) {  // not asked by cnats 3.4; as attach left it
    if (l->watch != 0) airs_fd_rearm(l->node->rt, l->watch, armed_for(*l));
    return NATS_OK;
  }
  if (l->watch != 0) {
    try {
      l->retired.push_back(l->watch);
    } catch (...) {
      // No memory: detach ends it (its fd stays open until then).
      l->stray = l->watch;
    }
    // A shut-down socket is readable: its watch's next call ends it.
    airs_fd_rearm(l->node->rt, l->watch, AIRS_FD_READ);
  }
  l->watch = 0;
  l->want_write = false;
  return NATS_OK;
}

// [under the connection's lock]
natsStatus on_write(void* user, bool add) {
  auto* l = static_cast<Loop*>(user);
  std::lock_guard<std::mutex> lock(l->mu);
  l->want_write = add;
  // A removal needs no re-arm: who wrote re-arms when done.
  if (add && !t_publishing && l->watch != 0 &&
      airs_fd_rearm(l->node->rt, l->watch, armed_for(*l)) != AIRS_OK)
    return NATS_ERR;
  return NATS_OK;
}

// [no lock held: cnats's closing thread; or loop_free]
natsStatus on_detach(void* user) {
  auto* l = static_cast<Loop*>(user);
  std::vector<uint64_t> ids;
  {
    std::lock_guard<std::mutex> lock(l->mu);
    ids.swap(l->retired);
    if (l->watch != 0) ids.push_back(l->watch);
    if (l->stray != 0) ids.push_back(l->stray);
    l->watch = l->stray = 0;
    l->want_write = false;
  }
  // Waits for a call under way (unless this is inside it, when cnats
  // closes from a read): none of these runs once this returns.
  end_watches(l, ids);
  return NATS_OK;
}

}  // namespace

natsStatus publish(airs_node* n, const char* subject, const char* reply,
                   const void* data, size_t size) noexcept {
  t_publishing = n->loop != nullptr;
  int len = static_cast<int>(size);
  natsStatus s =
      reply != nullptr
          ? natsConnection_PublishRequest(n->nc, subject, reply, data, len)
          : natsConnection_Publish(n->nc, subject, data, len);
  t_publishing = false;
  if (n->loop == nullptr) return s;
  write_now(n->loop);
  // Back-pressure while connected (a reconnecting connection buffers in
  // cnats's own bounded reconnect buffer).
  while (natsConnection_Buffered(n->nc) > kMaxBuffered &&
         natsConnection_Status(n->nc) == NATS_CONN_STATUS_CONNECTED) {
    struct timespec ts = {0, 100 * 1000};
    nanosleep(&ts, nullptr);
    write_now(n->loop);
  }
  return s;
}

bool use_reactor(airs_runtime* rt) noexcept {
  uint32_t workers = 0;
  return airs_runtime_workers(rt, &workers) == AIRS_OK && workers > 0;
}

void loop_free(airs_node* n) noexcept {
  if (n->loop == nullptr) return;
  Loop* l = n->loop;
  on_detach(l);  // cnats did, unless its connect failed half way
  {
    // The calls that took retired watches end them (and their own).
    std::unique_lock<std::mutex> lock(l->mu);
    l->all_ended.wait(lock, [l] { return l->watches == 0; });
  }
  delete l;
  n->loop = nullptr;
}

airs_status subscribe_data(airs_node* n, natsMsgHandler handler) noexcept {
  if (n->loop == nullptr)
    return subscribe(n, &n->data_sub, n->data_subject, handler);
  natsStatus s = natsConnection_SubscribeSync(&n->data_sub, n->nc,
                                              n->data_subject.c_str());
  if (s != NATS_OK)
    return failf(AIRS_EOS, "airs_node_attach: %s: %s", n->data_subject.c_str(),
                 natsStatus_GetText(s));
  std::lock_guard<std::mutex> reading(n->loop->read_mu);
  n->loop->data = n->data_sub;
  return AIRS_OK;
}

natsStatus loop_set(airs_node* n) noexcept {
  n->loop = new (std::nothrow) Loop;
  if (n->loop == nullptr) return NATS_NO_MEMORY;
  n->loop->node = n;
  return natsOptions_SetEventLoop(n->opts, n->loop, on_attach, on_read,
                                  on_write, on_detach);
}

}  // namespace airs::node
