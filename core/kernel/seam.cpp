// seam.cpp - the seam's entries: each hands the call to the kernel's part
// that owns it (seam.hpp says what each may be called with).
#include "kernel/seam.hpp"

#include "base/error.hpp"
#include "kernel/kernel.hpp"

namespace airs {

Process* Seam::live(uint64_t pid) const noexcept {
  return k_.processes.live(pid);
}

airs_status Seam::spawn(const SpawnArgs& a, uint64_t* out) noexcept {
  return k_.processes.spawn(a, nullptr, out);
}

bool Seam::end_held(uint64_t pid, Reason* reason) noexcept {
  return k_.processes.end_held(pid, reason);
}

uint32_t Seam::add_exit_observer(ExitObserver o) noexcept {
  return k_.processes.add_exit_observer(o);
}

Process* Seam::record(uint64_t pid) const noexcept {
  Process* p = k_.table.lookup(pid);
  return p && p->pid.load(std::memory_order_acquire) == pid ? p : nullptr;
}

bool Seam::join_if_alive(Process* p, uint32_t bit, uint64_t pid) noexcept {
  return mark_member_if_alive(p, bit, pid);
}

airs_status Seam::register_name(const char* name, uint64_t pid,
                                Process* p) noexcept {
  if (!k_.names) return fail(AIRS_EINVAL, "no naming service");
  return k_.names->add_name(name, pid, p);
}

airs_status Seam::send(uint64_t to, Msg* m, Ctx* from) noexcept {
  return k_.mail.send(to, m, from);
}

airs_status Seam::send_remote(uint64_t to, Msg* m, uint64_t sender) noexcept {
  return k_.remote.send(to, sender, m);
}

void Seam::remote_interest(const char* topic, size_t len, bool on) noexcept {
  k_.remote.interest(topic, len, on);
}

airs_status Seam::remote_publish(const char* topic, size_t len,
                                 Msg* m) noexcept {
  return k_.remote.publish(topic, len, m);
}

bool Seam::remote_carries_topics() const noexcept {
  return k_.remote.carries_topics();
}

airs_status Seam::remote_pool_member(const char* name, uint64_t pid,
                                     bool on) noexcept {
  return k_.remote.pool_member(name, pid, on);
}

uint32_t Seam::own_tag() const noexcept {
  return k_.table.tag();
}

bool Seam::foreign(uint64_t pid) const noexcept {
  return k_.table.foreign(pid);
}

bool Seam::signal(uint64_t to, Msg* m) noexcept {
  return k_.mail.signal_or_drop(to, m);
}

bool Seam::post(uint64_t to, Msg* m) noexcept {
  return k_.mail.post(to, m);
}

bool Seam::fan_out_ready(Worker* w, uint64_t stamp) noexcept {
  return k_.mail.fan_out_ready(w, stamp);
}

size_t Seam::fan_out(Worker* w, const FanOut& list, uint64_t type,
                     Payload* payload, uint64_t sender,
                     Msg** refused) noexcept {
  return k_.mail.fan_out(w, list, type, payload, sender, refused);
}

void Seam::flush(Worker* w) noexcept {
  k_.mail.flush(w);
}

airs_status Seam::exit_signal(uint64_t to, airs_exit_kind kind, int32_t code,
                              const char* text, uint64_t from) noexcept {
  return k_.signals.exit_signal(to, kind, code, text, from);
}

bool Seam::probe_health(uint64_t pid, uint64_t from, uint64_t round) noexcept {
  return k_.signals.probe_health(pid, from, round);
}

airs_status Seam::watch(uint64_t watcher, uint64_t target,
                        uint64_t* ref) noexcept {
  return k_.signals.watch(watcher, target, ref);
}

airs_status Seam::monitor(Ctx* c, uint64_t target, uint64_t* ref) noexcept {
  return k_.signals.monitor(c, target, ref);
}

void Seam::demonitor(Ctx* c, uint64_t ref) noexcept {
  k_.signals.demonitor(c, ref);
}

uint64_t Seam::timer_add(uint64_t to, uint64_t delay_ms, Msg* m,
                         TimerService::Filter filter) noexcept {
  return k_.timers.add(to, delay_ms, m, filter);
}

void Seam::timer_cancel(uint64_t id) noexcept {
  k_.timers.cancel_and_free(id);
}

uint64_t Seam::now_ms() const noexcept {
  return k_.timers.now_ms();
}

void Seam::set_turn_offload(bool (*fn)(void* ctx, Process* p) noexcept,
                            void* ctx) noexcept {
  k_.sched.set_offload(fn, ctx);
}

void Seam::run_turn(Process* p) noexcept {
  Turns::run(&k_.turns, p, nullptr);
}

void Seam::set_host_io(PollHook* hook, WakeFd* wake) noexcept {
  k_.poll_hook.store(hook, std::memory_order_release);
  k_.sched.set_host_wake(wake);
  k_.timers.set_host_wake(wake);
}

void Seam::set_io(const IoHooks* io) noexcept {
  k_.sched.set_io(io);
}

bool Seam::host_has_work() noexcept {
  return k_.sched.host_has_work();
}

int64_t Seam::next_timer_ms() noexcept {
  return k_.timers.next_due_ms();
}

bool Seam::wants_events() const noexcept {
  return k_.observer.wants_events();
}

const Observer& Seam::observer() const noexcept {
  return k_.observer;
}

void Seam::dead_letter(Msg* m, airs_dead_letter_reason reason) noexcept {
  k_.observer.dead_letter(m, reason);
}

bool Seam::wants_events(airs_severity severity) const noexcept {
  return k_.observer.wants_events(severity);
}

void Seam::count_intensity_reached() noexcept {
  k_.observer.count_intensity_reached();
}

void Seam::count_restart() noexcept {
  k_.observer.count_restart();
}

Ctx* Seam::current_ctx() const noexcept {
  return current_ctx_in(&k_);
}

Worker* Seam::local_worker() const noexcept {
  return k_.sched.local_worker();
}

uint64_t Seam::seed() const noexcept {
  return k_.cfg.seed;
}

bool Seam::manual_clock() const noexcept {
  return k_.cfg.clock_is_manual();
}

bool Seam::threaded() const noexcept {
  return k_.threaded();
}

airs_status Seam::poll(uint32_t budget, uint32_t* ran) noexcept {
  return k_.poll(budget, ran);
}

bool Seam::shutting_down() const noexcept {
  return k_.stopping();
}

}  // namespace airs
