// sockets.hpp - the socket service (net.h): the runtime's sockets, whose
// events go to their owners as messages. Uses the seam and the reactor.
//
//   socket_table   the records and their ids: found without a lock
//   sockets.cpp    opening, owners, closing, the owner's end
//   socket_io.cpp  readiness: accept, read, write, connect, deadlines
//   fd_watch.cpp   watched fds (io.h): one-shot readiness messages
//
// Locking. Each socket has its own mutex; the service has one (`mu_`:
// the table's free list, the owners' lists, the counts), and the
// deadlines one (`deadline_mu_`), both leaves. A socket's lock is taken
// before mu_, never while holding it. Finding a socket by id takes no
// lock but the socket's own (socket_table.hpp). A socket's messages are
// posted under its lock (Seam::post never runs user code), so they keep
// their order whichever thread makes them (a worker reads, another's send
// acknowledges). No user code runs under any of them. Two sockets' locks
// are held at once only by an accept, whose new record's lock nobody else
// holds for more than a look at its id.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "io/reactor.hpp"
#include "io/socket.hpp"
#include "io/socket_table.hpp"
#include "kernel/seam.hpp"

namespace airs {

class Sockets {
 public:
  // Registers as an exit observer and as the reactor's handler.
  // threads: the runtime's creator, before any spawn.
  Sockets(Seam& seam, Reactor& reactor) noexcept;
  ~Sockets();  // stop() first
  Sockets(const Sockets&) = delete;
  Sockets& operator=(const Sockets&) = delete;

  // The calls of net.h, their arguments checked by the facade (a known
  // family, opts in range). Status as net.h says. threads: any. No user
  // code runs; none waits but for the locks above.
  airs_status listen(uint64_t owner, const airs_addr& addr,
                     const SockOpts& opts, uint64_t* out) noexcept;
  airs_status connect(uint64_t owner, const airs_addr& addr,
                      uint32_t timeout_ms, const SockOpts& opts,
                      uint64_t* out) noexcept;
  airs_status udp_open(uint64_t owner, const airs_addr& addr,
                       const SockOpts& opts, uint64_t* out) noexcept;
  airs_status send(uint64_t id, const void* data, size_t size,
                   uint64_t ack) noexcept;
  airs_status udp_send(uint64_t id, const airs_addr& to, const void* data,
                       size_t size) noexcept;
  airs_status set_active(uint64_t id, int32_t n) noexcept;
  airs_status give(uint64_t id, uint64_t new_owner) noexcept;
  airs_status shutdown_send(uint64_t id) noexcept;
  airs_status close(uint64_t id) noexcept;
  airs_status addresses(uint64_t id, airs_addr* local,
                        airs_addr* peer) noexcept;
  uint64_t count() noexcept;

  // The fd watches of io.h, their arguments checked by the facade (events
  // known and not 0, fd >= 0). Status as io.h says. threads: any.
  // watch: a message to `owner` at each arming's event; watch_fn: a call
  // of fn (no owner; never two calls at once). unwatch waits for a call of
  // fn under way on another thread: no lock that fn takes may be held.
  airs_status watch(uint64_t owner, int fd, uint32_t events,
                    uint64_t* out) noexcept;
  airs_status watch_fn(int fd, uint32_t events, airs_fd_fn fn, void* arg,
                       uint64_t* out) noexcept;
  airs_status rearm(uint64_t id, uint32_t events) noexcept;
  airs_status unwatch(uint64_t id) noexcept;

  // Closes every socket left and refuses new ones. threads: the freeing
  // thread, once, after every process has ended, before the reactor stops.
  void stop() noexcept;

 private:
  using Lock = std::unique_lock<std::mutex>;

  // sockets.cpp
  // The open record `id`, locked into *lk: a socket, or with `watch` a
  // watched fd (each kind's calls see only their own: ENOTFOUND for the
  // other).
  airs_status find_open(uint64_t id, Socket** s, Lock* lk,
                        bool watch = false) noexcept;
  // The record `id` if it is still open, locked into *lk; else nullptr.
  Socket* find_locked(uint64_t id, Lock* lk) noexcept;
  // A record of `kind` under a new id, locked into *lk, its fd not yet
  // set. [no socket lock held, but an accept's listener's]
  airs_status new_record(SockKind kind, uint64_t owner, const SockOpts& opts,
                         Socket** out, Lock* lk) noexcept;
  airs_status open(uint64_t owner, SockKind kind, const airs_addr& addr,
                   const SockOpts& opts, Socket** out, Lock* lk) noexcept;
  airs_status open_fd(const airs_addr& addr, int type, const SockOpts& opts,
                      int* fd) noexcept;
  // Into the owner's list and the counts. [s.mu held]
  airs_status adopt(Socket& s) noexcept;
  // A record adoption refused: its fd closed, the record given back.
  // [s.mu held]
  void discard(Socket& s) noexcept;
  void close_locked(Socket& s) noexcept;
  // Gives a closed record back to the table once no call of its watch
  // function runs or is waited for. [s.mu held]
  void release(Socket& s) noexcept;
  static void owner_ended(void* self, uint64_t pid, Process* p,
                          Reason* reason) noexcept;

  // socket_io.cpp [s.mu held]
  static void on_ready(void* self, uint64_t key, uint32_t events) noexcept;
  static int64_t on_tick(void* self) noexcept;
  void accept_ready(Socket& s) noexcept;
  void read_stream(Socket& s) noexcept;
  void read_datagrams(Socket& s) noexcept;
  void flush(Socket& s) noexcept;
  // fd_watch.cpp; watch_ready lets go of lk while fn runs.
  airs_status add_watch(uint64_t owner, int fd, uint32_t events,
                        std::unique_ptr<WatchCall> call,
                        uint64_t* out) noexcept;
  void watch_ready(Socket& s, Lock& lk, uint32_t events) noexcept;
  void wait_call_done(Socket& s, Lock& lk) noexcept;
  void finish_connect(Socket& s) noexcept;
  void check_error(Socket& s) noexcept;
  void update_interest(Socket& s) noexcept;
  // The epoll set of `s`: a function watch's calls must not wait for a
  // worker (reactor.hpp).
  static Reactor::Set set_of(const Socket& s) noexcept {
    return s.call ? Reactor::Set::kCalls : Reactor::Set::kWorkers;
  }
  bool post(Socket& s, uint64_t type, const void* data, size_t size) noexcept;
  void end_with_error(Socket& s, const char* op, int err) noexcept;
  void post_error(Socket& s, uint64_t type, const char* op, int err) noexcept;
  void spend_credit(Socket& s) noexcept;
  void set_deadline(Socket& s, uint64_t at_ms) noexcept;
  airs_status queue_out(Socket& s, const char* data, size_t size,
                        uint64_t ack) noexcept;

  Seam& seam_;
  Reactor& reactor_;
  uint32_t member_bit_;

  SocketTable table_;
  std::mutex mu_;  // table_'s free list and what follows
  bool stopped_ = false;
  uint64_t open_ = 0;     // adopted records not yet closed
  uint64_t watches_ = 0;  // of them, of kind kWatch
  std::unordered_map<uint64_t, std::vector<uint64_t>> by_owner_;

  std::mutex deadline_mu_;
  std::multimap<uint64_t, uint64_t> deadlines_;  // ms -> socket id
};

// The steady clock in ms (I/O deadlines are real time, whatever the
// runtime's timer clock).
uint64_t io_now_ms() noexcept;

}  // namespace airs
