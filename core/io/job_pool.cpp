#include "io/job_pool.hpp"

#include <atomic>
#include <condition_variable>
#include <list>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>

#include "base/error.hpp"
#include "base/spin.hpp"
#include "mail/message.hpp"

namespace airs {

using Clock = std::chrono::steady_clock;

// How long a thread that ran out of jobs looks for a new one before it
// sleeps on the condition variable. A job queued meanwhile starts with no
// futex wake-up and no trip through the kernel's scheduler: the next read
// of a file actor, the request that follows a reply. Bounded, so an idle
// pool still sleeps: at most this much CPU after each burst of jobs.
constexpr auto kSpin = std::chrono::microseconds(50);

namespace {

struct Job {
  uint64_t id = 0;  // 0: a turn (not cancellable: nobody knows its id)
  airs_job spec{};
  Clock::time_point queued_at;
  Process* turn = nullptr;  // a turn of an AIRS_SPAWN_BLOCKING process
};

}  // namespace

// What the pool's threads share with it; outlives the pool while a thread
// let go at stop still runs its job. Fields under `mu` unless noted.
struct JobPoolCore {
  JobPoolCore(Seam& s, const Config& c) : seam(&s), cfg(c) {}

  std::mutex mu;
  std::condition_variable work;   // a job was queued, or stop began
  std::condition_variable quiet;  // a job, a delivery or a thread ended

  Seam* seam;        // nullptr once stopped: completions are dropped
  const Config cfg;  // limits and the thread hook; never changes
  bool stopping = false;
  bool let_go = false;  // the threads still live at stop were detached
  uint64_t next_id = 1;
  std::list<Job> queue[2];  // per class, oldest first

  uint32_t threads = 0;  // started and not ended
  uint32_t idle = 0;     // waiting for work
  uint32_t wakeups = 0;  // notifications not yet taken by an idle thread
  uint32_t spinning = 0;     // looking for a job before they sleep
  uint32_t spin_claims = 0;  // jobs queued for the spinning to take
  // Bumped at each job queued (under mu); read with no lock by spinners.
  std::atomic<uint64_t> queued_seq{0};
  uint32_t peak = 0;
  uint32_t running[2] = {};  // per class
  uint32_t delivering = 0;   // completions being sent (stop waits)
  uint32_t turns = 0;        // process turns running (stop waits, always)
  uint64_t done[2] = {};
  uint64_t cancelled[2] = {};
  uint64_t wait_us_total[2] = {};
  uint64_t wait_us_max[2] = {};

  std::list<std::thread> live;   // running threads
  std::list<std::thread> ended;  // out of their loop: to be joined

