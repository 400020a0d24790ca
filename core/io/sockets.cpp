#include "io/sockets.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/error.hpp"
#include "io/net_addr.hpp"

namespace airs {

uint64_t io_now_ms() noexcept {
  using namespace std::chrono;
  return uint64_t(
      duration_cast<milliseconds>(steady_clock::now().time_since_epoch())
          .count());
}

namespace {

// The status for a failed system call on a socket being made, with the
// errno text: out of fds is a limit, a taken address a conflict.
airs_status sys_failure(const char* what, int e) noexcept {
  airs_status st;
  switch (e) {
    case EMFILE:
    case ENFILE: st = AIRS_ELIMIT; break;
    case ENOMEM:
    case ENOBUFS: st = AIRS_ENOMEM; break;
    case EADDRINUSE:
    case EISCONN: st = AIRS_ESTATE; break;
    default: st = AIRS_EINVAL;  // EADDRNOTAVAIL, EAFNOSUPPORT, EACCES...
  }
  return failf(st, "%s: %s", what, strerror(e));
}

void set_flag(int fd, int level, int name) noexcept {
  int one = 1;
  setsockopt(fd, level, name, &one, sizeof one);
}

}  // namespace

Sockets::Sockets(Seam& seam, Reactor& reactor) noexcept
    : seam_(seam),
      reactor_(reactor),
      member_bit_(seam.add_exit_observer({&Sockets::owner_ended, this})) {
  reactor_.set_handler(&Sockets::on_ready, &Sockets::on_tick, this);
}

Sockets::~Sockets() {
  stop();
}

static_assert((uint64_t(1) << SocketTable::kSlotBits) >= Reactor::kFirstKey,
              "a socket's id must not be one of the reactor's keys");

Socket* Sockets::find_locked(uint64_t id, Lock* lk) noexcept {
  Socket* s = table_.lookup(id);
  if (!s) return nullptr;
  *lk = Lock(s->mu);
  if (s->id == id && s->in_use && s->fd >= 0) return s;
  lk->unlock();
  return nullptr;
}

airs_status Sockets::find_open(uint64_t id, Socket** s, Lock* lk,
                               bool watch) noexcept {
  const char* what = watch ? "fd watch" : "socket";
  *s = find_locked(id, lk);
  if (!*s || ((*s)->kind == SockKind::kWatch) != watch) {
    if (*s) lk->unlock();
    return failf(AIRS_ENOTFOUND, "no open %s %llu", what,
                 (unsigned long long)id);
  }
  return AIRS_OK;
}

// A non-blocking, close-on-exec socket of `type` for addr's family, with
// the options that must precede bind or connect.
airs_status Sockets::open_fd(const airs_addr& addr, int type,
                             const SockOpts& opts, int* out) noexcept {
  int family = addr.family == AIRS_AF_INET6 ? AF_INET6 : AF_INET;
  int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return sys_failure("socket", errno);
  if (opts.flags & AIRS_SOCK_REUSEADDR) set_flag(fd, SOL_SOCKET, SO_REUSEADDR);
  if (family == AF_INET6 && (opts.flags & AIRS_SOCK_V6ONLY))
    set_flag(fd, IPPROTO_IPV6, IPV6_V6ONLY);
  if (type == SOCK_STREAM && (opts.flags & AIRS_SOCK_NODELAY))
    set_flag(fd, IPPROTO_TCP, TCP_NODELAY);
  *out = fd;
  return AIRS_OK;
}

// Puts `s` under its owner, if the owner is still alive (a Dekker pair
// with owner_ended, through the member bit), and counts it. A watch of
// airs_fd_watch_fn has no owner: it belongs to the runtime.
airs_status Sockets::adopt(Socket& s) noexcept {
  const bool owned = !s.call;
  Process* p = owned ? seam_.live(s.owner) : nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return fail(AIRS_ESTATE, "the runtime is shutting down");
  if (owned && (!p || !seam_.join_if_alive(p, member_bit_, s.owner)))
    return fail(AIRS_ENOPROC, "the owner is not alive");
  if (owned) {
    try {
      by_owner_[s.owner].push_back(s.id);
    } catch (const std::bad_alloc&) {
      return fail(AIRS_ENOMEM, "no memory for the socket table");
    }
  }
  open_++;
  if (s.kind == SockKind::kWatch) watches_++;
  return AIRS_OK;
}

airs_status Sockets::new_record(SockKind kind, uint64_t owner,
                                const SockOpts& opts, Socket** out,
                                Lock* lk) noexcept {
  Socket* s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return fail(AIRS_ESTATE, "the runtime is shutting down");
    if (airs_status st = table_.take(&s); st != AIRS_OK) return st;
  }
  *lk = Lock(s->mu);
  s->reset(SocketTable::next_id(*s), kind, owner, opts);
  *out = s;
  return AIRS_OK;
}

