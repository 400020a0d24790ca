#include "mail/message.hpp"

#include <cstring>
#include <new>

#include "base/alloc.hpp"
#include "mail/envelope_pool.hpp"
#include "mail/payload_defer.hpp"

namespace airs {

namespace {

Reason static_reasons[] = {
    {{1}, true, AIRS_EXIT_NORMAL, 0, "normal"},
    {{1}, true, AIRS_EXIT_SHUTDOWN, 0, "shutdown"},
    {{1}, true, AIRS_EXIT_KILLED, 0, "killed"},
    {{1}, true, AIRS_EXIT_ERROR, 0, "error"},
    {{1}, true, AIRS_EXIT_NOPROC, 0, "noproc"},
    {{1}, true, AIRS_EXIT_NOCONNECTION, 0, "noconnection"},
};

Reason no_memory = {{1}, true, AIRS_EXIT_ERROR, AIRS_ENOMEM, "out of memory"};

Msg* msg_init(void* p) noexcept {
  Msg* m = static_cast<Msg*>(p);
  m->next.store(nullptr, std::memory_order_relaxed);
  m->type = 0;
  m->sender = 0;
  m->correlation = 0;
  m->to = 0;
  m->data = nullptr;
  m->free_fn = nullptr;
  m->size = 0;
  m->kind = PayloadKind::kInline;
  m->priority = AIRS_PRIORITY_NORMAL;
  m->signal = Signal::kNone;
  m->has_reason = 0;
  m->remote_kind = 0;
  m->spare_bits = 0;
  return m;
}

// An envelope with `extra` bytes after it (a copied payload too big for
// `small`) comes from the allocator; a plain one from the envelope pool.
Msg* msg_alloc(std::size_t extra) noexcept {
  void* p = extra ? mem_alloc(sizeof(Msg) + extra) : envelope_alloc();
  return p ? msg_init(p) : nullptr;
}

// Written once, when the envelope is made (msg_new_copy).
static bool has_tail(const Msg* m) noexcept {
  return m->kind == PayloadKind::kInline && m->size > sizeof(m->small);
}

void shared_in(Msg* m, uint64_t type, Payload* payload) noexcept {
  m->type = type;
  m->kind = PayloadKind::kShared;
  m->shared = payload;
  m->data = payload->data;
  m->size = static_cast<uint32_t>(payload->size);
}

}  // namespace

Reason* reason_static(airs_exit_kind kind) noexcept {
  return &static_reasons[kind <= AIRS_EXIT_NOCONNECTION ? kind
                                                        : AIRS_EXIT_ERROR];
}

Reason* reason_error(int32_t code, const char* text) noexcept {
  Reason* r = reason_new(AIRS_EXIT_ERROR, code, text);
  return r ? r : reason_static(AIRS_EXIT_ERROR);
}

Reason* reason_no_memory() noexcept {
  return &no_memory;
}

Reason* reason_new(airs_exit_kind kind, int32_t code,
                   const char* text) noexcept {
  if (kind != AIRS_EXIT_ERROR && code == 0 && (!text || !*text))
    return reason_static(kind);
  std::size_t len = text ? std::strlen(text) : 0;
  void* p = mem_alloc(sizeof(Reason) + len + 1);
  if (!p) return nullptr;
  char* chars = reinterpret_cast<char*>(static_cast<Reason*>(p) + 1);
  if (len) std::memcpy(chars, text, len);
  chars[len] = '\0';
  return new (p) Reason{{1}, false, kind, code, chars};
}

void reason_retain(Reason* r) noexcept {
  if (r && !r->is_static) r->refs.fetch_add(1, std::memory_order_relaxed);
}

void reason_release(Reason* r) noexcept {
  if (!r || r->is_static) return;
  if (r->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) mem_free(r);
}

Payload* payload_new_copy(const void* data, std::size_t size) noexcept {
  void* p = mem_alloc(sizeof(Payload) + size);
  if (!p) return nullptr;
  Payload* pl =
      new (p) Payload{{1}, static_cast<Payload*>(p) + 1, size, nullptr};
  if (size) std::memcpy(pl->data, data, size);
  return pl;
}

Payload* payload_new_wrap(void* ptr, std::size_t size,
                          void (*free_fn)(void*)) noexcept {
  void* p = mem_alloc(sizeof(Payload));
  if (!p) return nullptr;
  return new (p) Payload{{1}, ptr, size, free_fn};
}

void payload_retain(Payload* p) noexcept {
  p->refs.fetch_add(1, std::memory_order_relaxed);
}

void payload_release_n(Payload* p, uint64_t n) noexcept {
  if (p->refs.fetch_sub(n, std::memory_order_acq_rel) != n) return;
  if (p->free_fn) p->free_fn(p->data);
  p->~Payload();
  mem_free(p);
}

Msg* msg_new_copy(uint64_t type, const void* data, std::size_t size) noexcept {
  bool small = size <= sizeof(Msg::small);
  Msg* m = msg_alloc(small ? 0 : size);
  if (!m) return nullptr;
  m->type = type;
  m->size = static_cast<uint32_t>(size);
  if (size) {
    void* bytes = small ? static_cast<void*>(m->small) : m + 1;
    std::memcpy(bytes, data, size);
    m->data = bytes;
  }
  return m;
}

Msg* msg_new_owned(uint64_t type, void* ptr, std::size_t size,
                   void (*free_fn)(void*)) noexcept {
  Msg* m = msg_alloc(0);
  if (!m) return nullptr;
  m->type = type;
  m->kind = PayloadKind::kOwned;
  m->data = ptr;
  m->size = static_cast<uint32_t>(size);
  m->free_fn = free_fn;
  return m;
}

Msg* msg_new_shared(uint64_t type, Payload* payload) noexcept {
  Msg* m = msg_new_shared_adopt(type, payload);
  if (m) payload_retain(payload);
  return m;
}

Msg* msg_new_shared_adopt(uint64_t type, Payload* payload) noexcept {
  Msg* m = msg_alloc(0);
  if (!m) return nullptr;
  shared_in(m, type, payload);
  return m;
}

MsgBlock* msg_block_new() noexcept {
  static_assert(sizeof(MsgBlock) == sizeof(Msg), "the header is one slot");
  void* p = mem_alloc_aligned(kMsgBlockBytes, kMsgBlockBytes);
  if (!p) return nullptr;
  return new (p) MsgBlock{{0}, 0};
}

void msg_block_close(MsgBlock* b, uint32_t used) noexcept {
  if (used == 0) {  // nothing handed out: no receiver will free it
    b->~MsgBlock();
    mem_free(b);
    return;
  }
  // Relaxed: the push of the last envelope publishes it to the receiver,
  // which only acts on it when it frees that envelope.
  b->used.store(used, std::memory_order_relaxed);
}

Msg* msg_new_signal(Signal signal, uint64_t sender, Reason* reason,
                    uint64_t correlation) noexcept {
  Msg* m = msg_alloc(0);
  if (!m) return nullptr;
  m->signal = signal;
  m->sender = sender;
  m->correlation = correlation;
  if (reason) {
    reason_retain(reason);
    m->reason = reason;
    m->has_reason = 1;
  }
  return m;
}

void msg_release(Msg* m) noexcept {
  if (m->has_reason) {
    reason_release(m->reason);
    m->has_reason = 0;
  } else if (m->kind == PayloadKind::kOwned) {
    if (m->free_fn) m->free_fn(const_cast<void*>(m->data));
    m->free_fn = nullptr;
  } else if (m->kind == PayloadKind::kShared ||
             m->kind == PayloadKind::kSharedInBlock) {
    payload_release_deferred(m->shared);
    m->shared = nullptr;
  }
}

void msg_free_envelope(Msg* m) noexcept {
  if (m->kind == PayloadKind::kSharedInBlock) {
    MsgBlock* b = reinterpret_cast<MsgBlock*>(reinterpret_cast<uintptr_t>(m) &
                                              ~(kMsgBlockBytes - 1));
    if (++b->freed == b->used.load(std::memory_order_relaxed)) {
      b->~MsgBlock();
      mem_free(b);
    }
    return;
  }
  if (has_tail(m))
    mem_free(m);
  else
    envelope_free(m);
}

void msg_free(Msg* m) noexcept {
  if (!m) return;
  msg_release(m);
  msg_free_envelope(m);
}

}  // namespace airs