  uint32_t running_now() const noexcept { return running[0] + running[1]; }
};

namespace {

using CoreLock = std::unique_lock<std::mutex>;

// The completion of job `id`: `m` (the job's result), or an empty message
// of `type` when there is none. Called with no lock held.
void complete(Seam& seam, uint64_t id, uint64_t reply_to, airs_msg* m,
              uint64_t type) noexcept {
  if (!m) m = msg_new_copy(type, nullptr, 0);
  if (!m) return;  // no memory even for a notice: nothing to tell
  m->correlation = id;
  m->sender = 0;
  ErrorKeep keep;  // a dead reply_to is a dead letter, not the caller's error
  if (!reply_to || seam.send(reply_to, m, nullptr) != AIRS_OK) msg_free(m);
}

// Sends a completion unless the pool has stopped (then frees it). Takes
// and gives back `lk` around the send. [mu held on entry and on return]
void deliver(JobPoolCore& c, CoreLock& lk, uint64_t id, uint64_t reply_to,
             airs_msg* m, uint64_t type) noexcept {
  Seam* seam = c.seam;
  if (!seam) {
    if (m) msg_free(m);
    return;
  }
  c.delivering++;
  lk.unlock();
  complete(*seam, id, reply_to, m, type);
  lk.lock();
  c.delivering--;
  c.quiet.notify_all();
}

// The oldest job a thread may take now, out of its queue, counted as
// running. [mu held]
bool pick(JobPoolCore& c, Job* out) noexcept {
  for (int cls = 0; cls < 2; cls++) {
    if (c.queue[cls].empty()) continue;
    if (cls == AIRS_JOB_SLOW && c.running[cls] >= c.cfg.pool_slow_max) continue;
    *out = c.queue[cls].front();
    c.queue[cls].pop_front();
    c.running[cls]++;
    auto waited = std::chrono::duration_cast<std::chrono::microseconds>(
                      Clock::now() - out->queued_at)
                      .count();
    uint64_t us = waited > 0 ? static_cast<uint64_t>(waited) : 0;
    c.wait_us_total[cls] += us;
    if (us > c.wait_us_max[cls]) c.wait_us_max[cls] = us;
    return true;
  }
  return false;
}

// Runs `job` with no lock held, then sends its completion. [mu held on
// entry and on return]
void run_job(JobPoolCore& c, CoreLock& lk, const Job& job) noexcept {
  int cls = job.spec.job_class;
  if (job.turn) {
    Seam* seam = c.seam;  // set while processes live: stop comes after
    c.turns++;
    lk.unlock();
    if (seam) seam->run_turn(job.turn);
    lk.lock();
    c.turns--;
    c.running[cls]--;
    c.done[cls]++;
    c.quiet.notify_all();
    return;
  }
  lk.unlock();
  airs_msg* result = job.spec.run(job.spec.arg);
  if (job.spec.arg_free) job.spec.arg_free(job.spec.arg);
  lk.lock();
  c.running[cls]--;
  c.done[cls]++;
  c.quiet.notify_all();
  deliver(c, lk, job.id, job.spec.reply_to, result, AIRS_MSG_JOB_DONE);
}

// Looks for a new job for kSpin, with no lock held, before the thread
// sleeps. true: one was queued meanwhile (the caller picks it). A job
// queued while threads spin is claimed for one of them rather than waking
// a sleeper (find_thread); each spinner takes back one claim as it ends,
// and then looks at the queues, so no claimed job is left behind.
// [mu held on entry and on return]
bool spin_for_work(JobPoolCore& c, CoreLock& lk) noexcept {
  if (c.stopping) return false;
  uint64_t seen = c.queued_seq.load(std::memory_order_acquire);
  c.spinning++;
  lk.unlock();
  auto until = Clock::now() + kSpin;
  bool queued = false;
  while (!queued && Clock::now() < until) {
    cpu_pause();
    queued = c.queued_seq.load(std::memory_order_acquire) != seen;
  }
  lk.lock();
  c.spinning--;
  if (c.spin_claims > 0) {
    c.spin_claims--;
    queued = true;
  }
  return queued;
}

// What a wait for work ended with.
enum class Waited {
  kWoken,  // a job was queued for this thread: look for it
  kStay,   // keepalive ran out, but the pool keeps its minimum: wait again
  kEnd     // stop began, or keepalive ran out above the minimum
};

// Waits for work until keepalive runs out. [mu held]
Waited wait_for_work(JobPoolCore& c, CoreLock& lk) noexcept {
  if (c.stopping) return Waited::kEnd;
  c.idle++;
  bool woken =
      c.work.wait_for(lk, std::chrono::milliseconds(c.cfg.pool_keepalive_ms),
                      [&] { return c.stopping || c.wakeups > 0; });
  c.idle--;
  if (c.wakeups > 0) c.wakeups--;
  if (c.stopping) return Waited::kEnd;
  if (woken) return Waited::kWoken;
  return c.threads <= c.cfg.pool_min_threads ? Waited::kStay : Waited::kEnd;
}

// A pool thread: jobs until it should end; then it hands its std::thread
// over to be joined. The thread hook hears of its end unless the pool let
// go of it at stop (its runtime may be gone by then).
void thread_main(std::shared_ptr<JobPoolCore> c,
                 std::list<std::thread>::iterator self) noexcept {
  if (c->cfg.thread_hook) c->cfg.thread_hook(c->cfg.thread_hook_data, 1);
  CoreLock lk(c->mu);
  bool spun = false;  // once per dry spell: a capped SLOW job must not
                      // keep a thread spinning
  for (;;) {
    Job job;
    if (pick(*c, &job)) {
      run_job(*c, lk, job);
      spun = false;
    } else if (!spun) {
      spun = true;
      spin_for_work(*c, lk);
    } else {
      Waited w = wait_for_work(*c, lk);
      if (w == Waited::kEnd) break;
      // Only a wake-up may be worth a spin: a minimum's thread whose
      // keepalive ran out waits again at once (it spun for nothing every
      // period, and was not idle while it did).
      spun = w == Waited::kStay;
    }
  }
  bool tell_end = !c->let_go;
  c->threads--;
  lk.unlock();
  if (tell_end && c->cfg.thread_hook)
    c->cfg.thread_hook(c->cfg.thread_hook_data, 0);
  // Last: once in `ended`, a join of this thread must not wait for user
  // code (the hook above may need what the joining thread holds).
  lk.lock();
  c->ended.splice(c->ended.end(), c->live, self);
  c->quiet.notify_all();
}

// Joins the threads that have left their loop. [mu not held]
void reap(JobPoolCore& c) noexcept {
  std::list<std::thread> done;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    done.splice(done.end(), c.ended);
  }
  for (std::thread& t : done)
    if (t.joinable()) t.join();
}

// Starts one more thread. false: it could not be started. [mu held]
bool start_thread(const std::shared_ptr<JobPoolCore>& c) noexcept;

// A job of class `cls` was queued: wakes an idle thread, or starts one; a
// slow job past its cap waits for a slow one to end, which then takes it
// itself. false: no thread at all and none can be started, so the job
// would wait for ever (the caller takes it back). [mu held]
bool find_thread(const std::shared_ptr<JobPoolCore>& c, int cls) noexcept {
  bool can_run = cls == AIRS_JOB_FAST || c->running[cls] < c->cfg.pool_slow_max;
  if (!can_run) return true;
  if (c->spinning > c->spin_claims) {
    c->spin_claims++;
    return true;
  }
  if (c->idle > c->wakeups) {
    c->wakeups++;
    c->work.notify_one();
    return true;
  }
  if (c->threads < c->cfg.pool_max_threads && !start_thread(c) &&
      c->threads == 0)
    return false;
  return true;
}

bool start_thread(const std::shared_ptr<JobPoolCore>& c) noexcept {
  try {
    c->live.emplace_back();
    auto self = std::prev(c->live.end());
    // The thread reads `self` only under mu, which is held here until
    // the std::thread is in place.
    *self = std::thread(thread_main, c, self);
  } catch (...) {
    if (!c->live.empty() && !c->live.back().joinable()) c->live.pop_back();
    return false;
  }
  c->threads++;
  if (c->threads > c->peak) c->peak = c->threads;
  return true;
}

}  // namespace

