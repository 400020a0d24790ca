// socket_io.cpp - what happens on a socket: readiness from the reactor
// (accept, read, write, a connect's end), deadlines, and sends. Every
// function here runs with the socket's lock held, and posts the owner's
// messages under it (sockets.hpp).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/error.hpp"
#include "io/net_addr.hpp"
#include "io/sockets.hpp"

namespace airs {

namespace {

// Accepts per readiness event: a burst of connections cannot keep the
// reactor from the other sockets for long.
constexpr int kAcceptBurst = 32;
// How long a listener out of fds waits before it accepts again.
constexpr uint64_t kAcceptPauseMs = 100;

// A read's buffer: on the stack when it fits (the common read sizes), so
// a read costs no allocation; else on the heap. data() is nullptr when
// there is no memory.
class ReadBuffer {
 public:
  explicit ReadBuffer(size_t size) noexcept
      : data_(size <= sizeof stack_ ? stack_
                                    : static_cast<char*>(malloc(size))) {}
  ~ReadBuffer() {
    if (data_ != stack_) free(data_);
  }
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;
  char* data() noexcept { return data_; }

 private:
  char stack_[64 * 1024];
  char* data_;
};

bool fatal_accept_error(int e) noexcept {
  return e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM;
}

}  // namespace

// --- posting to the owner ------------------------------------------------

bool Sockets::post(Socket& s, uint64_t type, const void* data,
                   size_t size) noexcept {
  Msg* m = msg_new_copy(type, data, size);
  if (!m) return false;  // no memory: the event is lost, as a dropped packet
  m->correlation = s.id;
  m->sender = 0;
  if (!seam_.post(s.owner, m)) {
    msg_free(m);  // the owner is ending: its end closes the socket
    return false;
  }
  return true;
}

// Closes the socket first, then tells its owner: AIRS_MSG_SOCK_ERROR is
// the socket's last message, and when it is handled the socket is gone
// (its id unknown, its fd closed, no longer counted). post() needs only
// the id and the owner, which closing leaves.
void Sockets::end_with_error(Socket& s, const char* op, int err) noexcept {
  close_locked(s);
  post_error(s, AIRS_MSG_SOCK_ERROR, op, err);
}

// An airs_sock_error message of `type` (ERROR or ACCEPT_ERROR).
void Sockets::post_error(Socket& s, uint64_t type, const char* op,
                         int err) noexcept {
  airs_sock_error e{};
  e.err = err;
  snprintf(e.op, sizeof e.op, "%s", op);
  snprintf(e.text, sizeof e.text, "%s", strerror(err));
  post(s, type, &e, sizeof e);
}

void Sockets::spend_credit(Socket& s) noexcept {
  if (s.credit == AIRS_ACTIVE_ALWAYS || s.credit == 0) return;
  if (--s.credit == 0) post(s, AIRS_MSG_SOCK_PASSIVE, nullptr, 0);
}

// --- interest and deadlines ------------------------------------------------

// What epoll must watch follows from the state: reads while there is
// credit, writes while bytes wait, the connect's end. A socket that wants
// nothing leaves the set (a passive socket whose peer reset would report
// ERR and HUP, unasked, at every wait).
void Sockets::update_interest(Socket& s) noexcept {
  if (s.fd < 0 || s.kind == SockKind::kWatch) return;  // armed by its owner
  uint32_t want = 0;
  bool reading = s.credit != 0;
  switch (s.kind) {
    case SockKind::kListener:
      if (reading && !s.paused) want = EPOLLIN;
      break;
    case SockKind::kDatagram:
      if (reading) want = EPOLLIN;
      break;
    case SockKind::kWatch: break;
    case SockKind::kStream:
      if (s.connecting) {
        want = EPOLLOUT;
        break;
      }
      if (reading && !s.eof) want |= EPOLLIN;
      if (s.queued > 0) want |= EPOLLOUT;
      break;
  }
  if (want == s.interest) return;
  const Reactor::Set set = set_of(s);
  bool ok = want == 0         ? (reactor_.remove(s.fd, set), true)
            : s.interest == 0 ? reactor_.add(s.fd, s.id, want, set)
                              : reactor_.modify(s.fd, s.id, want, set);
  if (!ok) {
    int e = errno;
    end_with_error(s, "epoll_ctl", e);
    return;
  }
  s.interest = want;
}

void Sockets::set_deadline(Socket& s, uint64_t at_ms) noexcept {
  s.deadline_ms = at_ms;
  bool earliest;
  {
    std::lock_guard<std::mutex> lock(deadline_mu_);
    try {
      deadlines_.emplace(at_ms, s.id);
    } catch (const std::bad_alloc&) {
      s.deadline_ms = 0;  // no memory: the kernel's own timeout applies
      return;
    }
    earliest = deadlines_.begin()->second == s.id;
  }
  if (earliest) reactor_.wake();  // the waiter re-reads its timeout
}

// Runs the deadlines that are due: a connect that took too long fails
// with ETIMEDOUT; a paused listener accepts again. Returns the ms to the
// next one. A socket whose deadline changed since (connected, closed)
// finds it no longer matches and is left alone.
int64_t Sockets::on_tick(void* self) noexcept {
  auto* me = static_cast<Sockets*>(self);
  uint64_t now = io_now_ms();
  for (;;) {
    uint64_t id;
    uint64_t at;
    {
      std::lock_guard<std::mutex> lock(me->deadline_mu_);
      if (me->deadlines_.empty()) return -1;
      auto it = me->deadlines_.begin();
      if (it->first > now) return int64_t(it->first - now);
      at = it->first;
      id = it->second;
      me->deadlines_.erase(it);
    }
    Lock lk;
    Socket* s = me->find_locked(id, &lk);
    if (!s || s->deadline_ms != at) continue;
    s->deadline_ms = 0;
    if (s->connecting) {
      s->connecting = false;
      me->end_with_error(*s, "connect", ETIMEDOUT);
    } else if (s->paused) {
      s->paused = false;
      me->update_interest(*s);
    }
  }
}

// --- readiness -------------------------------------------------------------

void Sockets::on_ready(void* self, uint64_t key, uint32_t events) noexcept {
  auto* me = static_cast<Sockets*>(self);
  Lock lk;
  Socket* s = me->find_locked(key, &lk);
  if (!s) return;
  switch (s->kind) {
    case SockKind::kListener: me->accept_ready(*s); break;
    case SockKind::kDatagram: me->read_datagrams(*s); break;
    case SockKind::kWatch: me->watch_ready(*s, lk, events); return;
    case SockKind::kStream:
      if (s->connecting) {
        me->finish_connect(*s);
        break;
      }
      if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) me->flush(*s);
      if (s->fd >= 0 && (s->interest & EPOLLIN)) me->read_stream(*s);
      if (s->fd >= 0 && (events & EPOLLERR) && !(s->interest & EPOLLIN))
        me->check_error(*s);
      break;
  }
  me->update_interest(*s);
}

