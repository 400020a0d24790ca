// trace_text.hpp - the trace of a seeded runtime as text, for tests that
// compare runs (tests/runtime/sched/test_seeded.cpp, tests/chaos/). Public
// C API only; no test framework.
//
// A pid's top 16 bits tell runtimes apart and differ between two runs of
// one seed, so everything printed or compared goes through local_pid().
#pragma once

#include <airs/airs.h>

#include <cinttypes>
#include <cstdio>
#include <string>

namespace trace_text {

// The part of a pid that two runs of one seed share: its low 48 bits.
inline uint64_t local_pid(airs_pid pid) {
  return pid & 0x0000FFFFFFFFFFFFull;
}

// One line per step: "7 turn 3 r2 c5 /4" (index, kind, pid, messages
// received, cost, choices) or "8 timer 3 t12 /4" (timer id).
inline void append_step(std::string& out, const airs_trace_step* s) {
  char line[128];
  int n;
  if (s->kind == AIRS_TRACE_TIMER)
    n = std::snprintf(line, sizeof line,
                      "%" PRIu64 " timer %" PRIx64 " t%" PRIu64 " /%u\n",
                      s->index, local_pid(s->pid), s->timer_id, s->choices);
  else
    n = std::snprintf(
        line, sizeof line,
        "%" PRIu64 " turn %" PRIx64 " r%" PRIu64 " c%" PRIu64 " /%u\n",
        s->index, local_pid(s->pid), s->received, s->cost, s->choices);
  out.append(line, static_cast<size_t>(n));
}

// A trace hook whose user_data is a std::string to append to.
inline void record(void* user_data, const airs_trace_step* step) {
  append_step(*static_cast<std::string*>(user_data), step);
}

}  // namespace trace_text
