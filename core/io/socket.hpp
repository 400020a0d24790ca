// socket.hpp - one socket's record (net.h): its fd, owner, flow-control
// credit, send buffer and state. The socket service (sockets.hpp) keeps
// them in its table (socket_table.hpp), which uses a record again once
// it is closed: every field is guarded by `mu`, but `slot` (fixed) and
// `next_free` (the table's lock).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "airs/airs.h"
#include "base/alloc.hpp"

namespace airs {

// The options a socket was made with, checked by the facade.
struct SockOpts {
  int32_t active = 0;
  uint32_t flags = AIRS_SOCK_NODELAY | AIRS_SOCK_REUSEADDR;
  uint32_t send_buffer = 256 * 1024;
  uint32_t read_size = 64 * 1024;
  uint32_t backlog = 1024;
};

// kWatch is not a socket but a watched fd (io.h's airs_fd_watch): the
// record holds the runtime's duplicate of the caller's fd, and the table
// gives it an id, an owner and its end with the owner like a socket's.
// A watch made with airs_fd_watch_fn has no owner (0): it calls a function
// instead of posting a message, and ends by airs_fd_unwatch or with the
// runtime.
enum class SockKind : uint8_t { kListener, kStream, kDatagram, kWatch };

// The function of an airs_fd_watch_fn watch, and who is calling it: calls
// never overlap (an event that comes during one is kept in `pending` and
// handed to the same thread's next call), and unwatch waits for the one
// running (but from inside it). Guarded by the record's mu.
struct WatchCall {
  airs_fd_fn fn = nullptr;
  void* arg = nullptr;
  uint32_t pending = 0;          // AIRS_FD_* reported while running
  std::thread::id thread;        // the calling thread; none: not running
  std::condition_variable idle;  // a call ended: thread is none again
  uint32_t waiters = 0;          // threads waiting on `idle`
  // The record may be used again only when no thread is in or waits for
  // a call: both look at this WatchCall after the close.
  bool busy() const noexcept { return running() || waiters != 0; }
  bool running() const noexcept { return thread != std::thread::id(); }
};

// Bytes of one send not yet written, after this header in one allocation
// (mem_alloc); `ack` != 0 asks for AIRS_MSG_SOCK_SENT. A socket's chunks
// are a list, oldest first: a record costs no allocation until a send
// has to wait (a std::deque took 576 bytes per record as it was made).
struct OutChunk {
  OutChunk* next;
  size_t size;
  size_t written;
  uint64_t ack;
  char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
};

struct Socket {
  Socket() = default;
  ~Socket() { drop_output(); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // A new use of a closed record: a socket of `kind` with id `id_` whose
  // fd is not yet set.
  void reset(uint64_t id_, SockKind kind_, uint64_t owner_,
             const SockOpts& o) noexcept {
    id = id_;
    kind = kind_;
    owner = owner_;
    opts = o;
    credit = o.active;
    interest = 0;
    v6 = connecting = eof = shut_wanted = shut_done = false;
    owe_writable = paused = false;
    watch_events = 0;
    call.reset();
    deadline_ms = 0;
    in_use = true;
  }
  void drop_output() noexcept {
    while (OutChunk* c = out) {
      out = c->next;
      mem_free(c);
    }
    out_tail = nullptr;
    queued = 0;
  }

  uint32_t slot = 0;            // in the table, for ever
  Socket* next_free = nullptr;  // the table's free list
  std::mutex mu;  // taken before the service's table lock, never after

  uint64_t id = 0;    // its slot and its use count (socket_table.hpp)
  uint64_t uses = 0;  // the slot's uses so far
  SockKind kind = SockKind::kStream;
  bool in_use = false;  // false: on the free list (or never used)
  int fd = -1;          // -1: closed (the record may still be looked at)
  uint64_t owner = 0;
  SockOpts opts;
  int32_t credit = 0;     // AIRS_ACTIVE_ALWAYS or 0..AIRS_ACTIVE_MAX
  uint32_t interest = 0;  // the events epoll watches now; 0: not in epoll
  bool v6 = false;        // its address family is IPv6 (set as the fd is made)
  bool connecting = false;
  bool eof = false;           // the peer's EOF was read
  bool shut_wanted = false;   // airs_socket_shutdown: after the buffer
  bool shut_done = false;     // shutdown(SHUT_WR) was made
  bool owe_writable = false;  // a send got EAGAIN: tell when drained
  bool paused = false;        // a listener out of fds, until `deadline`
  uint32_t watch_events = 0;  // kWatch: the AIRS_FD_* of its last arming
  std::unique_ptr<WatchCall> call;  // kWatch by airs_fd_watch_fn
  uint64_t deadline_ms = 0;   // connect timeout or pause end; 0: none
  OutChunk* out = nullptr;    // the oldest chunk not yet written
  OutChunk* out_tail = nullptr;
  size_t queued = 0;  // bytes in `out` not yet written
};

}  // namespace airs
