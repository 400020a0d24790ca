// reactor.hpp - waiting for I/O: one epoll set per runtime, opened on
// first use (the first socket, or the host asking for its fd).
//
// On a threaded runtime a thread of the reactor's own waits in epoll_wait
// and runs the ready handler for each event: the handler reads or
// accepts and posts what it got to the owning process, which a worker
// then runs. Workers take part too: a worker that runs out of work looks
// at the ready events (epoll_wait without waiting) in its spin rounds
// before it parks, and handles them itself, so the process they wake runs
// on that worker at once, with no hand-off from the reactor's thread.
// Measured on echo (a 64-byte round trip between socket actors, 2 workers,
// a loaded machine, A/B in one window): p50 22 -> 15 us, p99 3-5 ms -> 65
// us. Workers never block in epoll: one with nothing to do parks on its
// futex, and the reactor's thread stays the one that sleeps in epoll.
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

  // Registers, changes or drops `fd` (events: EPOLLIN | EPOLLOUT | ...).
  // The set must be open. false: errno says why. threads: any. lock ok.
  bool add(int fd, uint64_t key, uint32_t events) noexcept;
  bool modify(int fd, uint64_t key, uint32_t events) noexcept;
  void remove(int fd) noexcept;
  // Makes the waiter run the tick now (a new, earlier deadline).
  // threads: any. lock ok.
  void wake() noexcept;

  // Joins the thread; afterwards no handler runs. threads: the freeing
  // thread, once, after every process has ended.
  void stop() noexcept;

  // PollHook (host-driven mode). [the polling thread]
  void before_poll() noexcept override;
  void after_poll() noexcept override;
  void wait_ready(int ms) noexcept override;

 private:
  airs_status open_locked() noexcept;
  // One epoll_wait: hands each socket's events to the handler, and with
  // own_fds also drains the wake and timer fds (the reactor's thread and
  // the poller; a worker leaves them, see worker_poll). Returns how many
  // socket events it handled.
  int dispatch(int timeout_ms, bool own_fds) noexcept;
  static bool worker_poll(void* self) noexcept;
  int64_t tick() noexcept;
  void thread_main() noexcept;
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
  std::thread thread_;
};

}  // namespace airs
