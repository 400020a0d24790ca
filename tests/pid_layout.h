/*
 * pid_layout.h - what the tests assume about a pid's bits, to make up pids
 * that are stale, from the future, or in slots never used. Pids are opaque
 * to hosts; this mirrors core/process/process.hpp (a core test checks that
 * the two agree): the runtime's tag (16 bits) | generation (21) | slot (27).
 */
#ifndef AIRS_TESTS_PID_LAYOUT_H
#define AIRS_TESTS_PID_LAYOUT_H

#include <airs/airs.h>
#include <stdint.h>

#define TEST_PID_SLOT_BITS 27
#define TEST_PID_GENERATION_BITS 21

static inline uint32_t test_pid_slot(airs_pid pid) {
  return (uint32_t)(pid & ((1u << TEST_PID_SLOT_BITS) - 1));
}

static inline uint32_t test_pid_generation(airs_pid pid) {
  return (uint32_t)((pid >> TEST_PID_SLOT_BITS) &
                    ((1u << TEST_PID_GENERATION_BITS) - 1));
}

/* A pid of the same runtime as `like`, for `slot` under `generation`. */
static inline airs_pid test_pid_make(airs_pid like, uint32_t slot,
                                     uint32_t generation) {
  airs_pid tag = like >> (TEST_PID_SLOT_BITS + TEST_PID_GENERATION_BITS);
  return (tag << (TEST_PID_SLOT_BITS + TEST_PID_GENERATION_BITS)) |
         ((airs_pid)generation << TEST_PID_SLOT_BITS) | slot;
}

#endif
