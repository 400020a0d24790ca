// attach.cpp - the C API of node.h: attaching a runtime to NATS, in named
// phases (check the options, connect, claim the name, listen, tick), and
// detaching it in the reverse order.
#include <sys/random.h>

#include <cstring>
#include <new>

#include "node.hpp"

using airs::node::Clock;
using airs::node::failf;

namespace {

constexpr uint32_t kHeartbeatMs = 100, kDownAfterMs = 1000, kGraceMs = 2000,
                   kConnectMs = 2000, kMaxMs = 600000;

// Attached runtimes: one node each.
std::mutex attached_mu;
std::vector<airs_runtime*>* attached;

uint64_t new_incarnation() noexcept {
  uint64_t v = 0;
  while (v == 0) {
    if (getrandom(&v, sizeof v, 0) != sizeof v)
      v = static_cast<uint64_t>(Clock::now().time_since_epoch().count()) ^
          reinterpret_cast<uintptr_t>(&v);
  }
  return v;
}

airs_status check_opts(const airs_node_opts* o) noexcept {
  if (o->version != AIRS_NODE_OPTS_VERSION || o->size < sizeof(airs_node_opts))
    return failf(AIRS_EINVAL,
                 "airs_node_attach: opts version %u size %u: "
                 "not airs_node_opts version %u (use "
                 "airs_node_opts_init)",
                 o->version, o->size, AIRS_NODE_OPTS_VERSION);
  if (o->url == nullptr || o->url[0] == '\0')
    return failf(AIRS_EINVAL, "airs_node_attach: no url");
  if (o->name == nullptr || !airs::node::valid_name(o->name))
    return failf(AIRS_EINVAL,
                 "airs_node_attach: the name must be 1..%d of "
                 "[A-Za-z0-9_-]",
                 AIRS_NODE_NAME_MAX);
  if (o->cluster == nullptr || !airs::node::valid_name(o->cluster))
    return failf(AIRS_EINVAL,
                 "airs_node_attach: the cluster must be 1..%d "
                 "of [A-Za-z0-9_-]",
                 AIRS_NODE_NAME_MAX);
  if (o->heartbeat_ms < 10 || o->heartbeat_ms > 10000)
    return failf(AIRS_EINVAL,
                 "airs_node_attach: heartbeat_ms %u is not in "
                 "10..10000",
                 o->heartbeat_ms);
  if (o->down_after_ms < 2 * o->heartbeat_ms || o->down_after_ms > kMaxMs)
    return failf(AIRS_EINVAL,
                 "airs_node_attach: down_after_ms %u is not in "
                 "2 * heartbeat_ms..%u",
                 o->down_after_ms, kMaxMs);
  if (o->reconnect_grace_ms > kMaxMs)
    return failf(AIRS_EINVAL,
                 "airs_node_attach: reconnect_grace_ms %u is "
                 "over %u",
                 o->reconnect_grace_ms, kMaxMs);
  if (o->connect_timeout_ms == 0 || o->connect_timeout_ms > kMaxMs)
    return failf(AIRS_EINVAL,
                 "airs_node_attach: connect_timeout_ms %u is "
                 "not in 1..%u",
                 o->connect_timeout_ms, kMaxMs);
  return AIRS_OK;
}

airs_status nats_failed(const char* what, natsStatus s) noexcept {
  return failf(AIRS_EOS, "airs_node_attach: %s: %s", what,
               natsStatus_GetText(s));
}

// --- cnats callbacks ---------------------------------------------------------

void on_heartbeat(natsConnection*, natsSubscription*, natsMsg* msg,
                  void* closure) {
  auto* n = static_cast<airs_node*>(closure);
  char name[AIRS_NODE_NAME_MAX + 1];
  uint64_t incarnation;
  uint32_t tag, flags;
  if (airs::node::heartbeat_parse(
          natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)),
          name, &incarnation, &tag, &flags))
    airs::node::heard(n, name, incarnation, tag, flags);
  natsMsg_Destroy(msg);
}

void on_data(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  airs::node::deliver(static_cast<airs_node*>(closure), natsMsg_GetData(msg),
                      static_cast<size_t>(natsMsg_GetDataLength(msg)),
                      natsMsg_GetReply(msg));
  natsMsg_Destroy(msg);
}

