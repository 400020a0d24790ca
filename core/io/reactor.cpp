#include "io/reactor.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.hpp"

namespace airs {

namespace {

constexpr uint64_t kWakeKey = 1;
constexpr uint64_t kTimerKey = 2;

int64_t mono_ms() noexcept {
  return int64_t(mono_ns() / 1000000u);
}

// One epoll_ctl of `fd` in set `epfd`, with `key` and `events`.
bool ctl(int epfd, int op, int fd, uint64_t key, uint32_t events) noexcept {
  epoll_event ev{};  // non-null for EPOLL_CTL_DEL on kernels before 2.6.9
  ev.events = events;
  ev.data.u64 = key;
  return epoll_ctl(epfd, op, fd, &ev) == 0;
}

airs_status fd_failure(const char* what) noexcept {
  int e = errno;
  airs_status st = (e == EMFILE || e == ENFILE)    ? AIRS_ELIMIT
                   : (e == ENOMEM || e == ENOBUFS) ? AIRS_ENOMEM
                                                   : AIRS_EINTERNAL;
  return failf(st, "%s: %s", what, strerror(e));
}

}  // namespace

Reactor::~Reactor() {
  stop();
  if (timerfd_ >= 0) close(timerfd_);
  if (epfd_ >= 0) close(epfd_);
  int calls = calls_epfd_.load(std::memory_order_relaxed);
  if (calls >= 0) close(calls);
}

airs_status Reactor::open() noexcept {
  if (opened_.load(std::memory_order_acquire)) return AIRS_OK;
  std::lock_guard<std::mutex> lock(open_mu_);
  if (stopped_) return fail(AIRS_ESTATE, "the runtime is shutting down");
  if (opened_.load(std::memory_order_relaxed)) return AIRS_OK;
  airs_status st = open_locked();
  if (st == AIRS_OK) opened_.store(true, std::memory_order_release);
  return st;
}

// Phases: the epoll set and the wake fd; then, by mode, the host's timer
// fd and hooks, or the workers' hooks. On failure what was made is closed
// by the destructor; nothing was published.
airs_status Reactor::open_locked() noexcept {
  if (epfd_ < 0 && (epfd_ = epoll_create1(EPOLL_CLOEXEC)) < 0)
    return fd_failure("epoll_create1");
  if (wake_.fd() < 0) {
    if (!wake_.open()) return fd_failure("eventfd");
    if (!add(wake_.fd(), kWakeKey, EPOLLIN, Set::kWorkers))
      return fd_failure("epoll_ctl");
  }
  if (!seam_.threaded()) {
    if (timerfd_ < 0) {
      timerfd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
      if (timerfd_ < 0) return fd_failure("timerfd_create");
      if (!add(timerfd_, kTimerKey, EPOLLIN, Set::kWorkers))
        return fd_failure("epoll_ctl");
    }
    seam_.set_host_io(this, &wake_);
    wake_.signal();  // work queued before the host looked: poll once
    return AIRS_OK;
  }
  seam_.set_io(&hooks_);
  hooked_ = true;
  return AIRS_OK;
}

// On a threaded runtime only the calls' set: the workers' stays closed
// until a socket needs it, so a runtime whose only fds are function
// watches (a node's) keeps its workers parked on their futex. A worker in
// epoll is woken through the wake fd, two system calls more than a futex:
// remote_call's p50 was 5-10 % slower with the node's runtime opening it.
airs_status Reactor::open_calls() noexcept {
  if (!seam_.threaded()) return open();
  if (calls_epfd_.load(std::memory_order_acquire) >= 0) return AIRS_OK;
  std::lock_guard<std::mutex> lock(open_mu_);
  if (stopped_) return fail(AIRS_ESTATE, "the runtime is shutting down");
  return open_calls_locked();
}

// Phases: the set with its wake fd, the thread, and then the set is
// published (calls_epfd_). On failure what was made is closed.
airs_status Reactor::open_calls_locked() noexcept {
  if (calls_epfd_.load(std::memory_order_relaxed) >= 0) return AIRS_OK;
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return fd_failure("epoll_create1");
  if (calls_wake_.fd() < 0 && !calls_wake_.open()) {
    airs_status st = fd_failure("eventfd");
    close(fd);
    return st;
  }
  if (!ctl(fd, EPOLL_CTL_ADD, calls_wake_.fd(), kWakeKey, EPOLLIN)) {
    airs_status st = fd_failure("epoll_ctl");
    close(fd);
    return st;
  }
  calls_epfd_.store(fd, std::memory_order_release);
  try {
    calls_thread_ = std::thread(
        [this] { run_runtime_thread(cfg_, [this] { calls_main(); }); });
  } catch (...) {
    calls_epfd_.store(-1, std::memory_order_relaxed);
    close(fd);
    return fail(AIRS_EINTERNAL, "cannot start the reactor's thread");
  }
  return AIRS_OK;
}

// The calls' thread: waits in its set and hands each event to the
// handler, until stop() signals its wake fd.
void Reactor::calls_main() noexcept {
  const int fd = calls_epfd_.load(std::memory_order_acquire);
  epoll_event events[kBatch];
  while (!stopping_.load(std::memory_order_acquire)) {
    int n = epoll_wait(fd, events, kBatch, -1);
    handle(events, n, false);  // its wake fd stays readable: stop only
  }
}

airs_status Reactor::host_fd(int* fd) noexcept {
  *fd = -1;
  if (seam_.threaded())
    return fail(AIRS_ESTATE,
                "the runtime has worker threads: only a host-driven runtime "
                "has a wake-up fd");
  airs_status st = open();
  if (st == AIRS_OK) *fd = epfd_;
  return st;
}

int Reactor::set_fd(Set set) const noexcept {
  int calls = calls_epfd_.load(std::memory_order_acquire);
  return set == Set::kCalls && calls >= 0 ? calls : epfd_;
}

bool Reactor::add(int fd, uint64_t key, uint32_t events, Set set) noexcept {
  return ctl(set_fd(set), EPOLL_CTL_ADD, fd, key, events);
}

bool Reactor::modify(int fd, uint64_t key, uint32_t events,
                     Set set) noexcept {
  return ctl(set_fd(set), EPOLL_CTL_MOD, fd, key, events);
}

void Reactor::remove(int fd, Set set) noexcept {
  ctl(set_fd(set), EPOLL_CTL_DEL, fd, 0, 0);
}

void Reactor::wake() noexcept {
  tick_asked_.store(true, std::memory_order_release);  // busy pollers too
  wake_.signal();
}

// The workers park on their futex from now on; a worker still inside a
// hook finishes its call, and the handler finds the sockets closed.
void Reactor::stop() noexcept {
  bool hooked;
  {
    std::lock_guard<std::mutex> lock(open_mu_);
    stopped_ = true;
    hooked = hooked_;
    hooked_ = false;
  }
  stopping_.store(true, std::memory_order_release);
  if (timerfd_ >= 0) seam_.set_host_io(nullptr, nullptr);  // polls go on bare
  if (hooked) seam_.set_io(nullptr);
  if (calls_thread_.joinable()) {
    calls_wake_.signal();
    calls_thread_.join();
  }
}

int Reactor::dispatch(bool own_fds, int most) noexcept {
  epoll_event events[kBatch];
  int n = epoll_wait(epfd_, events, most < kBatch ? most : kBatch, 0);
  return handle(events, n, own_fds);
}

int Reactor::handle(const epoll_event* events, int n, bool own_fds) noexcept {
  int handled = 0;
  for (int i = 0; i < n; i++) {
    uint64_t key = events[i].data.u64;
    if (key >= kFirstKey) {
      ready_(ctx_, key, events[i].events);
      handled++;
    } else if (!own_fds) {
      continue;
    } else if (key == kWakeKey) {
      wake_.clear();
    } else if (key == kTimerKey) {
      uint64_t expirations;
      ssize_t r = read(timerfd_, &expirations, sizeof expirations);
      (void)r;
    }
  }
  return handled;
}

// A worker that is busy, or spinning before it parks, looks at what is
// ready without waiting and handles the sockets' events itself. One looks
// at a time: the events are level-triggered, so two at once would both
// get each event and fight over its socket's lock; a worker that finds
// the look taken gets -1 and spins without looking (Scheduler::
// wait_for_work). The wake fd is left to the waiter: a poller that
// cleared it could leave the waiter asleep through the wake it was for.
// The waiter and a poller may still take the same event; the socket's
// lock orders them, and the second one's read finds nothing. A due
// deadline is run here too, for the time when every worker is busy and
// none waits.
int Reactor::io_poll(void* self, int most) noexcept {
  auto* r = static_cast<Reactor*>(self);
  if (most <= 0) return 0;
  if (r->polling_.load(std::memory_order_relaxed) ||
      r->polling_.exchange(true, std::memory_order_acquire))
    return -1;
  r->tick_if_due();
  int found = r->dispatch(false, most) > 0 ? 1 : 0;
  r->polling_.store(false, std::memory_order_release);
  return found;
}

// The I/O waiter's wait, up to the handler's next deadline.
void Reactor::io_wait(void* self) noexcept {
  auto* r = static_cast<Reactor*>(self);
  int64_t next = r->tick();
  int timeout = next < 0 ? -1 : next > INT32_MAX ? INT32_MAX : int(next);
  if (r->stopping_.load(std::memory_order_acquire)) timeout = 0;
  int n = epoll_wait(r->epfd_, r->waited_, kBatch, timeout);
  r->nwaited_ = n < 0 ? 0 : n;
}

void Reactor::io_dispatch(void* self) noexcept {
  auto* r = static_cast<Reactor*>(self);
  r->handle(r->waited_, r->nwaited_, true);
  r->nwaited_ = 0;
}

void Reactor::io_wake(void* self) noexcept {
  static_cast<Reactor*>(self)->wake_.signal();
}

int64_t Reactor::tick() noexcept {
  if (!tick_) return -1;
  int64_t next = tick_(ctx_);
  next_tick_ms_.store(next < 0 ? INT64_MAX : mono_ms() + next,
                      std::memory_order_release);
  return next;
}

// A tick that raced a wake() may store the deadline it read before the
// new one: tick_asked_ stays set then, and the next poll ticks again.
void Reactor::tick_if_due() noexcept {
  if (tick_asked_.load(std::memory_order_relaxed) &&
      tick_asked_.exchange(false, std::memory_order_acq_rel)) {
    tick();
    return;
  }
  int64_t due = next_tick_ms_.load(std::memory_order_acquire);
  if (due != INT64_MAX && mono_ms() >= due) tick();
}

// Host-driven: the fd the host saw readable is dealt with here. The wake
// fd is cleared last, after the reads posted their messages (posting from
// this thread signals it again, which would cost the host a useless
// poll); a signal from another thread before the clear is for work this
// poll runs, and after_poll signals again for whatever it leaves.
void Reactor::before_poll() noexcept {
  dispatch(true);
  tick();
  wake_.clear();
}

void Reactor::after_poll() noexcept {
  int64_t timer = seam_.next_timer_ms();
  if (seam_.host_has_work() || timer == 0) {
    wake_.signal();
    return;
  }
  // A manual clock moves only by airs_runtime_advance_time, which
  // signals: a real timer for its deadlines would only wake the host for
  // nothing.
  if (cfg_.clock_is_manual()) timer = -1;
  int64_t io = tick();
  int64_t next = timer < 0 ? io : io < 0 ? timer : timer < io ? timer : io;
  arm_timer(next);
}

void Reactor::wait_ready(int ms) noexcept {
  pollfd pfd{epfd_, POLLIN, 0};
  poll(&pfd, 1, ms);
}

void Reactor::arm_timer(int64_t ms) noexcept {
  itimerspec spec{};  // all zero: disarmed
  if (ms == 0) ms = 1;
  if (ms > 0) {
    spec.it_value.tv_sec = ms / 1000;
    spec.it_value.tv_nsec = (ms % 1000) * 1000000;
  }
  timerfd_settime(timerfd_, 0, &spec, nullptr);
}

}  // namespace airs
