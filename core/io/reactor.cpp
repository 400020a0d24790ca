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
// Events taken per epoll_wait: enough to amortise the call, few enough
// that one wait's handlers do not delay the next look for long.
constexpr int kBatch = 256;

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
// fd and hooks, or the thread. On failure what was made is closed by the
// destructor; nothing was published.
airs_status Reactor::open_locked() noexcept {
  if (epfd_ < 0 && (epfd_ = epoll_create1(EPOLL_CLOEXEC)) < 0)
    return fd_failure("epoll_create1");
  if (wake_.fd() < 0) {
    if (!wake_.open()) return fd_failure("eventfd");
    if (!add(wake_.fd(), kWakeKey, EPOLLIN)) return fd_failure("epoll_ctl");
  }
  if (!seam_.threaded()) {
    if (timerfd_ < 0) {
      timerfd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
      if (timerfd_ < 0) return fd_failure("timerfd_create");
      if (!add(timerfd_, kTimerKey, EPOLLIN)) return fd_failure("epoll_ctl");
    }
    seam_.set_host_io(this, &wake_);
    wake_.signal();  // work queued before the host looked: poll once
    return AIRS_OK;
  }
  seam_.set_idle_poll(&Reactor::worker_poll, this);
  try {
    thread_ = std::thread(
        [this] { run_runtime_thread(cfg_, [this] { thread_main(); }); });
  } catch (...) {
    return fail(AIRS_EINTERNAL, "cannot start the reactor thread");
  }
  return AIRS_OK;
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

bool Reactor::add(int fd, uint64_t key, uint32_t events) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = key;
  return epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool Reactor::modify(int fd, uint64_t key, uint32_t events) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = key;
  return epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void Reactor::remove(int fd) noexcept {
  epoll_event ev{};  // non-null for kernels before 2.6.9
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, &ev);
}

void Reactor::wake() noexcept {
  wake_.signal();
}

void Reactor::stop() noexcept {
  {
    std::lock_guard<std::mutex> lock(open_mu_);
    stopped_ = true;
  }
  stopping_.store(true, std::memory_order_release);
  if (timerfd_ >= 0) seam_.set_host_io(nullptr, nullptr);  // polls go on bare
  if (thread_.joinable()) {
    wake_.signal();
    thread_.join();
  }
}

int Reactor::dispatch(int timeout_ms, bool own_fds) noexcept {
  epoll_event events[kBatch];
  int n = epoll_wait(epfd_, events, kBatch, timeout_ms);
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

// A worker with nothing to do looks at what is ready without waiting and
// handles the sockets' events itself (the reactor's own fds are left to
// its thread: a worker that cleared the wake fd could leave the thread
// asleep through a stop). Both may take the same event; the socket's lock
// orders them, and the second one's read finds nothing.
bool Reactor::worker_poll(void* self) noexcept {
  return static_cast<Reactor*>(self)->dispatch(0, false) > 0;
}

int64_t Reactor::tick() noexcept {
  return tick_ ? tick_(ctx_) : -1;
}

void Reactor::thread_main() noexcept {
  while (!stopping_.load(std::memory_order_acquire)) {
    int64_t next = tick();
    int timeout = next < 0 ? -1 : next > INT32_MAX ? INT32_MAX : int(next);
    dispatch(timeout, true);
  }
}

// Host-driven: the fd the host saw readable is dealt with here. The wake
// fd is cleared last, after the reads posted their messages (posting from
// this thread signals it again, which would cost the host a useless
// poll); a signal from another thread before the clear is for work this
// poll runs, and after_poll signals again for whatever it leaves.
void Reactor::before_poll() noexcept {
  dispatch(0, true);
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