// A claim of our name or our pid tag by a node attaching: we answer (with
// who we are), so it fails.
void on_claim(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* n = static_cast<airs_node*>(closure);
  if (natsMsg_GetReply(msg) != nullptr) {
    unsigned char frame[airs::node::kFrameMax];
    // The answer is who holds the name; its sequence number means nothing.
    size_t size = airs::node::heartbeat_frame(n, 0, 0, frame);
    airs::node::publish(n, natsMsg_GetReply(msg), nullptr, frame, size);
  }
  natsMsg_Destroy(msg);
}

void on_sub_complete(void* closure) {
  auto* n = static_cast<airs_node*>(closure);
  std::lock_guard<std::mutex> lock(n->mu);
  n->subs_open--;
  n->cv.notify_all();
}

void on_disconnected(natsConnection*, void* closure) {
  airs::node::disconnected(static_cast<airs_node*>(closure));
}

void on_reconnected(natsConnection*, void* closure) {
  airs::node::reconnected(static_cast<airs_node*>(closure));
}

void on_closed(natsConnection*, void* closure) {
  auto* n = static_cast<airs_node*>(closure);
  std::lock_guard<std::mutex> lock(n->mu);
  n->conn_closed = true;
  n->cv.notify_all();
}

// --- phases of attach
// ----------------------------------------------------------

airs_status connect(airs_node* n, const airs_node_opts* o) noexcept {
  natsStatus s = natsOptions_Create(&n->opts);
  if (s == NATS_OK) s = natsOptions_SetURL(n->opts, o->url);
  if (s == NATS_OK) s = natsOptions_SetName(n->opts, o->name);
  if (s == NATS_OK) s = natsOptions_SetTimeout(n->opts, o->connect_timeout_ms);
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(n->opts, true);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(n->opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(n->opts, 100);
  if (s == NATS_OK) s = natsOptions_SetSendAsap(n->opts, true);
  if (s == NATS_OK)
    s = natsOptions_SetDisconnectedCB(n->opts, on_disconnected, n);
  if (s == NATS_OK)
    s = natsOptions_SetReconnectedCB(n->opts, on_reconnected, n);
  if (s == NATS_OK) s = natsOptions_SetClosedCB(n->opts, on_closed, n);
  if (s == NATS_OK && airs::node::use_reactor(n->rt))
    s = airs::node::loop_set(n);
  if (s != NATS_OK) return nats_failed("options", s);
  s = natsConnection_Connect(&n->nc, n->opts);
  if (s != NATS_OK) {
    n->nc = nullptr;
    return failf(AIRS_EOS, "airs_node_attach: connecting to %s: %s", o->url,
                 natsStatus_GetText(s));
  }
  return AIRS_OK;
}

// Asks whoever holds the runtime's pid tag: "no responders" means nobody
// does. Tags must differ across the cluster, so that a pid names one
// process everywhere (airs/transport.h).
airs_status claim_tag(airs_node* n, uint32_t timeout_ms) noexcept {
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_RequestString(
      &reply, n->nc, n->tag_subject.c_str(), "claim",
      timeout_ms < 500 ? timeout_ms : 500);
  char holder[AIRS_NODE_NAME_MAX + 1] = "?";
  uint64_t incarnation;
  uint32_t tag, flags;
  if (reply != nullptr) {
    airs::node::heartbeat_parse(
        natsMsg_GetData(reply),
        static_cast<size_t>(natsMsg_GetDataLength(reply)), holder, &incarnation,
        &tag, &flags);
    natsMsg_Destroy(reply);
  }
  if (s == NATS_NO_RESPONDERS) return AIRS_OK;
  if (s == NATS_OK || s == NATS_TIMEOUT)
    return failf(AIRS_EEXIST,
                 "airs_node_attach: the runtime's pid tag %u is held by "
                 "node '%s' of cluster '%s'%s; make the runtime with "
                 "AIRS_CFG_PID_TAG set to another tag",
                 n->tag, holder, n->cluster.c_str(),
                 s == NATS_TIMEOUT ? " (which does not answer)" : "");
  return nats_failed("claiming the pid tag", s);
}

// Asks whoever holds the name: "no responders" means nobody does.
airs_status claim_name(airs_node* n, uint32_t timeout_ms) noexcept {
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_RequestString(
      &reply, n->nc, n->self_subject.c_str(), "claim",
      timeout_ms < 500 ? timeout_ms : 500);
  if (reply != nullptr) natsMsg_Destroy(reply);
  if (s == NATS_NO_RESPONDERS) return AIRS_OK;
  if (s == NATS_OK)
    return failf(AIRS_EEXIST,
                 "airs_node_attach: a node named '%s' is up in "
                 "cluster '%s'",
                 n->name.c_str(), n->cluster.c_str());
  if (s == NATS_TIMEOUT)
    return failf(AIRS_EEXIST,
                 "airs_node_attach: a node named '%s' exists "
                 "in cluster '%s' but does not answer (stopped?)",
                 n->name.c_str(), n->cluster.c_str());
  return nats_failed("claiming the name", s);
}

}  // namespace

