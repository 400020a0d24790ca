// reactor.hpp - waiting for I/O: the workers' epoll set, opened on first
// use (the first socket or message watch, or the host asking for its fd),
// and on a threaded runtime a set for function watches with its thread.
//
// On a threaded runtime the workers wait in the workers' set themselves; no
// thread of the reactor's waits there. The ready handler reads or accepts
// and posts what it got to the owning process, on the worker that handled
// the event, so the process runs there with no hand-off between threads.
// The scheduler decides who looks (sched/scheduler.hpp, "Parking and I/O"):
// the first worker to park waits in epoll_wait (wait, dispatch), woken for
// other work through the wake fd; the others park on their futex. Workers
// with nothing to do look without waiting in their spin rounds, and busy
// ones every few dozen turns while no worker waits (poll).
//
// Why no thread of its own: it was there until 2026-12, waiting in
// epoll_wait while the workers also looked. On echo_many (1,000
// connections, 2 workers) it took 27.6 % of the samples, woken by events
// the workers then took themselves.
//
// The one thread it keeps: on a threaded runtime the fds of function
// watches (airs_fd_watch_fn: a library's own event loop, such as the node
// library's NATS connection) go in a second epoll set, waited on by a
// thread of the reactor's, opened with the first of them. Their calls
// must go on while every worker is held up in a long turn: a node's
// heartbeats are read there, and a peer that missed them would declare
// this node down.
//
// In host-driven mode there is no thread: the epoll fd is the host's
// wake-up fd (airs_runtime_fd). It holds the sockets, an eventfd that the
// scheduler and the timer service signal (sched/wake_fd.hpp) and a
// timerfd for the next deadline, so it is readable whenever a message, a
// timer or I/O is due. Each poll handles the ready events first
// (before_poll), then runs turns, then re-arms (after_poll).
//
// Keys. Each registered fd has a 64-bit key, given back with its events;
// keys below kFirstKey are the reactor's own.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>

#include "airs/airs.h"
#include "base/config.hpp"
#include "kernel/seam.hpp"
#include "sched/wake_fd.hpp"

namespace airs {

class Reactor final : public PollHook {
 public:
  // Handles `events` (EPOLLIN...) of the fd registered with `key`.
  // [the reactor's thread, or the polling thread]
  using ReadyFn = void (*)(void* ctx, uint64_t key, uint32_t events) noexcept;
  // Runs what is due (connect timeouts...) and returns the ms until the
  // next deadline, -1 for none. [as ReadyFn]
  using TickFn = int64_t (*)(void* ctx) noexcept;
  static constexpr uint64_t kFirstKey = 16;

  Reactor(Seam& seam, const Config& cfg) noexcept : seam_(seam), cfg_(cfg) {}
  ~Reactor();  // stop() first
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // The one client's handlers (the socket service). threads: the creating
  // thread, before open().
  void set_handler(ReadyFn ready, TickFn tick, void* ctx) noexcept {
    ready_ = ready;
    tick_ = tick;
    ctx_ = ctx;
  }

  // Opens the epoll set on first use: in host-driven mode with the wake
  // and timer fds, hooked into the poll; else with the reactor's thread.
  // ELIMIT: out of fds. ENOMEM. EINTERNAL: no thread. ESTATE: stopped.
  // threads: any. lock ok (a leaf lock, held while opening).
  airs_status open() noexcept;
  // The host's fd (opening the set if need be); *fd = -1 on failure.
  airs_status host_fd(int* fd) noexcept;

  // The epoll set an fd goes in: the workers' (sockets, message
  // watches), or the calls' (function watches; on a host-driven runtime
  // the same set as the workers').
  enum class Set { kWorkers, kCalls };
  // Opens the calls' set on first use: on a threaded runtime a set of
  // its own with its thread, else the workers' set (open()). Errors as
  // open().
  airs_status open_calls() noexcept;
  // Registers, changes or drops `fd` (events: EPOLLIN | EPOLLOUT | ...)
  // in `set`, which must be open. false: errno says why. threads: any.
  // lock ok.
  bool add(int fd, uint64_t key, uint32_t events, Set set) noexcept;
  bool modify(int fd, uint64_t key, uint32_t events, Set set) noexcept;
  void remove(int fd, Set set) noexcept;
  // Makes the waiter run the tick now (a new, earlier deadline).
  // threads: any. lock ok.
  void wake() noexcept;

  // Takes the hooks from the workers and joins the calls' thread;
  // afterwards no handler starts on that thread, and workers start none
  // once the scheduler is stopped. threads: the freeing thread, once,
  // after every process has ended.
  void stop() noexcept;

  // PollHook (host-driven mode). [the polling thread]
  void before_poll() noexcept override;
  void after_poll() noexcept override;
  void wait_ready(int ms) noexcept override;

 private:
  // Events taken per epoll_wait: enough to amortise the call, few enough
  // that one wait's handlers do not delay the next look for long.
  static constexpr int kBatch = 256;

  airs_status open_locked() noexcept;
  airs_status open_calls_locked() noexcept;
  int set_fd(Set set) const noexcept;
  void calls_main() noexcept;
  // One epoll_wait without waiting for up to `most` events, then
  // handle(). Returns how many socket events it handled.
  int dispatch(bool own_fds, int most = kBatch) noexcept;
  // Hands each socket's event to the handler, and with own_fds also
  // drains the wake and timer fds (the I/O waiter and the poller; a busy
  // or spinning worker leaves them, see io_poll). Returns how many socket
  // events it handled.
  int handle(const epoll_event* events, int n, bool own_fds) noexcept;
  // IoHooks (sched/io_hooks.hpp).
  static int io_poll(void* self, int most) noexcept;
  static void io_wait(void* self) noexcept;
  static void io_dispatch(void* self) noexcept;
  static void io_wake(void* self) noexcept;
  int64_t tick() noexcept;
  void tick_if_due() noexcept;
  void arm_timer(int64_t ms) noexcept;

  Seam& seam_;
  const Config& cfg_;
  ReadyFn ready_ = nullptr;
  TickFn tick_ = nullptr;
  void* ctx_ = nullptr;

  std::mutex open_mu_;  // leaf: open() and stop()
  std::atomic<bool> opened_{false};
  bool stopped_ = false;
  int epfd_ = -1;
  int timerfd_ = -1;  // host-driven only
  WakeFd wake_;       // signalled to end a wait early
  std::atomic<bool> stopping_{false};
  const IoHooks hooks_{&Reactor::io_poll, &Reactor::io_wait,
                       &Reactor::io_dispatch, &Reactor::io_wake, this};
  bool hooked_ = false;  // under open_mu_: hooks_ given to the scheduler
  // The calls' set and its thread (threaded only). calls_epfd_ is set
  // once, under open_mu_, before any fd is added to it.
  std::atomic<int> calls_epfd_{-1};
  WakeFd calls_wake_;  // signalled to stop the thread
  std::thread calls_thread_;
  // For the busy workers' polls: when the handler's next deadline is due
  // (mono_ns in ms; INT64_MAX: none), and whether a new one was set since
  // (wake). threads: any.
  std::atomic<int64_t> next_tick_ms_{INT64_MAX};
  std::atomic<bool> tick_asked_{false};
  // Held by the worker inside io_poll: one looks at a time. threads: any.
  std::atomic<bool> polling_{false};
  // What the I/O waiter's last wait found, for its dispatch. [the waiter]
  epoll_event waited_[kBatch];
  int nwaited_ = 0;
};

}  // namespace airs
