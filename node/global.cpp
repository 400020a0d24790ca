// global.cpp - names across the cluster (node.h: airs_node_register,
// airs_node_unregister, airs_node_whereis).
//
// The holder of a name subscribes to <cluster>.global.<name> and answers
// each query there with the pid (8 bytes, little-endian) and its node's
// name. So a whereis is one NATS request; "no responders" means nobody
// holds the name, which is also what happens when the holder's node dies
// or detaches: its subscriptions go with its connection.
//
// One holder per name: a register asks first ("no responders": free),
// subscribes, then asks again collecting every answer for kClaimWindowMs;
// an answer from another node means a claimant raced us, and we back out.
// Of two racing claimants at least one sees the other (each subscribes
// before it asks), so never both keep the name; both may back out.
//
// The registrar is a hidden process of the node's runtime that monitors
// each process with a global name and, when one ends, drops its names.
#include <cstring>

#include "node.hpp"

using airs::node::failf;

namespace airs::node {

namespace {

constexpr uint32_t kClaimWindowMs = 50;
constexpr uint32_t kAskMs = 500;
constexpr uint64_t kMsgWatch = AIRS_MSG_NODE_BASE + 0x10;  // registrar only

std::string subject_of(const airs_node* n, const char* name) {
  return n->cluster + ".global." + name;
}

// An answer: the pid and the holder's node name.
size_t answer_frame(const airs_node* n, airs_pid pid,
                    unsigned char out[8 + AIRS_NODE_NAME_MAX]) noexcept {
  put_le(out, pid, 8);
  memcpy(out + 8, n->name.data(), n->name.size());
  return 8 + n->name.size();
}

bool parse_answer(natsMsg* msg, airs_pid* pid,
                  char node[AIRS_NODE_NAME_MAX + 1]) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(natsMsg_GetData(msg));
  size_t size = static_cast<size_t>(natsMsg_GetDataLength(msg));
  if (size < 8 || size > 8 + AIRS_NODE_NAME_MAX) return false;
  *pid = get_le(p, 8);
  memcpy(node, p + 8, size - 8);
  node[size - 8] = '\0';
  return *pid != 0;
}

// A query for one of our names: answer with its pid.
void on_query(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* n = static_cast<airs_node*>(closure);
  const char* subject = natsMsg_GetSubject(msg);
  size_t prefix = n->cluster.size() + sizeof ".global." - 1;
  airs_pid pid = 0;
  if (natsMsg_GetReply(msg) != nullptr && strlen(subject) > prefix) {
    std::lock_guard<std::mutex> lock(n->mu);
    auto it = n->globals.find(subject + prefix);
    if (it != n->globals.end()) pid = it->second.pid;
  }
  if (pid != 0) {
    unsigned char frame[8 + AIRS_NODE_NAME_MAX];
    airs::node::publish(n, natsMsg_GetReply(msg), nullptr, frame,
                        answer_frame(n, pid, frame));
  }
  natsMsg_Destroy(msg);
}

// Takes the names of `pid` out of the table; returns their subscriptions
// to unsubscribe (not under mu).
std::vector<natsSubscription*> drop_names_of(airs_node* n, airs_pid pid) {
  std::vector<natsSubscription*> subs;
  std::lock_guard<std::mutex> lock(n->mu);
  for (auto it = n->globals.begin(); it != n->globals.end();) {
    if (it->second.pid == pid) {
      subs.push_back(it->second.sub);
      it = n->globals.erase(it);
    } else {
      ++it;
    }
  }
  return subs;
}

void close_sub(natsSubscription* sub) noexcept {
  if (sub == nullptr) return;
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
}

// The registrar: WATCH pid -> monitor it; DOWN -> drop its names.
airs_status registrar_receive(void* state, airs_ctx* ctx, const airs_msg* m) {
  auto* n = static_cast<airs_node*>(state);
  uint64_t type = airs_msg_type(m);
  if (type == kMsgWatch && airs_msg_size(m) == sizeof(airs_pid)) {
    airs_pid pid;
    uint64_t ref;
    memcpy(&pid, airs_msg_data(m), sizeof pid);
    airs_monitor(ctx, pid, &ref);  // DOWN (noproc) at once if it is gone
  } else if (type == AIRS_MSG_DOWN) {
    try {
      for (natsSubscription* sub : drop_names_of(n, airs_msg_sender(m)))
        close_sub(sub);
    } catch (...) {
      // Out of memory for the list: the names stay until detach.
    }
  }
  return AIRS_OK;
}

airs_status registrar_init(void* user_data, airs_ctx*, void** state) {
  *state = user_data;
  return AIRS_OK;
}

// After we subscribed: does another node answer for `name` too?
airs_status check_race(airs_node* n, const std::string& subject) noexcept {
  char inbox[128];
  natsInbox* box = nullptr;
  natsSubscription* sub = nullptr;
  natsStatus s = natsInbox_Create(&box);
  if (s == NATS_OK) {
    snprintf(inbox, sizeof inbox, "%s", box);
    natsInbox_Destroy(box);
    s = natsConnection_SubscribeSync(&sub, n->nc, inbox);
  }
  if (s == NATS_OK) s = airs::node::publish(n, subject.c_str(), inbox, "q", 1);
  if (s != NATS_OK) {
    if (sub != nullptr) natsSubscription_Destroy(sub);
    return failf(AIRS_EOS, "airs_node_register: asking the cluster: %s",
                 natsStatus_GetText(s));
  }
  char rival[AIRS_NODE_NAME_MAX + 1] = "";
  natsMsg* msg = nullptr;
  while (natsSubscription_NextMsg(&msg, sub, kClaimWindowMs) == NATS_OK) {
    airs_pid pid;
    char node[AIRS_NODE_NAME_MAX + 1];
    if (parse_answer(msg, &pid, node) && n->name != node)
      snprintf(rival, sizeof rival, "%s", node);
    natsMsg_Destroy(msg);
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  if (rival[0] != '\0')
    return failf(AIRS_EEXIST,
                 "airs_node_register: node '%s' claimed the name at the "
                 "same time; try again",
                 rival);
  return AIRS_OK;
}

// Asks who holds `subject`: OK if nobody.
airs_status ask_free(airs_node* n, const char* name,
                     const std::string& subject) noexcept {
  natsMsg* reply = nullptr;
  natsStatus s =
      natsConnection_Request(&reply, n->nc, subject.c_str(), "q", 1, kAskMs);
  if (s == NATS_NO_RESPONDERS) return AIRS_OK;
  if (s == NATS_OK) {
    airs_pid pid = 0;
    char node[AIRS_NODE_NAME_MAX + 1] = "?";
    parse_answer(reply, &pid, node);
    natsMsg_Destroy(reply);
    return failf(AIRS_EEXIST,
                 "airs_node_register: '%s' is registered by node '%s'", name,
                 node);
  }
  if (s == NATS_TIMEOUT)
    return failf(AIRS_EEXIST,
                 "airs_node_register: '%s' is held by a node that does "
                 "not answer (stopped?)",
                 name);
  return failf(AIRS_EOS, "airs_node_register: asking the cluster: %s",
               natsStatus_GetText(s));
}

}  // namespace

airs_status globals_start(airs_node* n) noexcept {
  airs_behaviour b;
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.init = registrar_init;
  b.receive = registrar_receive;
  if (airs_spawn(n->rt, &b, n, nullptr, nullptr, &n->registrar) != AIRS_OK)
    return failf(AIRS_ENOMEM, "airs_node_attach: the registrar: %s",
                 airs_last_error_message());
  return AIRS_OK;
}

void globals_stop(airs_node* n) noexcept {
  if (n->registrar == AIRS_NO_PID) return;
  if (airs_kill(n->rt, n->registrar) == AIRS_OK)
    airs_wait(n->rt, n->registrar, 60000);
  n->registrar = AIRS_NO_PID;
}

void globals_unsubscribe(airs_node* n) noexcept {
  std::lock_guard<std::mutex> lock(n->mu);
  for (auto& [name, g] : n->globals)
    if (g.sub != nullptr) natsSubscription_Unsubscribe(g.sub);
}

void globals_destroy(airs_node* n) noexcept {
  for (auto& [name, g] : n->globals)
    if (g.sub != nullptr) natsSubscription_Destroy(g.sub);
  n->globals.clear();
}

}  // namespace airs::node

