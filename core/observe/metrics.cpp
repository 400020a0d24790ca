// metrics.cpp - the runtime's metrics in Prometheus text exposition format
// (0.0.4): a HELP and a TYPE line per family, then its samples. Every
// value is a counter the runtime keeps anyway (per worker where it is
// written per message, so that nothing here costs a message anything), or
// a gauge read now.
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "kernel/kernel.hpp"
#include "observe/observe.hpp"
#include "observe/timing.hpp"

namespace airs {

namespace {

class Exposition {
 public:
  // A family's HELP and TYPE lines.
  void family(const char* name, const char* type, const char* help) {
    printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
  }
  void sample(const char* name, uint64_t v) {
    printf("%s %" PRIu64 "\n", name, v);
  }
  void sample(const char* name, const char* label, const char* value,
              uint64_t v) {
    printf("%s{%s=\"%s\"} %" PRIu64 "\n", name, label, value, v);
  }
  void seconds(const char* name, const char* label, const char* value,
               uint64_t ns) {
    printf("%s{%s=\"%s\"} %" PRIu64 ".%09" PRIu64 "\n", name, label, value,
           ns / 1000000000u, ns % 1000000000u);
  }
  // A family with one sample per label value: value(i) for names[i],
  // first <= i < end.
  template <class Value>
  void by_label(const char* name, const char* type, const char* help,
                const char* label, const char* const* names, int first, int end,
                Value value) {
    family(name, type, help);
    for (int i = first; i < end; i++) sample(name, label, names[i], value(i));
  }
  // One-sample families.
  void counter(const char* name, const char* help, uint64_t v) {
    family(name, "counter", help);
    sample(name, v);
  }
  void gauge(const char* name, const char* help, uint64_t v) {
    family(name, "gauge", help);
    sample(name, v);
  }
  // The exposition, moved out: the Exposition is done.
  std::string take() { return std::move(text_); }

  // Appends a line (or part of one); throws std::bad_alloc.
  void printf(const char* format, ...) __attribute__((format(printf, 2, 3))) {
    char line[256];
    va_list args;
    va_start(args, format);
    int n = std::vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (n <= 0) return;
    if (static_cast<size_t>(n) < sizeof line) {
      text_.append(line, n);
      return;
    }
    size_t at = text_.size();  // a long label value: format in place
    text_.resize(at + n + 1);
    va_start(args, format);
    std::vsnprintf(&text_[at], n + 1, format, args);
    va_end(args);
    text_.resize(at + n);
  }

