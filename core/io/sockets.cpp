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

Sockets::Ref Sockets::find(uint64_t id) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = table_.find(id);
  return it == table_.end() ? nullptr : it->second;
}

// The open socket `id` into *s, locked into *lk; else ENOTFOUND. The
// caller declares *s before *lk, so that its lock ends first: closing may
// have dropped the table's reference, leaving *s the last.
airs_status Sockets::find_open(uint64_t id, Ref* s, Lock* lk,
                               bool watch) noexcept {
  const char* what = watch ? "fd watch" : "socket";
  *s = find(id);
  if (!*s || ((*s)->kind == SockKind::kWatch) != watch) {
    s->reset();
    return failf(AIRS_ENOTFOUND, "no %s %llu", what, (unsigned long long)id);
  }
  *lk = Lock((*s)->mu);
  if ((*s)->fd < 0) return failf(AIRS_ENOTFOUND, "the %s is closed", what);
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

// Puts `s` in the table under its owner, if the owner is still alive (a
// Dekker pair with owner_ended, through the member bit). A watch of
// airs_fd_watch_fn has no owner: it belongs to the runtime.
airs_status Sockets::adopt(const Ref& s) noexcept {
  const bool owned = !s->call;
  Process* p = owned ? seam_.live(s->owner) : nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return fail(AIRS_ESTATE, "the runtime is shutting down");
  if (owned && (!p || !seam_.join_if_alive(p, member_bit_, s->owner)))
    return fail(AIRS_ENOPROC, "the owner is not alive");
  try {
    table_.emplace(s->id, s);
    if (s->kind == SockKind::kWatch) watches_++;
    if (!owned) return AIRS_OK;
    try {
      by_owner_[s->owner].push_back(s->id);
    } catch (...) {
      table_.erase(s->id);
      if (s->kind == SockKind::kWatch) watches_--;
      throw;
    }
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "no memory for the socket table");
  }
  return AIRS_OK;
}

// A new record of `kind` with the next id, or nullptr (no memory).
Sockets::Ref Sockets::new_record(SockKind kind, uint64_t owner,
                                 const SockOpts& opts) noexcept {
  try {
    std::lock_guard<std::mutex> lock(mu_);
    return std::make_shared<Socket>(next_id_++, kind, owner, opts);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

// Phases: the reactor (opened by the first socket), the fd, its bind (and
// listen), the record, the table. On failure nothing is left open.
airs_status Sockets::open(uint64_t owner, SockKind kind, const airs_addr& addr,
                          const SockOpts& opts, Ref* out) noexcept {
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
  Ref s = new_record(kind, owner, opts);
  if (!s) {
    ::close(fd);
    return fail(AIRS_ENOMEM, "no memory for a socket");
  }
  s->fd = fd;
  if ((st = adopt(s)) != AIRS_OK) {
    ::close(fd);
    s->fd = -1;
    return st;
  }
  *out = std::move(s);
  return AIRS_OK;
}

airs_status Sockets::listen(uint64_t owner, const airs_addr& addr,
                            const SockOpts& opts, uint64_t* out) noexcept {
  Ref s;
  airs_status st = open(owner, SockKind::kListener, addr, opts, &s);
  if (st != AIRS_OK) return st;
  Lock lk(s->mu);
  update_interest(*s);
  *out = s->id;
  return AIRS_OK;
}

airs_status Sockets::udp_open(uint64_t owner, const airs_addr& addr,
                              const SockOpts& opts, uint64_t* out) noexcept {
  Ref s;
  airs_status st = open(owner, SockKind::kDatagram, addr, opts, &s);
  if (st != AIRS_OK) return st;
  Lock lk(s->mu);
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
  Ref s;
  airs_status st = open(owner, SockKind::kStream, addr, opts, &s);
  if (st != AIRS_OK) return st;
  Lock lk(s->mu);
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
  Ref s;  // declared first: the lock must end before the last reference
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
  Ref s;  // declared first: the lock must end before the last reference
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
  Ref s;  // declared first: the lock must end before the last reference
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
  Ref s;  // declared first: the lock must end before the last reference
  Lock lk;
  if (airs_status st = find_open(id, &s, &lk); st != AIRS_OK) return st;
  close_locked(*s);
  return AIRS_OK;
}

airs_status Sockets::addresses(uint64_t id, airs_addr* local,
                               airs_addr* peer) noexcept {
  Ref s;  // declared first: the lock must end before the last reference
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
  return table_.size() - watches_;
}

// Out of epoll, the fd closed, the buffer dropped, out of the table. The
// record lives on while someone holds a reference; its fd of -1 says it is
// closed. [s.mu held]
void Sockets::close_locked(Socket& s) noexcept {
  if (s.fd < 0) return;
  if (s.interest) reactor_.remove(s.fd, set_of(s));
  s.interest = 0;
  ::close(s.fd);
  s.fd = -1;
  for (OutChunk& c : s.out) free(c.data);
  s.out.clear();
  s.queued = 0;
  std::lock_guard<std::mutex> lock(mu_);
  table_.erase(s.id);
  if (s.kind == SockKind::kWatch) watches_--;
  auto it = by_owner_.find(s.owner);
  if (it != by_owner_.end()) {
    auto& ids = it->second;
    ids.erase(std::remove(ids.begin(), ids.end(), s.id), ids.end());
    if (ids.empty()) by_owner_.erase(it);
  }
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
    Ref s = me->find(id);
    if (!s) continue;
    Lock lk(s->mu);
    if (s->owner == pid) me->close_locked(*s);  // not given away meanwhile
  }
}

// One at a time, taking no memory: close_locked erases what it closes.
void Sockets::stop() noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  for (;;) {
    Ref s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (table_.empty()) break;
      s = table_.begin()->second;
    }
    Lock lk(s->mu);
    if (s->fd >= 0) {
      close_locked(*s);
      wait_call_done(*s, lk);
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      table_.erase(s->id);  // cannot happen: closed records leave at once
    }
  }
}

}  // namespace airs