airs_status airs::node::subscribe(airs_node* n, natsSubscription** sub,
                                  const std::string& subject,
                                  natsMsgHandler handler) noexcept {
  natsStatus s =
      natsConnection_Subscribe(sub, n->nc, subject.c_str(), handler, n);
  if (s == NATS_OK) {
    {
      std::lock_guard<std::mutex> lock(n->mu);
      n->subs_open++;
    }
    s = natsSubscription_SetOnCompleteCB(*sub, on_sub_complete, n);
  }
  if (s != NATS_OK) return nats_failed(subject.c_str(), s);
  return AIRS_OK;
}

namespace {
using airs::node::subscribe;

// From now on, sends to pids of other runtimes come to transport_send.
airs_status install_transport(airs_node* n) noexcept {
  n->max_payload = natsConnection_GetMaxPayload(n->nc);
  airs_transport t;
  memset(&t, 0, sizeof t);
  t.version = AIRS_TRANSPORT_VERSION;
  t.size = sizeof t;
  t.send = airs::node::transport_send;
  t.flush = airs::node::transport_flush;
  t.topic_interest = airs::node::topic_interest;
  t.publish = airs::node::transport_publish;
  t.pool_member = airs::node::pool_member;
  if (airs_transport_set(n->rt, &t, n) != AIRS_OK)
    return failf(AIRS_ENOMEM, "airs_node_attach: %s",
                 airs_last_error_message());
  n->transport_set = true;
  // Our peers and traffic in the runtime's metrics.
  if (airs_status st =
          airs_metrics_source_add(n->rt, airs::node::write_metrics, n);
      st != AIRS_OK)
    return failf(st, "airs_node_attach: %s", airs_last_error_message());
  n->metrics_added = true;
  return AIRS_OK;
}

void run_ticker(airs_node* n) noexcept {
  std::unique_lock<std::mutex> lock(n->mu);
  Clock::time_point last = Clock::now();
  while (!n->stopping) {
    n->cv.wait_for(lock, n->heartbeat);
    if (n->stopping) break;
    Clock::time_point now = Clock::now();
    bool stalled = now - last > n->down_after;
    last = now;
    lock.unlock();
    airs::node::tick(n, stalled);
    lock.lock();
  }
}

// A round trip to the server: once it is back, the server has every
// subscription made so far (ours, and the topics the transport brought),
// so a node that asks who holds our tag, or sends to us, the moment
// attach returns is answered. (Without it, a first send raced our
// subscriptions to the server and got "no responders": ENOPROC.)
airs_status subscriptions_registered(airs_node* n,
                                     int64_t timeout_ms) noexcept {
  natsStatus s = natsConnection_FlushTimeout(n->nc, timeout_ms);
  if (s != NATS_OK) return nats_failed("flush", s);
  return AIRS_OK;
}

// Undoes what attach did, in reverse; safe at every phase.
void teardown(airs_node* n, bool leave) noexcept {
  {
    std::lock_guard<std::mutex> lock(n->mu);
    n->stopping = true;
    n->cv.notify_all();
  }
  if (n->ticker.joinable()) n->ticker.join();
  // The metrics no longer read this node once this returns.
  if (n->metrics_added)
    airs_metrics_source_remove(n->rt, airs::node::write_metrics, n);
  airs::node::globals_stop(n);
  // No send is inside our transport once this returns.
  if (n->transport_set) {
    airs_transport_set(n->rt, nullptr, nullptr);
    airs::node::transport_flush(n);  // what the last turns left
    // Every other node is out of reach now: our processes' links and
    // monitors to theirs break with noconnection, as when Erlang's
    // distribution stops.
    std::vector<uint32_t> tags;
    try {
      std::lock_guard<std::mutex> lock(n->mu);
      // (Every peer has a route; a route may have no peer yet.)
      for (auto& [tag, route] : n->routes) tags.push_back(tag);
    } catch (...) {
      // Out of memory: those ties stay until their processes end.
    }
    for (uint32_t tag : tags) airs_transport_node_down(n->rt, tag);
  }
  if (n->nc != nullptr) {
    // Nothing answers for this node any more (its names, its tag, its
    // data) before the peers hear it leave: the server handles one
    // connection's protocol in order, so a peer that acts on the leaving
    // heartbeat finds nobody (whereis: not found; a call: noproc).
    for (natsSubscription* sub : {n->self_sub, n->data_sub, n->tag_sub})
      if (sub != nullptr) natsSubscription_Unsubscribe(sub);
    airs::node::globals_unsubscribe(n);
    airs::node::topics_unsubscribe(n);
    if (leave) {
      unsigned char frame[airs::node::kFrameMax];
      uint64_t seq;
      {
        std::lock_guard<std::mutex> lock(n->mu);
        seq = ++n->seq;
      }
      size_t size =
          airs::node::heartbeat_frame(n, airs::node::kLeaving, seq, frame);
      airs::node::publish(n, n->hb_subject.c_str(), nullptr, frame, size);
      natsConnection_FlushTimeout(n->nc, 500);
    }
    if (n->hb_sub != nullptr) natsSubscription_Unsubscribe(n->hb_sub);
    natsConnection_Close(n->nc);
    std::unique_lock<std::mutex> lock(n->mu);
    n->cv.wait(lock, [n] { return n->subs_open == 0 && n->conn_closed; });
  }
  for (natsSubscription* sub :
       {n->hb_sub, n->self_sub, n->data_sub, n->tag_sub})
    if (sub != nullptr) natsSubscription_Destroy(sub);
  airs::node::globals_destroy(n);
  airs::node::topics_destroy(n);
  if (n->nc != nullptr) natsConnection_Destroy(n->nc);
  airs::node::loop_free(n);
  if (n->opts != nullptr) natsOptions_Destroy(n->opts);
  {
    std::lock_guard<std::mutex> lock(attached_mu);
    if (attached != nullptr)
      for (auto it = attached->begin(); it != attached->end(); ++it)
        if (*it == n->rt) {
          attached->erase(it);
          break;
        }
  }
  delete n;
}

airs_status claim_runtime(airs_runtime* rt) noexcept {
  std::lock_guard<std::mutex> lock(attached_mu);
  try {
    if (attached == nullptr) attached = new std::vector<airs_runtime*>;
    for (airs_runtime* r : *attached)
      if (r == rt)
        return failf(AIRS_ESTATE,
                     "airs_node_attach: the runtime has a node "
                     "already");
    attached->push_back(rt);
  } catch (...) {
    return failf(AIRS_ENOMEM, "airs_node_attach: out of memory");
  }
  return AIRS_OK;
}

}  // namespace

