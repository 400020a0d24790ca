// fd_watch.cpp - watched fds (io.h): a process's, told by message
// (airs_fd_watch, Erlang's enif_select), and the runtime's, told by a call
// (airs_fd_watch_fn, libuv's uv_poll, for libraries with event loops of
// their own): records of kind kWatch in the socket table, so that they get
// ids, owners and their end with the owner as sockets do.
//
// A watch holds a duplicate of the caller's fd, registered with
// EPOLLONESHOT: the kernel disarms it at its first event, so a watch
// costs one epoll_ctl per arming and can never report twice (a hung-up
// pipe, which epoll reports at every wait, included). Every function runs
// under the record's lock, as the socket functions do (sockets.hpp).
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "base/error.hpp"
#include "io/sockets.hpp"

namespace airs {

namespace {

uint32_t epoll_events(uint32_t fd_events) noexcept {
  uint32_t ev = EPOLLONESHOT;
  if (fd_events & AIRS_FD_READ) ev |= EPOLLIN | EPOLLRDHUP;
  if (fd_events & AIRS_FD_WRITE) ev |= EPOLLOUT;
  return ev;
}

// What to tell the owner: an error or hang-up counts as whatever it
// waited for, since the next read or write is what reports it.
uint32_t ready_events(uint32_t epoll, uint32_t wanted) noexcept {
  uint32_t ready = 0;
  if (epoll & (EPOLLIN | EPOLLRDHUP)) ready |= AIRS_FD_READ;
  if (epoll & EPOLLOUT) ready |= AIRS_FD_WRITE;
  if (epoll & (EPOLLERR | EPOLLHUP)) ready |= wanted;
  return ready & wanted;
}

}  // namespace

// Phases: the reactor, the duplicate, the record in the table (for a live
// owner, or the runtime's), then the arming; on failure nothing is left
// open.
airs_status Sockets::add_watch(uint64_t owner, int fd, uint32_t events,
                               std::unique_ptr<WatchCall> call,
                               uint64_t* out) noexcept {
  airs_status st = call ? reactor_.open_calls() : reactor_.open();
  if (st != AIRS_OK) return st;
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) {
    int e = errno;
    if (e == EMFILE || e == ENFILE)
      return failf(AIRS_ELIMIT, "dup of fd %d: %s", fd, strerror(e));
    return failf(AIRS_EINVAL, "fd %d: %s", fd, strerror(e));
  }
  Socket* s;
  Lock lk;
  if ((st = new_record(SockKind::kWatch, owner, SockOpts{}, &s, &lk)) !=
      AIRS_OK) {
    ::close(dup);
    return st;
  }
  s->fd = dup;
  s->call = std::move(call);
  if ((st = adopt(*s)) != AIRS_OK) {
    discard(*s);
    return st;
  }
  if (!reactor_.add(s->fd, s->id, epoll_events(events), set_of(*s))) {
    int e = errno;  // EPERM: a regular file or a directory
    close_locked(*s);
    return failf(e == ENOMEM || e == ENOSPC ? AIRS_ENOMEM : AIRS_EINVAL,
                 "epoll cannot watch fd %d: %s", fd, strerror(e));
  }
  s->interest = 1;  // registered: close_locked takes it out of epoll
  s->watch_events = events;
  *out = s->id;
  return AIRS_OK;
}

airs_status Sockets::watch(uint64_t owner, int fd, uint32_t events,
                           uint64_t* out) noexcept {
  return add_watch(owner, fd, events, nullptr, out);
}

airs_status Sockets::watch_fn(int fd, uint32_t events, airs_fd_fn fn, void* arg,
                              uint64_t* out) noexcept {
  std::unique_ptr<WatchCall> call(new (std::nothrow) WatchCall);
  if (!call) return fail(AIRS_ENOMEM, "no memory for an fd watch");
  call->fn = fn;
  call->arg = arg;
  return add_watch(0, fd, events, std::move(call), out);
}

airs_status Sockets::rearm(uint64_t id, uint32_t events) noexcept {
  Socket* s;
  Lock lk;
  if (airs_status st = find_open(id, &s, &lk, true); st != AIRS_OK) return st;
  if (!reactor_.modify(s->fd, s->id, epoll_events(events), set_of(*s)))
    return failf(AIRS_EINTERNAL, "epoll_ctl: %s", strerror(errno));
  s->watch_events = events;
  return AIRS_OK;
}

airs_status Sockets::unwatch(uint64_t id) noexcept {
  Socket* s;
  Lock lk;
  if (airs_status st = find_open(id, &s, &lk, true); st != AIRS_OK) return st;
  close_locked(*s);
  wait_call_done(*s, lk);
  return AIRS_OK;
}

// A closed watch's fn may still be running on another thread: wait for
// it, so that its arg may go. From inside fn, no wait: the call loop in
// watch_ready sees the fd closed and makes no further call. The last of
// the waiters and the caller gives the record back. [lk holds s.mu]
void Sockets::wait_call_done(Socket& s, Lock& lk) noexcept {
  if (!s.call) return;
  WatchCall& c = *s.call;
  if (c.thread == std::this_thread::get_id()) return;
  c.waiters++;
  c.idle.wait(lk, [&c] { return !c.running(); });
  c.waiters--;
  release(s);
}

// The one event of an arming: the kernel has disarmed the fd already.
// A message watch posts it; a function watch calls fn with s.mu let go
// (fn may rearm or unwatch), and goes on calling it on this thread while
// events came meanwhile, so that two calls never overlap. [lk holds s.mu]
void Sockets::watch_ready(Socket& s, Lock& lk, uint32_t events) noexcept {
  uint32_t ready = ready_events(events, s.watch_events);
  if (ready == 0) ready = s.watch_events;  // cannot happen; never silent
  if (!s.call) {
    post(s, AIRS_MSG_FD_READY, &ready, sizeof ready);
    return;
  }
  WatchCall& c = *s.call;
  if (c.running()) {  // on another thread: it calls again for this
    c.pending |= ready;
    return;
  }
  c.thread = std::this_thread::get_id();
  while (ready != 0 && s.fd >= 0) {
    lk.unlock();
    c.fn(c.arg, s.id, ready);
    lk.lock();
    ready = c.pending;
    c.pending = 0;
  }
  c.thread = std::thread::id();
  c.idle.notify_all();
  release(s);  // closed meanwhile (by fn, or while it ran), and not waited
}

}  // namespace airs