JobPool::JobPool(Seam& seam, const Config& cfg)
    : core_(std::make_shared<JobPoolCore>(seam, cfg)) {
  seam.set_turn_offload(&JobPool::offload_turn, this);
}

JobPool::~JobPool() {
  if (core_) reap(*core_);
}

airs_status JobPool::submit(const airs_job& spec, uint64_t* id) noexcept {
  JobPoolCore& c = *core_;
  reap(c);
  CoreLock lk(c.mu);
  airs_status st = AIRS_OK;
  if (c.stopping) st = fail(AIRS_ESTATE, "the runtime is shutting down");
  int cls = spec.job_class;
  if (st == AIRS_OK) {
    try {
      c.queue[cls].push_back(Job{c.next_id, spec, Clock::now()});
      c.queued_seq.fetch_add(1, std::memory_order_release);
    } catch (...) {
      st = fail(AIRS_ENOMEM, "out of memory");
    }
  }
  if (st != AIRS_OK) {
    lk.unlock();
    if (spec.arg_free) spec.arg_free(spec.arg);
    return st;
  }
  uint64_t job_id = c.next_id++;
  if (!find_thread(core_, cls)) {
    Job job = c.queue[cls].back();
    c.queue[cls].pop_back();
    lk.unlock();
    if (job.spec.arg_free) job.spec.arg_free(job.spec.arg);
    // What stops a thread from starting is memory: its list node or
    // shared state (bad_alloc), or its stack and the kernel's task
    // (pthread_create's EAGAIN). ENOMEM is what the caller is documented
    // to handle and may retry; EINTERNAL would say the runtime has a bug.
    return fail(AIRS_ENOMEM,
                "cannot start a pool thread (out of memory or threads)");
  }
  if (id) *id = job_id;
  return AIRS_OK;
}

