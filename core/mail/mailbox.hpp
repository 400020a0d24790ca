// mailbox.hpp - the intrusive lock-free MPSC queue behind every mailbox
// (Dmitry Vyukov's design). Producers swap the tail and link the old one;
// the single consumer walks from the head. Envelopes are the nodes, so a
// push allocates nothing.
//
// The two ends live in different structs so that a process record can put
// the producer end on the senders' cache line and the consumer end on the
// owner's.
#pragma once

#include <atomic>
#include <thread>

#include "mail/message.hpp"

namespace airs {

struct QueueTail {
  std::atomic<Node*> tail;
};

struct QueueHead {
  Node* head;
  Node stub;
};

inline void mpsc_init(QueueTail& t, QueueHead& h) noexcept {
  h.stub.next.store(nullptr, std::memory_order_relaxed);
  h.head = &h.stub;
  t.tail.store(&h.stub, std::memory_order_relaxed);
}

// [any thread] Safe to race with other producers and the consumer.
inline void mpsc_push(QueueTail& t, Node* n) noexcept {
  n->next.store(nullptr, std::memory_order_relaxed);
  // seq_cst: a producer's push must be ordered before its later load of
  // the process state (the wake-up protocol in scheduling.cpp).
  Node* prev = t.tail.exchange(n, std::memory_order_seq_cst);
  prev->next.store(n, std::memory_order_release);
}

// [any thread] Pushes a chain first..last that the caller linked through
// `next` (last->next is cleared here): one exchange for the whole chain.
inline void mpsc_push_chain(QueueTail& t, Node* first, Node* last) noexcept {
  last->next.store(nullptr, std::memory_order_relaxed);
  Node* prev = t.tail.exchange(last, std::memory_order_seq_cst);
  prev->next.store(first, std::memory_order_release);
}

// [consumer only] The oldest node, or nullptr when the queue is empty. A
// producer caught between its exchange and its link is waited out: that
// window is two instructions long unless the producer is preempted.
inline Node* mpsc_pop(QueueTail& t, QueueHead& h) noexcept {
  for (;;) {
    Node* head = h.head;
    Node* next = head->next.load(std::memory_order_acquire);
    if (head == &h.stub) {
      if (!next) {
        if (t.tail.load(std::memory_order_acquire) == &h.stub) return nullptr;
        std::this_thread::yield();
        continue;
      }
      h.head = next;
      head = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next) {
      h.head = next;
      return head;
    }
    if (t.tail.load(std::memory_order_acquire) != head) {
      std::this_thread::yield();
      continue;
    }
    mpsc_push(t, &h.stub);
    next = head->next.load(std::memory_order_acquire);
    if (next) {
      h.head = next;
      return head;
    }
    std::this_thread::yield();
  }
}

// Has anything been pushed since the consumer last emptied the queue? Reads
// only the producers' end, so a consumer may ask right after giving up its
// role (when another thread may already be popping): an emptied queue has
// its tail on the stub. seq_cst pairs with mpsc_push.
inline bool mpsc_pushed_since_empty(const QueueTail& t,
                                    const QueueHead& h) noexcept {
  return t.tail.load(std::memory_order_seq_cst) != &h.stub;
}

}  // namespace airs
