// mailbox.hpp - the intrusive lock-free MPSC queue behind every mailbox,
// with the consumer's role folded into its tail (after Dmitry Vyukov's
// queue and libponyrt's messageq).
//
// Producers swap the tail and link the old tail to the new node: one
// exchange per push, the only atomic read-modify-write a send makes. The
// tail's low bit says the queue is idle: empty, and nobody holds its
// consumer role. The push that swaps out an idle tail has made the queue
// busy and holds the role from then on: its caller must see that the
// queue is consumed (it schedules the process). The consumer hands the
// role back with one compare-exchange, which fails if anything was
// pushed since the queue emptied (mark_idle).
//
// The consumer's end. `head` is the oldest node not taken, or the stub. A
// node is taken without any atomic read-modify-write: when it has a
// successor, the head moves past it and it is the consumer's; the last
// node (the tail) cannot be unlinked that way, so it is handed out but
// stays linked, as `held`, until the next take passes it or mark_idle
// lets it go (both return it through `*gone`, for the consumer to free).
// A consumer that keeps a held node (or sends it on) detaches it first.
//
// The ends live in different structs so that a process record can put
// the producer end on the senders' cache line and the consumer end on the
// owner's. Nodes are the message envelopes: a push allocates nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "mail/message.hpp"

namespace airs {

struct QueueTail {
  std::atomic<uintptr_t> tail;  // Node* | kIdle
};

// The consumer's end: the head node, with the low bit set when it is held
// (taken, but still the tail), and the stub.
struct QueueHead {
  uintptr_t head;  // Node* | kHeld
  Node stub;
};

constexpr uintptr_t kIdle = 1;  // in a tail
constexpr uintptr_t kHeld = 1;  // in a head

inline uintptr_t word_of(const Node* n) noexcept {
  return reinterpret_cast<uintptr_t>(n);
}
inline Node* node_of(uintptr_t w) noexcept {
  return reinterpret_cast<Node*>(w & ~uintptr_t{1});
}

// An empty queue: idle when `idle`, else with its role held by the caller.
inline void mpsc_init(QueueTail& t, QueueHead& h, bool idle) noexcept {
  h.stub.next.store(nullptr, std::memory_order_relaxed);
  h.head = word_of(&h.stub);
  t.tail.store(word_of(&h.stub) | (idle ? kIdle : 0),
               std::memory_order_relaxed);
}

// [any thread] Pushes the chain first..last that the caller linked through
// `next` (last->next is cleared here). true: the queue was idle, and the
// caller now holds its consumer role.
inline bool mpsc_push_chain(QueueTail& t, Node* first, Node* last) noexcept {
  last->next.store(nullptr, std::memory_order_relaxed);
  // seq_cst: a push is ordered before the pusher's later look at the
  // other queue of its process (mark_idle's Dekker pair).
  uintptr_t prev = t.tail.exchange(word_of(last), std::memory_order_seq_cst);
  node_of(prev)->next.store(first, std::memory_order_release);
  return prev & kIdle;
}

inline bool mpsc_push(QueueTail& t, Node* n) noexcept {
  return mpsc_push_chain(t, n, n);
}

// [any thread] Takes the consumer role of an idle queue. false: it is
// busy (someone holds the role).
inline bool mpsc_claim(QueueTail& t, QueueHead& h) noexcept {
  uintptr_t idle = word_of(&h.stub) | kIdle;
  return t.tail.compare_exchange_strong(idle, word_of(&h.stub),
                                        std::memory_order_seq_cst);
}

// [consumer] The next node, or nullptr when there is none now. A node the
// queue lets go of (the held one, passed) comes back in *gone (else
// nullptr). Never waits and reads only the consumer's end: a node whose
// successor is not linked yet is handed out held, as the last one is (a
// producer between its exchange and its link is seen at a later take).
inline Node* mpsc_take(QueueHead& h, Node** gone) noexcept {
  *gone = nullptr;
  Node* n = node_of(h.head);
  if (h.head & kHeld) {  // pass the held node once its successor shows
    Node* next = n->next.load(std::memory_order_acquire);
    if (!next) return nullptr;
    *gone = n;
    n = next;
  } else if (n == &h.stub) {
    Node* next = h.stub.next.load(std::memory_order_acquire);
    if (!next) return nullptr;
    n = next;
  }
  Node* next = n->next.load(std::memory_order_acquire);
  // The last node (as far as can be seen) is handed out but stays linked.
  h.head = next ? word_of(next) : word_of(n) | kHeld;
  return n;
}

// [consumer] Makes `n`, the node taken last, the consumer's own even if it
// is held: the stub takes its place in the queue.
inline void mpsc_detach(QueueTail& t, QueueHead& h, Node* n) noexcept {
  if (h.head != (word_of(n) | kHeld)) return;  // not linked: ours already
  Node* next = n->next.load(std::memory_order_acquire);
  if (!next) {
    h.stub.next.store(nullptr, std::memory_order_relaxed);
    h.head = word_of(&h.stub);
    uintptr_t expect = word_of(n);
    if (t.tail.compare_exchange_strong(expect, word_of(&h.stub),
                                       std::memory_order_seq_cst))
      return;
    // A producer swapped in after n: wait for its link.
    while (!(next = n->next.load(std::memory_order_acquire)))
      std::this_thread::yield();
  }
  h.head = word_of(next);
}

// The node a queue with nothing left to take ends in: the stub or the held
// node; nullptr when a node is waiting to be taken.
inline Node* mpsc_last(const QueueHead& h) noexcept {
  Node* n = node_of(h.head);
  return (h.head & kHeld) || n == &h.stub ? n : nullptr;
}

// [consumer] Whether a node is waiting to be taken. Reads the producers'
// end (seq_cst: mark_idle's Dekker pair).
inline bool mpsc_has_more(const QueueTail& t, const QueueHead& h) noexcept {
  const Node* last = mpsc_last(h);
  return !last || last->next.load(std::memory_order_acquire) ||
         node_of(t.tail.load(std::memory_order_seq_cst)) != last;
}

// [consumer] Gives the role back if the queue is empty: true, and the held
// node (if any) comes back in *gone. false: something was pushed since it
// emptied (or is not taken yet); the caller still holds the role.
inline bool mpsc_mark_idle(QueueTail& t, QueueHead& h, Node** gone) noexcept {
  *gone = nullptr;
  Node* last = mpsc_last(h);
  if (!last || last->next.load(std::memory_order_acquire)) return false;
  // The stub becomes the queue before the role can pass to a producer:
  // from the compare-exchange on, someone else may consume. (When the
  // stub is the queue already, its `next` is left alone: a producer that
  // has just swapped it out of the tail may be linking it.)
  uintptr_t head = h.head;
  if (last != &h.stub) h.stub.next.store(nullptr, std::memory_order_relaxed);
  h.head = word_of(&h.stub);
  uintptr_t expect = word_of(last);
  if (t.tail.compare_exchange_strong(expect, word_of(&h.stub) | kIdle,
                                     std::memory_order_seq_cst)) {
    if (last != &h.stub) *gone = last;
    return true;
  }
  h.head = head;  // pushed meanwhile: nothing changed
  return false;
}

}  // namespace airs