void Sockets::accept_ready(Socket& s) noexcept {
  for (int i = 0; i < kAcceptBurst && s.credit != 0; i++) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(s.fd, reinterpret_cast<sockaddr*>(&ss), &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK) return;
      if (e == EINTR || e == ECONNABORTED || e == EPROTO) continue;
      if (fatal_accept_error(e)) {
        end_with_error(s, "accept", e);
        return;
      }
      post_error(s, AIRS_MSG_SOCK_ACCEPT_ERROR, "accept", e);
      s.paused = true;
      set_deadline(s, io_now_ms() + kAcceptPauseMs);
      return;
    }
    if (s.opts.flags & AIRS_SOCK_NODELAY) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    SockOpts opts = s.opts;
    opts.active = 0;  // passive until its new owner asks
    Socket* c;
    Lock lk;
    if (new_record(SockKind::kStream, s.owner, opts, &c, &lk) != AIRS_OK) {
      ::close(fd);  // no memory, or no record left: the peer sees a reset
      continue;
    }
    c->fd = fd;
    if (adopt(*c) != AIRS_OK) {  // the owner is ending, or out of memory
      discard(*c);
      return;
    }
    airs_sock_accepted a{};
    a.socket = c->id;
    addr_from_sockaddr(reinterpret_cast<sockaddr*>(&ss), &a.peer);
    post(s, AIRS_MSG_SOCK_ACCEPTED, &a, sizeof a);
    spend_credit(s);
  }
}