 private:
  std::string text_;
};

// The label values, by the enums' numbers.
const char* const kExitKinds[] = {"normal", "shutdown", "killed",
                                  "error",  "noproc",   "noconnection"};
const char* const kDeadLetterReasons[] = {
    "other",          "mailbox_full", "exited",     "timer",
    "no_subscribers", "noproc",       "late_reply", "noconnection"};
static_assert(sizeof kExitKinds / sizeof *kExitKinds == Observer::kExitKinds);
static_assert(sizeof kDeadLetterReasons / sizeof *kDeadLetterReasons ==
              Observer::kDeadLetterReasons);
const char* const kJobClasses[] = {"fast", "slow"};

void write_processes(Exposition& x, const airs_runtime_stats& s,
                     const Observer& o) {
  x.gauge("airs_processes", "Processes alive.", s.processes_alive);
  x.counter("airs_processes_spawned_total", "Processes spawned.",
            s.processes_spawned);
  x.by_label("airs_process_exits_total", "counter",
             "Processes that ended, by the kind of their exit reason.",
             "reason", kExitKinds, 0, Observer::kExitKinds,
             [&](int i) { return o.exits_by_kind(i); });
}

void write_messages(Exposition& x, const airs_runtime_stats& s,
                    const Observer& o) {
  x.counter("airs_messages_sent_total",
            "User messages accepted into a mailbox.", s.messages_sent);
  x.counter("airs_messages_delivered_total", "User messages handed to receive.",
            s.messages_delivered);
  x.counter("airs_messages_dropped_total",
            "Messages refused or dropped by a full mailbox.",
            s.messages_dropped);
  x.by_label("airs_dead_letters_total", "counter",
             "Messages nobody received, by reason.", "reason",
             kDeadLetterReasons, 1, Observer::kDeadLetterReasons,
             [&](int i) { return o.dead_letters_by_reason(i); });
}

void write_supervision(Exposition& x, const airs_runtime_stats& s,
                       const Observer& o) {
  x.counter("airs_supervisor_restarts_total", "Children restarted.",
            s.restarts);
  x.counter("airs_supervisor_intensity_reached_total",
            "Times a supervisor reached its restart intensity and ended.",
            o.intensity_reached());
}

void write_workers(Exposition& x, const Scheduler& sched) {
  if (!sched.threaded()) return;  // the host's polls are its own time
  uint32_t n = sched.worker_count();
  Scheduler::WorkerLoad load[1024];
  for (uint32_t i = 0; i < n && i < 1024; i++) load[i] = sched.worker_load(i);
  char id[16];
  x.family("airs_worker_busy_seconds_total", "counter",
           "Time each worker spent with work to do (not spinning or parked).");
  for (uint32_t i = 0; i < n && i < 1024; i++) {
    std::snprintf(id, sizeof id, "%u", i);
    x.seconds("airs_worker_busy_seconds_total", "worker", id, load[i].busy_ns);
  }
  x.family("airs_worker_steals_total", "counter",
           "Runnable processes each worker took from another's queue.");
  for (uint32_t i = 0; i < n && i < 1024; i++) {
    std::snprintf(id, sizeof id, "%u", i);
    x.sample("airs_worker_steals_total", "worker", id, load[i].steals);
  }
}

void write_io(Exposition& x, Runtime& rt) {
  airs_job_stats j{};
  j.version = AIRS_JOB_STATS_VERSION;
  j.size = sizeof j;
  rt.jobs().stats(&j);
  x.gauge("airs_blocking_pool_threads", "Threads of the blocking pool.",
          j.threads);
  x.by_label("airs_blocking_pool_queued", "gauge",
             "Jobs waiting for a pool thread, by class.", "class", kJobClasses,
             0, 2, [&](int c) { return j.queued[c]; });
  x.by_label("airs_blocking_pool_running", "gauge",
             "Jobs running on a pool thread, by class.", "class", kJobClasses,
             0, 2, [&](int c) { return j.running[c]; });
  x.by_label("airs_blocking_pool_jobs_total", "counter",
             "Jobs that ran to their end, by class.", "class", kJobClasses, 0,
             2, [&](int c) { return j.done[c]; });
  x.family("airs_blocking_pool_wait_seconds_total", "counter",
           "Time the started jobs waited in the queue, by class.");
  for (int c = 0; c < 2; c++)
    x.seconds("airs_blocking_pool_wait_seconds_total", "class", kJobClasses[c],
              j.wait_us_total[c] * 1000);
  x.gauge("airs_sockets_open", "Sockets open (owned by processes).",
          rt.sockets().count());
}

// The length of the UTF-8 sequence at s[i] (of n bytes), or 0 when it is
// not one (a name may hold any bytes; a label value must be UTF-8).
size_t utf8_length(const unsigned char* s, size_t i, size_t n) noexcept {
  unsigned char c = s[i];
  size_t len = c < 0x80           ? 1
               : (c >> 5) == 0x6  ? 2
               : (c >> 4) == 0xE  ? 3
               : (c >> 3) == 0x1E ? 4
                                  : 0;
  if (len == 0 || i + len > n) return 0;
  for (size_t k = 1; k < len; k++)
    if ((s[i + k] & 0xC0) != 0x80) return 0;
  return len;
}

// A label value as the text format wants it: \\, \" and \n escaped, and
// each byte that is not UTF-8 written as '?'.
std::string label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  auto* s = reinterpret_cast<const unsigned char*>(v.data());
  for (size_t i = 0; i < v.size();) {
    size_t len = utf8_length(s, i, v.size());
    if (len == 0) {
      out += '?';
      i++;
      continue;
    }
    char ch = v[i];
    if (ch == '\\' || ch == '"') out += '\\';
    if (ch == '\n')
      out += "\\n";
    else
      out.append(v, i, len);
    i += len;
  }
  return out;
}

// One histogram family with a series per timed name (each Series's name
// already a label value): cumulative buckets up to +Inf, then the sum and
// the count.
void write_histogram(Exposition& x, const char* family, const char* help,
                     const std::vector<Timing::Series>& all,
                     airs_timing_histogram airs_timing::*which) {
  x.family(family, "histogram", help);
  for (const Timing::Series& s : all) {
    const airs_timing_histogram& h = s.t.*which;
    const char* name = s.name.c_str();
    uint64_t below = 0;
    for (int i = 0; i < AIRS_TIMING_BUCKETS; i++) {
      below += h.buckets[i];
      if (i < AIRS_TIMING_BUCKETS - 1)
        x.printf("%s_bucket{name=\"%s\",le=\"%.9g\"} %" PRIu64 "\n", family,
                 name, AIRS_TIMING_BOUND_NS(i) / 1e9, below);
      else
        x.printf("%s_bucket{name=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", family,
                 name, below);
    }
    x.printf("%s_sum{name=\"%s\"} %" PRIu64 ".%09" PRIu64 "\n", family, name,
             h.sum_ns / 1000000000u, h.sum_ns % 1000000000u);
    x.printf("%s_count{name=\"%s\"} %" PRIu64 "\n", family, name, h.count);
  }
}

void write_timing(Exposition& x, const Timing& timing) {
  x.counter("airs_timing_names_refused_total",
            "Names that matched a timing pattern when AIRS_TIMING_NAMES_MAX "
            "names had histograms already.",
            timing.names_refused());
  std::vector<Timing::Series> all;
  timing.series(&all);
  if (all.empty()) return;
  // The copies' names become their label values, escaped once for the
  // three families.
  for (Timing::Series& s : all) s.name = label_value(s.name);
  write_histogram(x, "airs_process_mailbox_wait_seconds",
                  "Time each message of a timed process waited from its "
                  "send to its receive.",
                  all, &airs_timing::wait);
  write_histogram(x, "airs_process_processing_seconds",
                  "Time each receive call of a timed process took.", all,
                  &airs_timing::run);
  x.family("airs_process_mailbox_wait_unmeasured_total", "counter",
           "Messages of a timed process sent while AIRS_TIMING_STAMPS_MAX "
           "of its messages were being timed already.");
  for (const Timing::Series& s : all)
    x.printf("airs_process_mailbox_wait_unmeasured_total{name=\"%s\"} %" PRIu64
             "\n",
             s.name.c_str(), s.t.wait_unmeasured);
}

}  // namespace

airs_status metrics_write(Runtime& rt, char* buf, size_t cap,
                          size_t* len) noexcept {
  Kernel& k = rt.kernel();
  WorkerCounts w;
  k.sched.add_counters(&w);
  airs_runtime_stats s{};
  k.observer.stats(w, &s);
  Exposition x;
  std::string text;
  try {
    write_processes(x, s, k.observer);
    write_messages(x, s, k.observer);
    write_supervision(x, s, k.observer);
    write_workers(x, k.sched);
    write_io(x, rt);
    write_timing(x, rt.timing());
    text = x.take();
    if (airs_status st = rt.metrics_sources().write(&text); st != AIRS_OK)
      return st;
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
  *len = text.size();
  if (cap < text.size() + 1)
    return failf(AIRS_EFULL, "the buffer is too small: %zu bytes needed",
                 text.size() + 1);
  std::memcpy(buf, text.data(), text.size() + 1);
  return AIRS_OK;
}

}  // namespace airs