void Sockets::discard(Socket& s) noexcept {
  if (s.fd >= 0) ::close(s.fd);
  s.fd = -1;
  release(s);
}

// Phases: the reactor (opened by the first socket), the fd, its bind (and
// listen), the record, its owner. On failure nothing is left open.
airs_status Sockets::open(uint64_t owner, SockKind kind, const airs_addr& addr,
                          const SockOpts& opts, Socket** out,
                          Lock* lk) noexcept {
  airs_status st = reactor_.open();
  if (st != AIRS_OK) return st;
  int fd = -1;  // set by open_fd on success
  int type = kind == SockKind::kDatagram ? SOCK_DGRAM : SOCK_STREAM;
  if ((st = open_fd(addr, type, opts, &fd)) != AIRS_OK) return st;
  if (kind != SockKind::kStream) {
    sockaddr_storage ss;
    socklen_t len = addr_to_sockaddr(addr, &ss);
    int backlog = int(std::min<uint32_t>(opts.backlog, SOMAXCONN * 64u));
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
        (kind == SockKind::kListener && ::listen(fd, backlog) != 0)) {
      int e = errno;
      ::close(fd);
      return sys_failure("bind", e);
    }
  }
  Socket* s;
  if ((st = new_record(kind, owner, opts, &s, lk)) != AIRS_OK) {
    ::close(fd);
    return st;
  }
  s->fd = fd;
  s->v6 = addr.family == AIRS_AF_INET6;
  if ((st = adopt(*s)) != AIRS_OK) {
    discard(*s);
    lk->unlock();
    return st;
  }
  *out = s;
  return AIRS_OK;
}

airs_status Sockets::listen(uint64_t owner, const airs_addr& addr,
                            const SockOpts& opts, uint64_t* out) noexcept {
  Socket* s;
  Lock lk;
  airs_status st = open(owner, SockKind::kListener, addr, opts, &s, &lk);
  if (st != AIRS_OK) return st;
  update_interest(*s);
  *out = s->id;
  return AIRS_OK;
}

airs_status Sockets::udp_open(uint64_t owner, const airs_addr& addr,
                              const SockOpts& opts, uint64_t* out) noexcept {
  Socket* s;
  Lock lk;
  airs_status st = open(owner, SockKind::kDatagram, addr, opts, &s, &lk);
  if (st != AIRS_OK) return st;
  update_interest(*s);
  *out = s->id;
  return AIRS_OK;
}

// Phases: the socket in the table (so that its messages have a home),
// then the connect; an error the kernel reports at once (a refused
// loopback connect) is a message like one reported later.
airs_status Sockets::connect(uint64_t owner, const airs_addr& addr,
                             uint32_t timeout_ms, const SockOpts& opts,
                             uint64_t* out) noexcept {
  Socket* s;
  Lock lk;
  airs_status st = open(owner, SockKind::kStream, addr, opts, &s, &lk);
  if (st != AIRS_OK) return st;
  *out = s->id;
  sockaddr_storage ss;
  socklen_t len = addr_to_sockaddr(addr, &ss);
  if (::connect(s->fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
    post(*s, AIRS_MSG_SOCK_CONNECTED, nullptr, 0);
    update_interest(*s);
    return AIRS_OK;
  }
  int e = errno;
  if (e == EINPROGRESS) {
    s->connecting = true;
    if (timeout_ms) set_deadline(*s, io_now_ms() + timeout_ms);
    update_interest(*s);
    return AIRS_OK;
  }
  if (e == EAFNOSUPPORT || e == EINVAL || e == EMFILE || e == ENFILE ||
      e == ENOBUFS || e == ENOMEM) {
    close_locked(*s);  // the caller's mistake or a limit: a status
    return sys_failure("connect", e);
  }
  end_with_error(*s, "connect", e);
  return AIRS_OK;
}

airs_status Sockets::set_active(uint64_t id, int32_t n) noexcept {
  Socket* s;
  Lock lk;
  if (airs_status st = find_open(id, &s, &lk); st != AIRS_OK) return st;
  if (n == AIRS_ACTIVE_ALWAYS || n == 0)
    s->credit = n;
  else if (s->credit == AIRS_ACTIVE_ALWAYS)
    s->credit = std::min<int32_t>(n, AIRS_ACTIVE_MAX);
  else
    s->credit = std::min<int32_t>(AIRS_ACTIVE_MAX, s->credit + n);
  update_interest(*s);
  return AIRS_OK;
}

airs_status Sockets::give(uint64_t id, uint64_t new_owner) noexcept {
  Socket* s;
  Lock lk;
  if (airs_status st = find_open(id, &s, &lk); st != AIRS_OK) return st;
  if (new_owner == s->owner) return AIRS_OK;
  Process* p = seam_.live(new_owner);
  std::lock_guard<std::mutex> lock(mu_);
  if (!p || !seam_.join_if_alive(p, member_bit_, new_owner))
    return fail(AIRS_ENOPROC, "the new owner is not alive");
  try {
    by_owner_[new_owner].push_back(id);
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "no memory for the socket table");
  }
  auto it = by_owner_.find(s->owner);
  if (it != by_owner_.end()) {
    auto& ids = it->second;
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
    if (ids.empty()) by_owner_.erase(it);
  }
  s->owner = new_owner;
  return AIRS_OK;
}

