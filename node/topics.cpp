// topics.cpp - topics across nodes: a publish reaches the subscribers of
// every node (airs/transport.h's topic_interest and publish).
//
// One NATS subject per topic, <cluster>.topic.<the name in hex> (a topic
// name may hold any byte but NUL; a subject may not). A node subscribes to
// it while it has local subscribers to the topic; a publish goes out on it
// once, and the server hands it to every node that subscribes, which
// delivers it to its own subscribers (airs_transport_deliver_publish). The
// publisher's node ignores its own copy: its subscribers had the message
// already. A publish is a batch of one frame (remote.cpp's format), so
// that the receiver knows the node it came from: nothing from a node
// declared down is delivered.
#include <cstring>

#include "node.hpp"

namespace airs::node {

namespace {

// The topic's subject. May throw bad_alloc.
std::string topic_subject(const airs_node* n, const char* topic, size_t len) {
  static const char hex[] = "0123456789abcdef";
  std::string s = n->cluster + ".topic.";
  s.reserve(s.size() + 2 * len);
  for (size_t i = 0; i < len; i++) {
    auto c = static_cast<unsigned char>(topic[i]);
    s += hex[c >> 4];
    s += hex[c & 15];
  }
  return s;
}

// The topic a subject names (the inverse of topic_subject). false: not
// one of ours.
bool topic_of(const airs_node* n, const char* subject, std::string* topic) {
  size_t prefix = n->cluster.size() + 7;  // "<cluster>.topic."
  size_t len = strlen(subject);
  if (len <= prefix || (len - prefix) % 2 != 0) return false;
  topic->clear();
  for (size_t i = prefix; i < len; i += 2) {
    int v = 0;
    for (size_t j = i; j < i + 2; j++) {
      char c = subject[j];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                     : -1;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    *topic += static_cast<char>(v);
  }
  return true;
}

void on_topic(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* n = static_cast<airs_node*>(closure);
  std::string topic;
  try {
    if (topic_of(n, natsMsg_GetSubject(msg), &topic))
      deliver_publish(n, topic, natsMsg_GetData(msg),
                      static_cast<size_t>(natsMsg_GetDataLength(msg)));
  } catch (...) {
    // Out of memory for the name: this publish is lost here.
  }
  natsMsg_Destroy(msg);
}

}  // namespace

void topic_interest(void* node, const char* topic, size_t len,
                    int on) noexcept {
  auto* n = static_cast<airs_node*>(node);
  try {
    std::string name(topic, len);
    std::lock_guard<std::mutex> lock(n->topics_mu);
    auto it = n->topics.find(name);
    if (on) {
      if (it != n->topics.end()) return;  // told again: a set
      natsSubscription* sub = nullptr;
      if (subscribe(n, &sub, topic_subject(n, topic, len), on_topic) != AIRS_OK)
        return;  // its publishes do not reach this node
      n->topics.emplace(std::move(name), sub);
    } else if (it != n->topics.end()) {
      natsSubscription_Unsubscribe(it->second);
      natsSubscription_Destroy(it->second);
      n->topics.erase(it);
    }
  } catch (...) {
    // Out of memory: as a subscription that failed.
  }
}

airs_status transport_publish(void* node, const char* topic, size_t len,
                              airs_msg* msg) noexcept {
  auto* n = static_cast<airs_node*>(node);
  try {
    std::string subject = topic_subject(n, topic, len);
    std::vector<unsigned char> batch;
    if (!publish_frame(n, msg, &batch)) return AIRS_EINVAL;  // too big
    natsStatus s =
        publish(n, subject.c_str(), nullptr, batch.data(), batch.size());
    if (s != NATS_OK) return AIRS_ENOPROC;  // closed, or its buffer full
  } catch (...) {
    return AIRS_ENOMEM;
  }
  airs_msg_free(msg);
  return AIRS_OK;
}

void topics_unsubscribe(airs_node* n) noexcept {
  std::lock_guard<std::mutex> lock(n->topics_mu);
  for (auto& [name, sub] : n->topics) natsSubscription_Unsubscribe(sub);
}

void topics_destroy(airs_node* n) noexcept {
  for (auto& [name, sub] : n->topics) natsSubscription_Destroy(sub);
  n->topics.clear();
}

}  // namespace airs::node