extern "C" {

airs_status airs_node_register(airs_node* node, const char* name,
                               airs_pid pid) {
  airs::node::clear_error();
  if (node == nullptr || name == nullptr || pid == AIRS_NO_PID)
    return failf(AIRS_EINVAL, "airs_node_register: %s",
                 node == nullptr   ? "NULL node"
                 : name == nullptr ? "NULL name"
                                   : "pid 0");
  if (!airs::node::valid_name(name))
    return failf(AIRS_EINVAL,
                 "airs_node_register: a name is 1..%d of [A-Za-z0-9_-]",
                 AIRS_NODE_NAME_MAX);
  if (!airs_is_alive(node->rt, pid))
    return failf(AIRS_ENOPROC,
                 "airs_node_register: %#llx is not a live process of the "
                 "node's runtime",
                 static_cast<unsigned long long>(pid));
  std::string subject;
  try {
    subject = airs::node::subject_of(node, name);
    std::lock_guard<std::mutex> lock(node->mu);
    if (node->globals.count(name))
      return failf(AIRS_EEXIST,
                   "airs_node_register: '%s' is registered by this node", name);
    node->globals[name].pid = pid;  // answers our own check below
  } catch (...) {
    return failf(AIRS_ENOMEM, "airs_node_register: out of memory");
  }
  natsSubscription* sub = nullptr;
  airs_status st = airs::node::ask_free(node, name, subject);
  if (st == AIRS_OK)
    st = airs::node::subscribe(node, &sub, subject, airs::node::on_query);
  if (st == AIRS_OK) st = airs::node::check_race(node, subject);
  if (st == AIRS_OK) {
    std::lock_guard<std::mutex> lock(node->mu);
    auto it = node->globals.find(name);
    if (it != node->globals.end())
      it->second.sub = sub;
    else  // the process ended meanwhile and the registrar dropped it
      st = failf(AIRS_ENOPROC, "airs_node_register: the process ended");
  }
  if (st != AIRS_OK) {
    {
      std::lock_guard<std::mutex> lock(node->mu);
      node->globals.erase(name);
    }
    airs::node::close_sub(sub);
    return st;
  }
  // (st is AIRS_OK here.) The registrar forgets the name when the process ends
  // (a DOWN at once if it ended meanwhile).
  airs_send(node->rt, node->registrar, airs::node::kMsgWatch, &pid, sizeof pid);
  return AIRS_OK;
}

airs_status airs_node_unregister(airs_node* node, const char* name) {
  airs::node::clear_error();
  if (node == nullptr || name == nullptr)
    return failf(AIRS_EINVAL, "airs_node_unregister: NULL %s",
                 node == nullptr ? "node" : "name");
  natsSubscription* sub = nullptr;
  {
    std::lock_guard<std::mutex> lock(node->mu);
    auto it = node->globals.find(name);
    if (it == node->globals.end() || it->second.sub == nullptr)
      return failf(AIRS_ENOTFOUND,
                   "airs_node_unregister: this node does not hold '%s'", name);
    sub = it->second.sub;
    node->globals.erase(it);
  }
  airs::node::close_sub(sub);
  return AIRS_OK;
}

airs_status airs_node_whereis(airs_node* node, const char* name,
                              uint32_t timeout_ms, airs_pid* out) {
  airs::node::clear_error();
  if (node == nullptr || name == nullptr || out == nullptr || timeout_ms == 0)
    return failf(AIRS_EINVAL, "airs_node_whereis: %s",
                 timeout_ms == 0 ? "timeout 0" : "NULL argument");
  if (!airs::node::valid_name(name))
    return failf(AIRS_EINVAL,
                 "airs_node_whereis: a name is 1..%d of [A-Za-z0-9_-]",
                 AIRS_NODE_NAME_MAX);
  {
    std::lock_guard<std::mutex> lock(node->mu);
    auto it = node->globals.find(name);
    if (it != node->globals.end() && it->second.sub != nullptr) {
      *out = it->second.pid;
      return AIRS_OK;
    }
  }
  std::string subject;
  try {
    subject = airs::node::subject_of(node, name);
  } catch (...) {
    return failf(AIRS_ENOMEM, "airs_node_whereis: out of memory");
  }
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_Request(&reply, node->nc, subject.c_str(), "q",
                                        1, static_cast<int64_t>(timeout_ms));
  if (s == NATS_NO_RESPONDERS)
    return failf(AIRS_ENOTFOUND, "airs_node_whereis: nobody holds '%s'", name);
  if (s == NATS_TIMEOUT)
    return failf(AIRS_ETIMEDOUT,
                 "airs_node_whereis: the holder of '%s' did not answer "
                 "within %u ms",
                 name, timeout_ms);
  if (s != NATS_OK)
    return failf(AIRS_EOS, "airs_node_whereis: %s", natsStatus_GetText(s));
  airs_pid pid = 0;
  char holder[AIRS_NODE_NAME_MAX + 1];
  bool ok = airs::node::parse_answer(reply, &pid, holder);
  natsMsg_Destroy(reply);
  if (!ok)
    return failf(AIRS_EOS, "airs_node_whereis: a malformed answer for '%s'",
                 name);
  // The answer names the holder's node: a send to the pid may go out
  // before that node's heartbeat reaches us, so learn its route now.
  if (airs::node::valid_name(holder)) {
    try {
      airs::node::learn_route(
          node, airs_pid_tag(pid),
          airs::node::data_subject_of(node, holder).c_str());
    } catch (...) {
      // Out of memory: the heartbeat makes the route.
    }
  }
  *out = pid;
  return AIRS_OK;
}

}  // extern "C"