airs_status Sockets::shutdown_send(uint64_t id) noexcept {
  Socket* s;
  Lock lk;
  if (airs_status st = find_open(id, &s, &lk); st != AIRS_OK) return st;
  if (s->kind != SockKind::kStream)
    return fail(AIRS_ESTATE, "not a TCP connection");
  s->shut_wanted = true;
  if (!s->connecting && s->queued == 0 && !s->shut_done) {
    ::shutdown(s->fd, SHUT_WR);
    s->shut_done = true;
  }
  return AIRS_OK;
}

airs_status Sockets::close(uint64_t id) noexcept {
  Socket* s;
  Lock lk;
  if (airs_status st = find_open(id, &s, &lk); st != AIRS_OK) return st;
  close_locked(*s);
  return AIRS_OK;
}

airs_status Sockets::addresses(uint64_t id, airs_addr* local,
                               airs_addr* peer) noexcept {
  Socket* s;
  Lock lk;
  if (airs_status st = find_open(id, &s, &lk); st != AIRS_OK) return st;
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (local) {
    if (getsockname(s->fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0 ||
        !addr_from_sockaddr(reinterpret_cast<sockaddr*>(&ss), local))
      return failf(AIRS_EINTERNAL, "getsockname: %s", strerror(errno));
  }
  if (peer) {
    len = sizeof ss;
    if (getpeername(s->fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
      return failf(AIRS_ESTATE, "no remote address: %s", strerror(errno));
    addr_from_sockaddr(reinterpret_cast<sockaddr*>(&ss), peer);
  }
  return AIRS_OK;
}

uint64_t Sockets::count() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return open_ - watches_;
}

// Out of epoll, the fd closed, the buffer dropped, out of its owner's
// list; the record goes back to the table. Its id and owner stay until
// the record is used again, which cannot be before s.mu is let go: a
// caller may still post the socket's last message. [s.mu held]
void Sockets::close_locked(Socket& s) noexcept {
  if (s.fd < 0) return;
  if (s.interest) reactor_.remove(s.fd, set_of(s));
  s.interest = 0;
  ::close(s.fd);
  s.fd = -1;
  s.drop_output();
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_--;
    if (s.kind == SockKind::kWatch) watches_--;
    auto it = by_owner_.find(s.owner);
    if (it != by_owner_.end()) {
      auto& ids = it->second;
      ids.erase(std::remove(ids.begin(), ids.end(), s.id), ids.end());
      if (ids.empty()) by_owner_.erase(it);
    }
  }
  release(s);
}

void Sockets::release(Socket& s) noexcept {
  if (!s.in_use || s.fd >= 0 || (s.call && s.call->busy())) return;
  s.in_use = false;
  std::lock_guard<std::mutex> lock(mu_);
  table_.give_back(s);
}

// A process that owned sockets ended: they close (Erlang's port link).
void Sockets::owner_ended(void* self, uint64_t pid, Process*,
                          Reason*) noexcept {
  auto* me = static_cast<Sockets*>(self);
  std::vector<uint64_t> ids;
  {
    std::lock_guard<std::mutex> lock(me->mu_);
    auto it = me->by_owner_.find(pid);
    if (it == me->by_owner_.end()) return;
    ids.swap(it->second);
    me->by_owner_.erase(it);
  }
  for (uint64_t id : ids) {
    Lock lk;
    Socket* s = me->find_locked(id, &lk);
    if (s && s->owner == pid) me->close_locked(*s);  // not given away
  }
}

// Every record ever made, one at a time: none can be made any more.
void Sockets::stop() noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  table_.each([this](Socket& s) {
    Lock lk(s.mu);
    if (!s.in_use || s.fd < 0) return;
    close_locked(s);
    wait_call_done(s, lk);
  });
}

}  // namespace airs