bool JobPool::offload_turn(void* self, Process* p) noexcept {
  auto& pool = *static_cast<JobPool*>(self);
  JobPoolCore& c = *pool.core_;
  CoreLock lk(c.mu);
  if (c.stopping) return false;
  Job turn;
  turn.spec.job_class = AIRS_JOB_SLOW;
  turn.queued_at = Clock::now();
  turn.turn = p;
  try {
    c.queue[AIRS_JOB_SLOW].push_back(turn);
    c.queued_seq.fetch_add(1, std::memory_order_release);
  } catch (...) {
    return false;  // a worker runs it instead
  }
  if (!find_thread(pool.core_, AIRS_JOB_SLOW)) {
    c.queue[AIRS_JOB_SLOW].pop_back();
    return false;
  }
  return true;
}

airs_status JobPool::cancel(uint64_t id) noexcept {
  JobPoolCore& c = *core_;
  CoreLock lk(c.mu);
  for (int cls = 0; cls < 2; cls++) {
    for (auto it = c.queue[cls].begin(); it != c.queue[cls].end(); ++it) {
      if (it->id != id || it->turn) continue;
      Job job = *it;
      c.queue[cls].erase(it);
      c.cancelled[cls]++;
      lk.unlock();
      if (job.spec.arg_free) job.spec.arg_free(job.spec.arg);
      lk.lock();
      deliver(c, lk, job.id, job.spec.reply_to, nullptr,
              AIRS_MSG_JOB_CANCELLED);
      return AIRS_OK;
    }
  }
  return failf(AIRS_ENOTFOUND,
               "job %llu is not queued (running, done, or "
               "never submitted)",
               static_cast<unsigned long long>(id));
}

void JobPool::stats(airs_job_stats* out) const noexcept {
  JobPoolCore& c = *core_;
  std::lock_guard<std::mutex> lock(c.mu);
  out->threads = c.threads;
  out->threads_idle = c.idle;
  out->threads_peak = c.peak;
  for (int cls = 0; cls < 2; cls++) {
    out->queued[cls] = c.queue[cls].size();
    out->running[cls] = c.running[cls];
    out->done[cls] = c.done[cls];
    out->cancelled[cls] = c.cancelled[cls];
    out->wait_us_total[cls] = c.wait_us_total[cls];
    out->wait_us_max[cls] = c.wait_us_max[cls];
  }
}

// In phases: refuse new jobs and take the queued ones back; wait for the
// running ones until the deadline and for the deliveries under way; then
// no completion goes out any more; idle threads end and are joined, and
// the threads still stuck in a job are let go.
void JobPool::stop(Clock::time_point deadline) noexcept {
  JobPoolCore& c = *core_;
  std::list<Job> dropped;
  CoreLock lk(c.mu);
  c.stopping = true;
  for (int cls = 0; cls < 2; cls++) {
    c.cancelled[cls] += c.queue[cls].size();
    dropped.splice(dropped.end(), c.queue[cls]);
  }
  c.work.notify_all();
  lk.unlock();
  for (Job& job : dropped)
    if (job.spec.arg_free) job.spec.arg_free(job.spec.arg);
  lk.lock();

  // A process's turn uses the runtime to its last step (a process counts
  // as ended before its end is done), so it is waited for whatever the
  // deadline, as the workers are joined: only a job may be let go.
  c.quiet.wait(lk, [&] { return c.turns == 0; });
  c.quiet.wait_until(lk, deadline, [&] { return c.running_now() == 0; });
  c.quiet.wait(lk, [&] { return c.delivering == 0; });
  c.seam = nullptr;
  // Every thread not in a job is on its way out (stopping): wait until it
  // is out of the live list, its end hook done.
  c.quiet.wait(lk, [&] { return c.live.size() == c.running_now(); });
  c.let_go = true;
  for (std::thread& t : c.live) t.detach();
  lk.unlock();
  reap(c);
}

}  // namespace airs