void Sockets::read_stream(Socket& s) noexcept {
  size_t want = s.opts.read_size;
  ReadBuffer mem(want);
  char* buf = mem.data();
  if (!buf) return;  // no memory: try at the next readiness
  ssize_t n = recv(s.fd, buf, want, 0);
  int e = errno;
  if (n > 0) {
    if (post(s, AIRS_MSG_SOCK_DATA, buf, size_t(n))) spend_credit(s);
  } else if (n == 0) {
    s.eof = true;
    post(s, AIRS_MSG_SOCK_EOF, nullptr, 0);
  } else if (e != EAGAIN && e != EWOULDBLOCK && e != EINTR) {
    end_with_error(s, "recv", e);
  }
}

void Sockets::read_datagrams(Socket& s) noexcept {
  ReadBuffer mem(sizeof(airs_datagram) + s.opts.read_size);
  char* buf = mem.data();
  if (!buf) return;
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  // MSG_TRUNC: the datagram's real length, to say it was cut.
  ssize_t n = recvfrom(s.fd, buf + sizeof(airs_datagram), s.opts.read_size,
                       MSG_TRUNC, reinterpret_cast<sockaddr*>(&ss), &len);
  if (n >= 0) {
    airs_datagram d{};
    addr_from_sockaddr(reinterpret_cast<sockaddr*>(&ss), &d.from);
    d.size = uint32_t(std::min<size_t>(size_t(n), s.opts.read_size));
    d.truncated = size_t(n) > s.opts.read_size;
    memcpy(buf, &d, sizeof d);
    if (post(s, AIRS_MSG_SOCK_DATAGRAM, buf, sizeof d + d.size))
      spend_credit(s);
  }
  // Errors on a UDP socket (an ICMP port unreachable for an earlier send
  // shows as ECONNREFUSED here) concern one datagram, not the socket.
}

void Sockets::finish_connect(Socket& s) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  s.connecting = false;
  s.deadline_ms = 0;  // the tick finds its entry stale
  if (err) {
    end_with_error(s, "connect", err);
    return;
  }
  post(s, AIRS_MSG_SOCK_CONNECTED, nullptr, 0);
  flush(s);  // what was sent while connecting
}

// An error epoll reported on a socket that is not reading (reading would
// have found it): take it and end the socket.
void Sockets::check_error(Socket& s) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (!err) return;
  end_with_error(s, "recv", err);
}

// --- writing ----------------------------------------------------------------

// Writes what the buffer holds, oldest first, until the kernel takes no
// more; acknowledges each send whose bytes all went; then the shutdown
// asked for, and the WRITABLE owed.
void Sockets::flush(Socket& s) noexcept {
  while (s.out) {
    OutChunk& c = *s.out;
    ssize_t n = ::send(s.fd, c.data() + c.written, c.size - c.written,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) break;
      end_with_error(s, "send", e);
      return;
    }
    c.written += size_t(n);
    s.queued -= size_t(n);
    if (c.written < c.size) break;
    uint64_t ack = c.ack;
    s.out = c.next;
    if (!s.out) s.out_tail = nullptr;
    mem_free(&c);
    if (ack) post(s, AIRS_MSG_SOCK_SENT, &ack, sizeof ack);
  }
  if (!s.out && s.shut_wanted && !s.shut_done) {
    ::shutdown(s.fd, SHUT_WR);
    s.shut_done = true;
  }
  if (s.owe_writable && s.queued <= s.opts.send_buffer / 2) {
    s.owe_writable = false;
    post(s, AIRS_MSG_SOCK_WRITABLE, nullptr, 0);
  }
}