extern "C" {

airs_status airs_node_opts_init(airs_node_opts* opts) {
  airs::node::clear_error();
  if (opts == nullptr) return failf(AIRS_EINVAL, "airs_node_opts_init: NULL");
  memset(opts, 0, sizeof *opts);
  opts->version = AIRS_NODE_OPTS_VERSION;
  opts->size = sizeof *opts;
  opts->cluster = "airs";
  opts->heartbeat_ms = kHeartbeatMs;
  opts->down_after_ms = kDownAfterMs;
  opts->reconnect_grace_ms = kGraceMs;
  opts->connect_timeout_ms = kConnectMs;
  return AIRS_OK;
}

airs_status airs_node_attach(airs_runtime* rt, const airs_node_opts* opts,
                             airs_node** out) {
  airs::node::clear_error();
  if (rt == nullptr || opts == nullptr || out == nullptr)
    return failf(AIRS_EINVAL, "airs_node_attach: NULL %s",
                 rt == nullptr     ? "rt"
                 : opts == nullptr ? "opts"
                                   : "out");
  airs_status st = check_opts(opts);
  if (st != AIRS_OK) return st;
  auto* n = new (std::nothrow) airs_node;
  if (n == nullptr)
    return failf(AIRS_ENOMEM, "airs_node_attach: out of memory");
  try {
    n->rt = rt;
    if (airs_runtime_pid_tag(rt, &n->tag) != AIRS_OK) {
      delete n;
      return failf(AIRS_ESTATE, "airs_node_attach: the runtime is freed");
    }
    n->name = opts->name;
    n->cluster = opts->cluster;
    n->incarnation = new_incarnation();
    n->heartbeat = std::chrono::milliseconds(opts->heartbeat_ms);
    n->down_after = std::chrono::milliseconds(opts->down_after_ms);
    n->grace = std::chrono::milliseconds(opts->reconnect_grace_ms);
    n->hb_subject = n->cluster + ".hb";
    n->self_subject = n->cluster + ".node." + n->name;
    n->data_subject = airs::node::data_subject_of(n, n->name);
    n->tag_subject = n->cluster + ".tag." + std::to_string(n->tag);
  } catch (...) {
    delete n;
    return failf(AIRS_ENOMEM, "airs_node_attach: out of memory");
  }
  if ((st = claim_runtime(rt)) != AIRS_OK) {
    delete n;
    return st;
  }
  if ((st = connect(n, opts)) == AIRS_OK &&
      (st = claim_name(n, opts->connect_timeout_ms)) == AIRS_OK &&
      (st = claim_tag(n, opts->connect_timeout_ms)) == AIRS_OK &&
      (st = subscribe(n, &n->self_sub, n->self_subject, on_claim)) == AIRS_OK &&
      (st = subscribe(n, &n->tag_sub, n->tag_subject, on_claim)) == AIRS_OK &&
      (st = airs::node::subscribe_data(n, on_data)) == AIRS_OK &&
      (st = subscribe(n, &n->hb_sub, n->hb_subject, on_heartbeat)) == AIRS_OK &&
      (st = install_transport(n)) == AIRS_OK &&
      (st = subscriptions_registered(n, opts->connect_timeout_ms)) == AIRS_OK &&
      (st = airs::node::globals_start(n)) == AIRS_OK) {
    try {
      n->ticker = std::thread(run_ticker, n);
    } catch (...) {
      st = failf(AIRS_ENOMEM, "airs_node_attach: no thread for heartbeats");
    }
  }
  if (st != AIRS_OK) {
    teardown(n, false);
    return st;
  }
  airs::node::tick(n, false);  // the first heartbeat now, not in 100 ms
  *out = n;
  return AIRS_OK;
}

void airs_node_detach(airs_node* node) {
  if (node != nullptr) teardown(node, true);
}

airs_status airs_node_self(const airs_node* node, airs_node_peer* out) {
  airs::node::clear_error();
  if (node == nullptr || out == nullptr)
    return failf(AIRS_EINVAL, "airs_node_self: NULL %s",
                 node == nullptr ? "node" : "out");
  memset(out, 0, sizeof *out);
  memcpy(out->name, node->name.data(), node->name.size());
  out->incarnation = node->incarnation;
  return AIRS_OK;
}

airs_status airs_node_monitor(airs_node* node, airs_pid pid, int on) {
  airs::node::clear_error();
  if (node == nullptr || pid == AIRS_NO_PID)
    return failf(AIRS_EINVAL, "airs_node_monitor: %s",
                 node == nullptr ? "NULL node" : "pid 0");
  if (on && !airs_is_alive(node->rt, pid))
    return failf(AIRS_ENOPROC,
                 "airs_node_monitor: %#llx is not a live "
                 "process of the node's runtime",
                 static_cast<unsigned long long>(pid));
  return airs::node::monitor(node, pid, on != 0);
}

airs_status airs_node_peers(airs_node* node, airs_node_peer* out, size_t cap,
                            size_t* count) {
  airs::node::clear_error();
  if (node == nullptr || count == nullptr || (out == nullptr && cap > 0))
    return failf(AIRS_EINVAL, "airs_node_peers: NULL %s",
                 node == nullptr    ? "node"
                 : count == nullptr ? "count"
                                    : "out");
  std::lock_guard<std::mutex> lock(node->mu);
  size_t n = 0;
  for (auto& [name, p] : node->peers) {
    if (!p.up) continue;
    if (n < cap) {
      memset(&out[n], 0, sizeof out[n]);
      memcpy(out[n].name, name.data(), name.size());
      out[n].incarnation = p.incarnation;
    }
    n++;
  }
  *count = n;
  return AIRS_OK;
}

}  // extern "C"