airs_status Sockets::queue_out(Socket& s, const char* data, size_t size,
                               uint64_t ack) noexcept {
  auto* c = static_cast<OutChunk*>(mem_alloc(sizeof(OutChunk) + size));
  if (!c) return fail(AIRS_ENOMEM, "no memory for the send buffer");
  *c = OutChunk{nullptr, size, 0, ack};
  if (size) memcpy(c->data(), data, size);  // a 0-byte send may pass NULL
  if (s.out_tail)
    s.out_tail->next = c;
  else
    s.out = c;
  s.out_tail = c;
  s.queued += size;
  return AIRS_OK;
}

// Phases: the checks; a write straight to the kernel when nothing waits
// before it (the common case: no copy); what is left into the buffer.
airs_status Sockets::send(uint64_t id, const void* data, size_t size,
                          uint64_t ack) noexcept {
  Socket* s;
  Lock lk;
  if (airs_status st = find_open(id, &s, &lk); st != AIRS_OK) return st;
  if (s->kind != SockKind::kStream)
    return fail(AIRS_ESTATE, "not a TCP connection (UDP: airs_udp_send)");
  if (s->shut_wanted)
    return fail(AIRS_ESTATE, "the socket's sending side was shut down");
  if (s->queued > 0 && s->queued + size > s->opts.send_buffer) {
    s->owe_writable = true;
    return failf(AIRS_EAGAIN, "the send buffer holds %zu of %u bytes",
                 s->queued, s->opts.send_buffer);
  }
  const char* bytes = static_cast<const char*>(data);
  size_t done = 0;
  if (!s->connecting && s->queued == 0) {
    ssize_t n = ::send(s->fd, bytes, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      int e = errno;
      if (e != EAGAIN && e != EWOULDBLOCK && e != EINTR) {
        end_with_error(*s, "send", e);
        return failf(AIRS_ESTATE,
                     "send: %s (the socket is closed; its owner is told)",
                     strerror(e));
      }
      n = 0;
    }
    done = size_t(n);
    if (done == size) {
      if (ack) post(*s, AIRS_MSG_SOCK_SENT, &ack, sizeof ack);
      return AIRS_OK;
    }
  }
  airs_status st = queue_out(*s, bytes + done, size - done, ack);
  if (st == AIRS_OK) update_interest(*s);
  return st;
}

airs_status Sockets::udp_send(uint64_t id, const airs_addr& to,
                              const void* data, size_t size) noexcept {
  Socket* s;
  Lock lk;
  if (airs_status st = find_open(id, &s, &lk); st != AIRS_OK) return st;
  if (s->kind != SockKind::kDatagram)
    return fail(AIRS_ESTATE, "not a UDP socket (TCP: airs_socket_send)");
  // The family kept in the record, not getsockname's: no system call
  // per datagram but the send.
  if ((to.family == AIRS_AF_INET6) != s->v6)
    return fail(AIRS_EINVAL, "the address family is not the socket's");
  sockaddr_storage ss;
  socklen_t len = addr_to_sockaddr(to, &ss);
  ssize_t n = sendto(s->fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT,
                     reinterpret_cast<sockaddr*>(&ss), len);
  if (n >= 0) return AIRS_OK;
  int e = errno;
  if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS)
    return failf(AIRS_EAGAIN, "sendto: %s", strerror(e));
  if (e == EMSGSIZE || e == EINVAL || e == EAFNOSUPPORT)
    return failf(AIRS_EINVAL, "sendto: %s", strerror(e));
  // ECONNREFUSED from an earlier datagram's ICMP, EHOSTUNREACH...: this
  // datagram is lost, the socket fine.
  return failf(AIRS_ESTATE, "sendto: %s", strerror(e));
}

}  // namespace airs
